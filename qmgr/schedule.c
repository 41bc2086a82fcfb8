/*
 * schedule - when each message gets its next turn.
 *
 * SYNOPSIS
 *	schedule_add(q, id, maybe_delivered);	// now, at the back
 *	qe = schedule_pop(q);			// the next one to deliver
 *	schedule_defer(q, qe, fd, attempts);	// later: active/ -> deferred/
 *	schedule_scan_deferred(q);		// due ones back to active/
 *
 * DESCRIPTION
 *	The ready list is the messages in active/ waiting for a delivery
 *	slot, first come first served.  It holds ids only; the file is opened
 *	and parsed when the message's turn comes, so a large backlog costs a
 *	few dozen bytes a message.
 *
 *	A deferred message's next attempt time is the mtime of its file in
 *	deferred/, so the schedule survives any restart without a file of
 *	its own, and `ls -l deferred/` shows it.  The wait is retry_min,
 *	doubling with each attempt, at most retry_max, with up to 10% of
 *	jitter so that messages deferred together (a mailbox over quota for
 *	an hour) do not all come back in the same second.
 *
 *	deferred/ is scanned when the earliest known retry time comes, and at
 *	least every DEFERRED_RESCAN_SEC, which also notices files put there by
 *	hand (`postern queue` tools).
 *
 * DIAGNOSTICS
 *	Failing to set the retry time is logged; the message then comes back
 *	at the next scan, which is early, not lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>

#include "common/config.h"
#include "common/log.h"
#include "common/mem.h"
#include "qmgr/qmgr.h"

#define DEFERRED_RESCAN_SEC 60
#define JITTER_PERCENT 10

static void
schedule_on_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	schedule_scan_deferred(arg);
	dispatch_run(arg);
}

void
schedule_init(struct qmgr *q)
{
	TAILQ_INIT(&q->ready);
	q->nready = 0;
	q->deferred_timer = evtimer_new(q->base, schedule_on_deferred, q);
	q->deferred_next = 0;
}

struct qentry *
schedule_add(struct qmgr *q, const char *id, int maybe_delivered)
{
	struct qentry *qe = xcalloc(1, sizeof *qe);

	memcpy(qe->id, id, QUEUE_ID_LEN);
	qe->id[QUEUE_ID_LEN] = '\0';
	qe->maybe_delivered = maybe_delivered;
	TAILQ_INSERT_TAIL(&q->ready, qe, link);
	q->nready++;
	return qe;
}

/* For a message whose turn was cut short: it goes first next time. */
void
schedule_push_front(struct qmgr *q, struct qentry *qe)
{
	TAILQ_INSERT_HEAD(&q->ready, qe, link);
	q->nready++;
}

struct qentry *
schedule_pop(struct qmgr *q)
{
	struct qentry *qe = TAILQ_FIRST(&q->ready);

	if (qe) {
		TAILQ_REMOVE(&q->ready, qe, link);
		q->nready--;
	}
	return qe;
}

void
schedule_free(struct qentry *qe)
{
	free(qe);
}

time_t
schedule_next_attempt(const struct config *cfg, int attempts, time_t now)
{
	long long wait = cfg->retry_min > 0 ? cfg->retry_min : 1;
	long long most = cfg->retry_max > wait ? cfg->retry_max : wait;
	long long jitter;

	for (int i = 1; i < attempts && wait < most; i++)
		wait *= 2;
	if (wait > most)
		wait = most;
	jitter = wait * JITTER_PERCENT / 100;
	if (jitter > 0)
		wait += random() % (2 * jitter + 1) - jitter;
	return now + (wait > 0 ? wait : 1);
}

/* Makes the deferred timer fire no later than `when'. */
static void
schedule_wake_at(struct qmgr *q, time_t when)
{
	time_t now = time(NULL);
	struct timeval tv = { 1, 0 };

	if (q->deferred_next != 0 && q->deferred_next <= when &&
	    evtimer_pending(q->deferred_timer, NULL))
		return;
	if (when > now)
		tv.tv_sec = when - now;
	q->deferred_next = now + tv.tv_sec;
	evtimer_add(q->deferred_timer, &tv);
}

void
schedule_defer(struct qmgr *q, struct qentry *qe, int fd, int attempts)
{
	time_t now = time(NULL);
	time_t when = schedule_next_attempt(q->cfg, attempts, now);
	struct timespec times[2] = { { now, 0 }, { when, 0 } };

	if (futimens(fd, times) < 0)
		log_warn("%s: cannot set the retry time: %s", qe->id,
		    strerror(errno));
	if (recover_move("active", "deferred", qe->id) < 0)
		log_warn("%s: cannot move to deferred/: %s; it stays in active/ "
		    "until qmgr restarts", qe->id, strerror(errno));
	else
		schedule_wake_at(q, when);
	schedule_free(qe);
}

/* One file in deferred/: back to active/ if due, else its time. */
static time_t
schedule_check_deferred(struct qmgr *q, const char *id, time_t now)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "deferred/%s", id);
	if (stat(path, &st) < 0)
		return 0;	/* gone meanwhile (a `postern queue` tool) */
	if (st.st_mtime > now)
		return st.st_mtime;
	if (recover_move("deferred", "active", id) == 0)
		schedule_add(q, id, 0);
	else if (errno == EEXIST)
		log_warn("%s: in active/ and deferred/ at once; left in "
		    "deferred/ for a person to look at", id);
	return 0;
}

void
schedule_shutdown(struct qmgr *q)
{
	struct qentry *qe;

	while ((qe = schedule_pop(q)) != NULL)
		schedule_free(qe);
	event_free(q->deferred_timer);
}

void
schedule_scan_deferred(struct qmgr *q)
{
	time_t now = time(NULL), next = now + DEFERRED_RESCAN_SEC;
	char **ids;
	size_t n = recover_list("deferred", &ids);

	for (size_t i = 0; i < n; i++) {
		time_t t = schedule_check_deferred(q, ids[i], now);
		if (t != 0 && t < next)
			next = t;
	}
	recover_list_free(ids, n);
	q->deferred_next = 0;
	schedule_wake_at(q, next);
}
