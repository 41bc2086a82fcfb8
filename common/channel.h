/*
 * channel - framed, event-driven messages between Postern processes.
 *
 * SYNOPSIS
 *	ch = channel_new(base, fd, on_message, on_close, arg);
 *	channel_send(ch, &body, -1);		// or an fd to pass along
 *	...
 *	static void on_message(struct channel *ch, struct attr_list *msg,
 *	    int fd, void *arg);		// fd is -1 or a received fd we now own
 *
 *	fd = service_connect("enqueue");	// a new channel to a service
 *
 * DESCRIPTION
 *	A channel wraps one connected AF_UNIX stream socket.  Frames are those
 *	of attr.h; a frame may carry one file descriptor (SCM_RIGHTS), which is
 *	how qmgr hands a queue file to a delivery agent.  Reads use recvmsg so
 *	passed descriptors are never dropped.  Output is queued in memory and
 *	written as the socket allows; channel_send() never blocks.
 *
 *	Requests carry an "id" attribute chosen by the sender and replies
 *	repeat it, so many sessions share one channel and no session blocks on
 *	another process.
 *
 *	on_message's msg and the frame it points into are valid only during
 *	the callback.  on_close is called once when the peer goes away or
 *	sends garbage (logged); the callback must then channel_free() it.
 *
 *	service_connect() asks the master, over the inherited master channel
 *	(fd SERVICE_MASTER_FD), for a fresh connection to the named service.
 *	The master checks that this role may talk to that service, connects
 *	and passes the socket back.  It works inside any chroot, and again
 *	after the peer service has been restarted.  It blocks for at most a
 *	few seconds, so call it at start-up or on reconnect, not per message.
 *
 *	channel_call() is the blocking request/reply used by command-line
 *	tools and at start-up.
 */
#ifndef POSTERN_CHANNEL_H
#define POSTERN_CHANNEL_H

#include <stddef.h>

#include "common/attr.h"
#include "common/buf.h"

struct event_base;
struct channel;

typedef void (*channel_message_cb)(struct channel *ch, struct attr_list *msg,
    int fd, void *arg);
typedef void (*channel_close_cb)(struct channel *ch, void *arg);

struct channel *channel_new(struct event_base *base, int fd,
    channel_message_cb on_message, channel_close_cb on_close, void *arg);
/* Queues one frame.  pass_fd (if not -1) is dup'ed: the caller keeps it. */
void channel_send(struct channel *ch, const struct buf *body, int pass_fd);
size_t channel_output_pending(const struct channel *ch);
int channel_fd(const struct channel *ch);
void channel_free(struct channel *ch);	/* closes the socket */

/* Blocking helpers, for command-line tools and start-up. */
int channel_write_frame(int fd, const struct buf *body, int pass_fd);
/* Reads one frame into *frame and decodes it into *msg (pointing into
 * *frame).  *fd_out gets a passed fd or -1.  timeout_ms < 0 waits forever.
 * Returns 0, or -1 with errno (ETIMEDOUT, EPROTO, ECONNRESET ...). */
int channel_read_frame(int fd, struct buf *frame, struct attr_list *msg,
    int *fd_out, int timeout_ms);
int channel_call(int fd, const struct buf *req, struct buf *frame,
    struct attr_list *reply, int *fd_out, int timeout_ms);

#define SERVICE_MASTER_FD 3

int service_connect(const char *service);
/* A blocking request to the master: req holds the attributes but "id",
 * which this adds.  Returns 0 with the matching reply, or -1. */
int service_call_master(const struct buf *req, struct buf *frame,
    struct attr_list *reply, int *fd_out);

#endif
