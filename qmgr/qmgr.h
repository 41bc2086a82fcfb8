/*
 * qmgr - what the queue manager's files share.
 *
 *	qmgr_main.c	start-up, signals, timers, the event loop
 *	recover.c	the queue directories: recovery at start, claiming
 *			new files from incoming/, moving to corrupt/
 *	schedule.c	the ready list, deferred/ and its retry times
 *	dispatch.c	the channel to local: deliveries and their results
 *	listen.c	the private socket: notes from enqueue
 *
 * A message is in exactly one of these places, and its directory says
 * which: incoming/ (committed, not yet seen), active/ (ours: waiting in
 * the ready list or in flight), deferred/ (waiting for its retry time,
 * which is the file's mtime).  Memory only mirrors active/: after a crash
 * active/ is the list of messages whose delivery may have happened
 * without its result being recorded.
 */
#ifndef POSTERN_QMGR_QMGR_H
#define POSTERN_QMGR_QMGR_H

#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "common/queue_file.h"

struct event;
struct event_base;
struct channel;
struct arena;
struct config;

/* A message in active/ waiting for its turn. */
struct qentry {
	char id[QUEUE_ID_LEN + 1];
	int maybe_delivered;	/* an attempt's outcome may be unrecorded */
	int lost;		/* deliveries cut short by a local crash */
	size_t first_rcpt;	/* a request starts here (see dispatch.c) */
	TAILQ_ENTRY(qentry) link;
};

/* A message in flight to local. */
struct delivery {
	struct qentry *qe;
	uint64_t req_id;
	int fd;				/* the queue file, read-write */
	struct arena *arena;		/* env's strings; freed with us */
	struct queue_envelope env;
	char *sent;			/* per recipient: 1 if in the request */
	char *answered;			/* per recipient: result recorded */
	size_t resume;			/* first recipient left for next time */
	time_t started;
	TAILQ_ENTRY(delivery) link;
};

TAILQ_HEAD(qentry_list, qentry);
TAILQ_HEAD(delivery_list, delivery);

struct qmgr {
	struct event_base *base;
	const struct config *cfg;

	struct qentry_list ready;
	size_t nready;
	struct delivery_list inflight;
	int ninflight;
	uint64_t next_req_id;

	struct channel *local;		/* NULL while disconnected */
	struct event *local_retry;	/* reconnect timer */
	int local_backoff;		/* seconds until the next try */

	struct event *scan_timer;	/* incoming/ */
	struct event *deferred_timer;	/* deferred/ */
	time_t deferred_next;		/* when deferred_timer fires */
	struct event *watchdog;		/* deliveries that take too long */
	int stopping;
};

/* recover.c */
size_t recover_list(const char *dir, char ***ids);	/* sorted queue ids */
void recover_list_free(char **ids, size_t n);
void recover_all(struct qmgr *q);
void recover_scan_incoming(struct qmgr *q);
int recover_claim(struct qmgr *q, const char *id);
void recover_corrupt(const char *dir, const char *id, const char *why);
int recover_move(const char *from, const char *to, const char *id);

/* schedule.c */
void schedule_init(struct qmgr *q);
struct qentry *schedule_add(struct qmgr *q, const char *id, int maybe_delivered);
void schedule_push_front(struct qmgr *q, struct qentry *qe);
struct qentry *schedule_pop(struct qmgr *q);
void schedule_free(struct qentry *qe);
time_t schedule_next_attempt(const struct config *cfg, int attempts, time_t now);
void schedule_defer(struct qmgr *q, struct qentry *qe, int fd, int attempts);
void schedule_scan_deferred(struct qmgr *q);
void schedule_shutdown(struct qmgr *q);	/* frees the ready list */

/* dispatch.c */
void dispatch_init(struct qmgr *q);
void dispatch_run(struct qmgr *q);
void dispatch_connect(struct qmgr *q);
void dispatch_watchdog(struct qmgr *q);
void dispatch_shutdown(struct qmgr *q);

/* listen.c */
void listen_on_connection(int fd, void *arg);
void listen_shutdown(void);

/* qmgr_main.c: scan incoming/ and deferred/ now */
void qmgr_flush(void *arg);

#endif
