/*
 * dispatch - hand messages to local and record what became of them.
 *
 * SYNOPSIS
 *	dispatch_init(q);
 *	dispatch_connect(q);	// at start; again by itself after a loss
 *	dispatch_run(q);	// whenever the ready list or a slot changed
 *
 * DESCRIPTION
 *	At most local_concurrency messages are in flight.  For each, the
 *	queue file is opened read-write for us and read-only for local, and
 *
 *		op=deliver id queue_id rcpt=INDEX... [maybe_delivered=1]
 *
 *	goes out with the read-only descriptor attached.  maybe_delivered is
 *	set when an earlier attempt's outcome may not have been recorded:
 *	the message was found in active/ at start, local died while holding
 *	it, or a recipient already has attempts behind it.  local then
 *	looks for its earlier copy, which is what makes delivery exactly
 *	once although the queue is only at-least-once.
 *
 *	Each "INDEX STATUS TEXT" result is written into the queue file in
 *	place (one attempt more, now), the whole answer made durable with
 *	one fdatasync, and logged the Postfix way:
 *
 *		ID: to=<a@b>, relay=local, delay=1.2, dsn=2.0.0, status=sent (...)
 *
 *	Then, with no recipient pending the file is removed ("ID: removed");
 *	with some pending it goes to deferred/ for its retry time, unless it
 *	is older than queue_lifetime: then the pending recipients become
 *	bounced (dsn 4.4.7, status=expired) and the file is removed.
 *
 *	NOT YET: bounced recipients are owed a delivery status notification
 *	to the sender (RFC 3464).  Until DSN generation exists, a bounce is
 *	logged (status=bounced / status=expired) and the file is removed
 *	when nothing is pending; the later version will queue the DSN and
 *	mark the recipients N before removing the file (queue_file_done()).
 *
 *	If the channel to local closes, or a delivery takes longer than
 *	DISPATCH_TIMEOUT_SEC (the channel is then closed, since one request
 *	cannot be cancelled alone), every message in flight goes back to the
 *	front of the ready list flagged maybe_delivered, and the channel is
 *	re-opened through the master with a growing pause (local is being
 *	restarted).  A message during which local died DISPATCH_LOST_MAX
 *	times is deferred instead, so one poisonous message cannot keep
 *	local crashing.
 *
 * DIAGNOSTICS
 *	A queue file that does not parse goes to corrupt/.  A status that
 *	cannot be written to the queue file is fatal: the environment is
 *	broken, and after the restart the message is in active/, hence
 *	retried with maybe_delivered.  A malformed answer from local is
 *	logged; the recipients it leaves unanswered stay pending.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/attr.h"
#include "common/channel.h"
#include "common/config.h"
#include "common/log.h"
#include "common/mem.h"
#include "qmgr/qmgr.h"

/* Recipients named in one request; a frame holds at most ATTR_MAX attrs. */
#define DISPATCH_RCPT_MAX 1000
#define DISPATCH_TIMEOUT_SEC 600
#define DISPATCH_LOST_MAX 3
#define LOCAL_BACKOFF_MAX 30

static void dispatch_local_lost(struct qmgr *q, const char *why);

static void
dispatch_on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dispatch_connect(arg);
}

void
dispatch_init(struct qmgr *q)
{
	TAILQ_INIT(&q->inflight);
	q->ninflight = 0;
	q->local = NULL;
	q->local_backoff = 1;
	q->local_retry = evtimer_new(q->base, dispatch_on_retry, q);
}

/* ---------------------------------------------------------------- */
/* Logging                                                           */

/* Seconds since arrival, to the tenth: the id holds the microsecond. */
static double
dispatch_delay(const struct queue_envelope *env)
{
	struct timeval now;
	unsigned long long us = strtoull(env->id, NULL, 16);

	gettimeofday(&now, NULL);
	double t = (double)now.tv_sec + now.tv_usec / 1e6;
	double arrived = us ? (double)us / 1e6 : (double)env->arrival;
	return t > arrived ? t - arrived : 0.0;
}

/* "451 4.2.0 text": dsn "4.2.0", rest "text"; a bare text gets the
 * status's generic dsn. */
static const char *
dispatch_split_reply(const char *text, char status, char dsn[16])
{
	const char *p = text;
	size_t n;

	if (p[0] >= '2' && p[0] <= '5' && strspn(p, "0123456789") == 3 &&
	    (p[3] == ' ' || p[3] == '-'))
		p += 4;
	n = strspn(p, "0123456789.");
	if (n >= 5 && n < 16 && p[0] == text[0] && p[1] == '.' &&
	    (p[n] == ' ' || p[n] == '\0')) {
		memcpy(dsn, p, n);
		dsn[n] = '\0';
		p += n;
		while (*p == ' ')
			p++;
		return p;
	}
	snprintf(dsn, 16, "%c.0.0", status == RCPT_DELIVERED ? '2' :
	    status == RCPT_BOUNCED ? '5' : '4');
	return p;
}

static void
dispatch_log(const struct delivery *d, const struct queue_rcpt *r,
    char status, const char *text, const char *word)
{
	char dsn[16];
	const char *rest = dispatch_split_reply(text, status, dsn);

	log_info("%s: to=<%s>, relay=local, delay=%.1f, dsn=%s, status=%s (%s)",
	    d->env.id, r->addr, dispatch_delay(&d->env), dsn, word, rest);
}

/* ---------------------------------------------------------------- */
/* Recording results                                                 */

static void
dispatch_record(struct delivery *d, size_t i, char status, const char *text,
    time_t now)
{
	struct queue_rcpt *r = &d->env.rcpt[i];

	r->attempts++;
	r->last_attempt = now;
	if (queue_file_put_status(d->fd, r, status, text) < 0)
		fatal("%s: cannot record a delivery result: %s", d->env.id,
		    strerror(errno));
	r->reason = arena_strdup(d->arena, text);
	d->answered[i] = 1;
	dispatch_log(d, r, status, text, status == RCPT_DELIVERED ? "sent" :
	    status == RCPT_BOUNCED ? "bounced" : "deferred");
}

/* One "INDEX STATUS TEXT" from local. */
static void
dispatch_result(struct delivery *d, const char *value, time_t now)
{
	char *end;
	unsigned long i = strtoul(value, &end, 10);
	char status = end[0] == ' ' ? end[1] : 0;
	const char *text = status && end[2] == ' ' ? end + 3 : "";

	if (end == value || (status && end[2] != ' ' && end[2] != '\0') ||
	    i >= d->env.nrcpt || !d->sent[i] || d->answered[i] ||
	    (status != RCPT_DELIVERED && status != RCPT_PENDING &&
	    status != RCPT_BOUNCED)) {
		log_warn("%s: bad result from local: '%.80s'", d->env.id, value);
		return;
	}
	dispatch_record(d, i, status, text, now);
}

/* Recipients the answer left out stay pending, with the attempt counted
 * so that they back off like any other failure. */
static void
dispatch_unanswered(struct delivery *d, const char *reason, time_t now)
{
	for (size_t i = 0; i < d->env.nrcpt; i++)
		if (d->sent[i] && !d->answered[i])
			dispatch_record(d, i, RCPT_PENDING, reason, now);
}

/* ---------------------------------------------------------------- */
/* The end of a message's turn                                       */

static void
dispatch_free(struct delivery *d)
{
	if (d->fd >= 0)
		close(d->fd);
	arena_free(d->arena);
	free(d);
}

/* Past queue_lifetime: the pending recipients bounce.  Not an attempt. */
static void
dispatch_expire(struct delivery *d)
{
	char reason[QUEUE_REASON_MAX + 1];

	for (size_t i = 0; i < d->env.nrcpt; i++) {
		struct queue_rcpt *r = &d->env.rcpt[i];
		if (r->status != RCPT_PENDING)
			continue;
		snprintf(reason, sizeof reason, "4.4.7 delivery time expired; "
		    "last error: %s", r->reason);
		if (queue_file_put_status(d->fd, r, RCPT_BOUNCED, reason) < 0)
			fatal("%s: cannot record expiry: %s", d->env.id,
			    strerror(errno));
		dispatch_log(d, r, RCPT_BOUNCED, reason, "expired");
	}
	if (queue_file_sync(d->fd) < 0)
		fatal("%s: fdatasync: %s", d->env.id, strerror(errno));
}

static void
dispatch_remove(struct delivery *d)
{
	char path[64];

	/* TODO(DSN): recipients in state B are owed a bounce to the sender;
	 * see the NOT YET paragraph above. */
	snprintf(path, sizeof path, "active/%s", d->env.id);
	if (unlink(path) < 0)
		log_warn("%s: cannot remove: %s", path, strerror(errno));
	else
		log_info("%s: removed", d->env.id);
}

/* Decides what happens to a message whose turn is over, and frees it. */
static void
dispatch_finish(struct qmgr *q, struct delivery *d)
{
	struct qentry *qe = d->qe;
	int pending = 0, later = 0, attempts = 0;

	for (size_t i = 0; i < d->env.nrcpt; i++) {
		const struct queue_rcpt *r = &d->env.rcpt[i];
		if (r->status != RCPT_PENDING)
			continue;
		pending++;
		later += i >= d->resume;
		if (r->attempts > attempts)
			attempts = r->attempts;
	}
	if (later) {
		/* More recipients than one request holds: the rest go next. */
		qe->first_rcpt = d->resume;
		schedule_push_front(q, qe);
	} else if (pending && time(NULL) - d->env.arrival < q->cfg->queue_lifetime) {
		schedule_defer(q, qe, d->fd, attempts);
	} else {
		if (pending)
			dispatch_expire(d);
		dispatch_remove(d);
		schedule_free(qe);
	}
	dispatch_free(d);
}

/* ---------------------------------------------------------------- */
/* Starting a delivery                                               */

static int
dispatch_open(struct qmgr *q, struct qentry *qe, struct delivery *d)
{
	char path[64], err[256];

	(void)q;
	snprintf(path, sizeof path, "active/%s", qe->id);
	if ((d->fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		log_warn("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (queue_file_read(d->fd, d->arena, &d->env, err, sizeof err) < 0) {
		recover_corrupt("active", qe->id, err);
		return -1;
	}
	if (strcmp(d->env.id, qe->id) != 0) {
		recover_corrupt("active", qe->id, "its id line names another file");
		return -1;
	}
	d->sent = arena_alloc(d->arena, d->env.nrcpt);
	d->answered = arena_alloc(d->arena, d->env.nrcpt);
	return 0;
}

/* Builds the request; returns the number of recipients named in it.
 * Recipients beyond DISPATCH_RCPT_MAX wait for the next turn, which
 * starts after the last one named this time (qe->first_rcpt), so those
 * answered "deferred" now are not tried again before their retry time. */
static size_t
dispatch_request(struct delivery *d, struct buf *b)
{
	size_t n = 0, i;
	int maybe = d->qe->maybe_delivered;

	attr_put(b, "op", "deliver");
	attr_put_u64(b, "id", d->req_id);
	attr_put(b, "queue_id", d->env.id);
	for (i = d->qe->first_rcpt; i < d->env.nrcpt && n < DISPATCH_RCPT_MAX; i++) {
		struct queue_rcpt *r = &d->env.rcpt[i];
		if (r->status != RCPT_PENDING)
			continue;
		attr_put_u64(b, "rcpt", i);
		d->sent[i] = 1;
		maybe |= r->attempts > 0;
		n++;
	}
	d->resume = i;
	if (maybe)
		attr_put(b, "maybe_delivered", "1");
	return n;
}

/* Sends with a read-only descriptor: local must not be able to write the
 * queue file.  It is a second open of the same file, not a copy. */
static int
dispatch_send(struct qmgr *q, struct delivery *d, const struct buf *b)
{
	char path[64];
	int ro;

	snprintf(path, sizeof path, "active/%s", d->env.id);
	if ((ro = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	channel_send(q->local, b, ro);
	close(ro);
	return 0;
}

static void
dispatch_start(struct qmgr *q, struct qentry *qe)
{
	struct delivery *d = xcalloc(1, sizeof *d);
	struct buf b = BUF_INIT;

	d->qe = qe;
	d->arena = arena_new();
	d->req_id = ++q->next_req_id;
	if (dispatch_open(q, qe, d) < 0) {
		schedule_free(qe);	/* gone, or moved to corrupt/ */
		dispatch_free(d);
		return;
	}
	if (dispatch_request(d, &b) == 0) {
		dispatch_finish(q, d);	/* nothing pending: a finished file */
	} else if (dispatch_send(q, d, &b) < 0) {
		schedule_free(qe);
		dispatch_free(d);
	} else {
		d->started = time(NULL);
		TAILQ_INSERT_TAIL(&q->inflight, d, link);
		q->ninflight++;
	}
	buf_free(&b);
}

void
dispatch_run(struct qmgr *q)
{
	struct qentry *qe;

	while (q->local != NULL && !q->stopping &&
	    q->ninflight < q->cfg->local_concurrency &&
	    (qe = schedule_pop(q)) != NULL)
		dispatch_start(q, qe);
}

/* ---------------------------------------------------------------- */
/* Answers from local                                                */

static struct delivery *
dispatch_find(struct qmgr *q, uint64_t req_id)
{
	struct delivery *d;

	TAILQ_FOREACH(d, &q->inflight, link)
		if (d->req_id == req_id)
			return d;
	return NULL;
}

static void
dispatch_answer(struct qmgr *q, struct delivery *d, const struct attr_list *msg)
{
	const char *status = attr_get(msg, "status");
	time_t now = time(NULL);

	TAILQ_REMOVE(&q->inflight, d, link);
	q->ninflight--;
	if (status != NULL && strcmp(status, "ok") != 0) {
		const char *why = attr_get(msg, "reason");
		char reason[QUEUE_REASON_MAX + 1];
		snprintf(reason, sizeof reason, "4.3.0 delivery agent error: %s",
		    why ? why : status);
		dispatch_unanswered(d, reason, now);
	}
	for (size_t i = 0; i < msg->n; i++)
		if (strcmp(msg->a[i].key, "result") == 0)
			dispatch_result(d, msg->a[i].value, now);
	dispatch_unanswered(d, "4.3.0 no result from the delivery agent", now);
	if (queue_file_sync(d->fd) < 0)
		fatal("%s: fdatasync: %s", d->env.id, strerror(errno));
	dispatch_finish(q, d);
}

static void
dispatch_on_message(struct channel *ch, struct attr_list *msg, int fd,
    void *arg)
{
	struct qmgr *q = arg;
	struct delivery *d;
	uint64_t id;

	(void)ch;
	if (fd >= 0)
		close(fd);
	if (attr_get_u64(msg, "id", &id) < 0) {
		dispatch_local_lost(q, "an answer without an id");
		return;
	}
	if ((d = dispatch_find(q, id)) == NULL) {
		log_warn("local answered request %llu, which is not in flight",
		    (unsigned long long)id);
		return;
	}
	dispatch_answer(q, d, msg);
	dispatch_run(q);
}

/* ---------------------------------------------------------------- */
/* The channel                                                       */

static void
dispatch_on_close(struct channel *ch, void *arg)
{
	(void)ch;
	dispatch_local_lost(arg, "it closed");
}

void
dispatch_connect(struct qmgr *q)
{
	struct timeval tv = { q->local_backoff, 0 };
	int fd;

	if (q->local != NULL || q->stopping)
		return;
	if ((fd = service_connect("local")) < 0) {
		evtimer_add(q->local_retry, &tv);
		q->local_backoff = q->local_backoff * 2 > LOCAL_BACKOFF_MAX ?
		    LOCAL_BACKOFF_MAX : q->local_backoff * 2;
		return;
	}
	q->local = channel_new(q->base, fd, dispatch_on_message,
	    dispatch_on_close, q);
	q->local_backoff = 1;
	log_debug("connected to local");
	dispatch_run(q);
}

/* A message in flight when local went away. */
static void
dispatch_requeue(struct qmgr *q, struct delivery *d)
{
	struct qentry *qe = d->qe;

	qe->maybe_delivered = 1;
	if (++qe->lost < DISPATCH_LOST_MAX) {
		schedule_push_front(q, qe);
		dispatch_free(d);
		return;
	}
	log_warn("%s: local died %d times while delivering it; deferring",
	    d->env.id, qe->lost);
	dispatch_unanswered(d, "4.3.0 the delivery agent died during delivery",
	    time(NULL));
	if (queue_file_sync(d->fd) < 0)
		fatal("%s: fdatasync: %s", d->env.id, strerror(errno));
	dispatch_finish(q, d);
}

static void
dispatch_local_lost(struct qmgr *q, const char *why)
{
	struct timeval tv = { 1, 0 };
	struct delivery *d;

	if (q->local == NULL)
		return;
	if (q->ninflight)
		log_warn("lost the channel to local (%s); %d deliveries in "
		    "flight will be retried", why, q->ninflight);
	else
		log_info("channel to local closed (%s)", why);
	channel_free(q->local);
	q->local = NULL;
	/* Reversed, so that pushing each to the front keeps their order. */
	while ((d = TAILQ_LAST(&q->inflight, delivery_list)) != NULL) {
		TAILQ_REMOVE(&q->inflight, d, link);
		q->ninflight--;
		dispatch_requeue(q, d);
	}
	if (!q->stopping)
		evtimer_add(q->local_retry, &tv);
}

void
dispatch_watchdog(struct qmgr *q)
{
	struct delivery *d;
	time_t now = time(NULL);

	TAILQ_FOREACH(d, &q->inflight, link) {
		if (now - d->started > DISPATCH_TIMEOUT_SEC) {
			log_warn("%s: no answer from local after %d s", d->env.id,
			    DISPATCH_TIMEOUT_SEC);
			dispatch_local_lost(q, "a delivery timed out");
			return;
		}
	}
}

/* At exit: messages in flight stay in active/ and are retried, flagged
 * maybe_delivered, by the next qmgr. */
void
dispatch_shutdown(struct qmgr *q)
{
	struct delivery *d;

	q->stopping = 1;
	if (q->local) {
		channel_free(q->local);
		q->local = NULL;
	}
	while ((d = TAILQ_FIRST(&q->inflight)) != NULL) {
		TAILQ_REMOVE(&q->inflight, d, link);
		schedule_free(d->qe);
		dispatch_free(d);
	}
	q->ninflight = 0;
	event_free(q->local_retry);
}
