/*
 * enqueue - what the enqueue daemon's files share.
 *
 *	enqueue_main.c		start-up, signals, the event loop
 *	enqueue.c		the ENQUEUE conversation of proto.h: one
 *				channel per smtpd process, messages by id
 *	enqueue_notify.c	telling qmgr about each new queue file
 */
#ifndef POSTERN_QMGR_ENQUEUE_H
#define POSTERN_QMGR_ENQUEUE_H

#include <sys/queue.h>
#include <time.h>

#include "common/config.h"

struct event_base;
struct channel;
struct econn;

struct enqueue {
	struct event_base *base;
	const struct config *cfg;
	int incoming_fd;		/* incoming/, where new files are made */
	int open_files;			/* messages holding a temporary file */
	TAILQ_HEAD(, econn) conns;

	struct channel *qmgr;		/* NULL until connected */
	time_t qmgr_retry_at;		/* no reconnect attempt before this */
};

void enqueue_init(struct enqueue *eq, struct event_base *base,
    const struct config *cfg, int incoming_fd);
void enqueue_on_connection(int fd, void *arg);
/* Fails messages that have been silent too long; called by a timer. */
void enqueue_sweep(struct enqueue *eq);
/* Aborts every open message and closes every channel. */
void enqueue_shutdown(struct enqueue *eq);
/* Removes temporary files left by a predecessor that died mid-message. */
void enqueue_remove_stale(int incoming_fd);

void enqueue_notify(struct enqueue *eq, const char *queue_id);
void enqueue_notify_close(struct enqueue *eq);

#endif
