/*
 * peer - a reconnecting channel with calls awaiting replies.  The manual
 * is in peer.h.
 *
 * Calls in flight are few (at most one per SMTP session, since a session
 * stops reading while it waits), so they sit in one list searched
 * linearly; a hash would buy nothing measurable and cost code.
 */
#include "smtpd/peer.h"

#include <sys/queue.h>

#include <event2/event.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"

#define SWEEP_INTERVAL_MS	500

struct peer_call {
	TAILQ_ENTRY(peer_call) entry;
	uint64_t id;
	uint64_t deadline_ms;	/* CLOCK_MONOTONIC */
	peer_reply_fn fn;
	void *arg;
};

TAILQ_HEAD(peer_call_list, peer_call);

struct peer {
	struct event_base *base;
	char *service;
	struct channel *ch;		/* NULL while disconnected */
	unsigned generation;
	uint64_t next_id;
	struct peer_call_list calls;
	struct event *retry;		/* reconnect timer */
	int retry_s;
	struct event *sweep;		/* call deadlines */
};

static void peer_on_message(struct channel *ch, struct attr_list *msg,
    int fd, void *arg);
static void peer_on_close(struct channel *ch, void *arg);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
schedule_retry(struct peer *p)
{
	struct timeval tv = { p->retry_s, 0 };

	evtimer_add(p->retry, &tv);
	if (p->retry_s < PEER_RETRY_MAX_S)
		p->retry_s *= 2;
}

static void
attach(struct peer *p, int fd)
{
	p->ch = channel_new(p->base, fd, peer_on_message, peer_on_close, p);
	p->generation++;
	p->retry_s = 1;
}

static void
retry_cb(evutil_socket_t unused, short what, void *arg)
{
	struct peer *p = arg;
	int fd;

	(void)unused, (void)what;
	/* service_connect() has logged why it failed. */
	if ((fd = service_connect(p->service)) < 0) {
		schedule_retry(p);
		return;
	}
	attach(p, fd);
	log_info("connected to %s again", p->service);
}

/* Calls are failed from the event loop only, one at a time and after
 * leaving the list, so a callback may start new calls or cancel others. */
static void
fail_calls(struct peer *p, int expired_only)
{
	uint64_t now = now_ms();
	struct peer_call *c, *next;

	for (c = TAILQ_FIRST(&p->calls); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (expired_only && c->deadline_ms > now)
			continue;
		TAILQ_REMOVE(&p->calls, c, entry);
		if (expired_only)
			log_warn("%s did not answer request %llu in time",
			    p->service, (unsigned long long)c->id);
		c->fn(c->arg, NULL);
		free(c);
		next = TAILQ_FIRST(&p->calls);	/* the list may have changed */
	}
}

static void
sweep_cb(evutil_socket_t unused, short what, void *arg)
{
	(void)unused, (void)what;
	fail_calls(arg, 1);
}

struct peer *
peer_new(struct event_base *base, const char *service, int fd)
{
	struct peer *p = xcalloc(1, sizeof *p);
	struct timeval tv = { 0, SWEEP_INTERVAL_MS * 1000 };

	p->base = base;
	p->service = xstrdup(service);
	p->next_id = 1;
	p->retry_s = 1;
	TAILQ_INIT(&p->calls);
	p->retry = evtimer_new(base, retry_cb, p);
	p->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, p);
	if (p->retry == NULL || p->sweep == NULL)
		panic("peer: out of memory for timers");
	event_add(p->sweep, &tv);
	if (fd >= 0)
		attach(p, fd);
	else
		schedule_retry(p);
	return p;
}

void
peer_free(struct peer *p)
{
	struct peer_call *c;

	while ((c = TAILQ_FIRST(&p->calls)) != NULL) {
		TAILQ_REMOVE(&p->calls, c, entry);
		free(c);
	}
	if (p->ch != NULL)
		channel_free(p->ch);
	event_free(p->retry);
	event_free(p->sweep);
	free(p->service);
	free(p);
}

int
peer_up(const struct peer *p)
{
	return p->ch != NULL;
}

unsigned
peer_generation(const struct peer *p)
{
	return p->generation;
}

uint64_t
peer_new_id(struct peer *p)
{
	return p->next_id++;
}

size_t
peer_backlog(const struct peer *p)
{
	return p->ch != NULL ? channel_output_pending(p->ch) : 0;
}

int
peer_send(struct peer *p, const struct buf *body)
{
	if (p->ch == NULL)
		return -1;
	channel_send(p->ch, body, -1);
	return 0;
}

int
peer_call(struct peer *p, uint64_t id, const struct buf *body, int timeout_ms,
    peer_reply_fn fn, void *arg)
{
	struct peer_call *c;

	if (p->ch == NULL)
		return -1;
	c = xcalloc(1, sizeof *c);
	c->id = id;
	c->deadline_ms = now_ms() + (uint64_t)timeout_ms;
	c->fn = fn;
	c->arg = arg;
	TAILQ_INSERT_TAIL(&p->calls, c, entry);
	channel_send(p->ch, body, -1);
	return 0;
}

static struct peer_call *
find_call(struct peer *p, uint64_t id)
{
	struct peer_call *c;

	TAILQ_FOREACH(c, &p->calls, entry)
		if (c->id == id)
			return c;
	return NULL;
}

void
peer_cancel(struct peer *p, uint64_t id)
{
	struct peer_call *c = find_call(p, id);

	if (c != NULL) {
		TAILQ_REMOVE(&p->calls, c, entry);
		free(c);
	}
}

static void
peer_on_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct peer *p = arg;
	struct peer_call *c;
	uint64_t id;

	(void)ch;
	if (fd >= 0)
		close(fd);	/* nobody sends smtpd descriptors */
	if (attr_get_u64(msg, "id", &id) < 0) {
		log_warn("%s sent a reply without id; ignored", p->service);
		return;
	}
	if ((c = find_call(p, id)) == NULL) {
		log_debug("%s: late reply to request %llu ignored", p->service,
		    (unsigned long long)id);
		return;
	}
	TAILQ_REMOVE(&p->calls, c, entry);
	c->fn(c->arg, msg);
	free(c);
}

static void
peer_on_close(struct channel *ch, void *arg)
{
	struct peer *p = arg;

	channel_free(ch);
	p->ch = NULL;
	log_warn("lost the connection to %s; reconnecting", p->service);
	fail_calls(p, 0);
	schedule_retry(p);
}
