/*
 * peer - a channel to another Postern service that outlives the service's
 * restarts, with a table of requests awaiting their replies.
 *
 * SYNOPSIS
 *	p = peer_new(base, "lookup", service_connect("lookup"));
 *
 *	uint64_t id = peer_new_id(p);
 *	attr_put(&body, "op", "user");
 *	attr_put_u64(&body, "id", id);
 *	if (peer_call(p, id, &body, PROTO_TIMEOUT_MS, on_reply, arg) < 0)
 *		...the service is down: answer 451 now...
 *	static void on_reply(void *arg, struct attr_list *reply);
 *	peer_cancel(p, id);		// the requester went away first
 *
 *	peer_send(p, &body);		// a frame that gets no reply
 *
 * DESCRIPTION
 *	A peer owns one channel (common/channel.h).  Replies are matched to
 *	calls by their "id"; the callback runs from the event loop, never
 *	from inside peer_call(), so a caller is never re-entered.
 *
 *	When the channel closes (the service crashed or was restarted), every
 *	call in flight gets its callback with reply NULL, and the peer asks
 *	the master for a new connection (service_connect) every second at
 *	first, backing off to PEER_RETRY_MAX_S.  Until then peer_call() and
 *	peer_send() return -1 and nothing is queued, so callers answer 451
 *	4.3.0 instead of waiting.  peer_generation() changes with every new
 *	connection, so a conversation of several frames (enqueue's begin,
 *	data, end) can tell that its other end forgot it.
 *
 *	A call not answered within its timeout also gets reply NULL; a reply
 *	arriving later is ignored.  peer_backlog() is the output the channel
 *	has not written yet, for flow control.
 */
#ifndef POSTERN_SMTPD_PEER_H
#define POSTERN_SMTPD_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "common/attr.h"
#include "common/buf.h"

#define PEER_RETRY_MAX_S	10

struct event_base;
struct peer;

/* reply is NULL when the channel was lost or the call timed out. */
typedef void (*peer_reply_fn)(void *arg, struct attr_list *reply);

/* fd: a connected socket, or -1 to start by reconnecting. */
struct peer *peer_new(struct event_base *base, const char *service, int fd);
void peer_free(struct peer *p);

int peer_up(const struct peer *p);
unsigned peer_generation(const struct peer *p);
uint64_t peer_new_id(struct peer *p);
size_t peer_backlog(const struct peer *p);

int peer_send(struct peer *p, const struct buf *body);
int peer_call(struct peer *p, uint64_t id, const struct buf *body,
    int timeout_ms, peer_reply_fn fn, void *arg);
void peer_cancel(struct peer *p, uint64_t id);

#endif
