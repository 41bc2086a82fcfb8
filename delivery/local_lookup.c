/*
 * local_lookup - local's channel to the lookup agent.
 *
 * SYNOPSIS
 *	local_lookup_init(base);
 *	local_lookup_user("joe@example.org", on_answer, job);
 *	static void on_answer(const char *result, const char *mailbox, void *job);
 *
 * DESCRIPTION
 *	One channel, obtained from the master with service_connect("lookup")
 *	the first time it is needed, carries every op=user request of every
 *	delivery in flight; replies are matched by id, so no delivery waits
 *	for another.  Each request has a PROTO_TIMEOUT_MS timer.
 *
 *	When the lookup agent goes away (restart, crash) the channel is
 *	closed, every request in flight is answered with result NULL (the
 *	caller defers those recipients), and the next request connects again.
 *	Connection attempts are at least LOOKUP_RECONNECT_SEC apart, because
 *	service_connect() blocks, and a dead agent must not stall the loop
 *	once per recipient.
 *
 * DIAGNOSTICS
 *	A lost channel, a timeout and a reply to an unknown id are logged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/proto.h"
#include "delivery/local.h"

#define LOOKUP_RECONNECT_SEC 1

struct pending {
	struct pending *next;
	uint64_t id;
	local_lookup_cb cb;
	void *arg;
	struct event *timer;
};

static struct {
	struct event_base *base;
	struct channel *ch;
	uint64_t last_id;
	time_t next_connect;
	struct pending *pending;
} lk;

static void
pending_finish(struct pending *p, const char *result, const char *mailbox)
{
	event_free(p->timer);
	p->cb(result, mailbox, p->arg);
	free(p);
}

/* Unlinks the request with this id; NULL if there is none. */
static struct pending *
pending_take(uint64_t id)
{
	for (struct pending **pp = &lk.pending; *pp; pp = &(*pp)->next) {
		struct pending *p = *pp;
		if (p->id == id) {
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void
fail_all_pending(void)
{
	struct pending *list = lk.pending;

	lk.pending = NULL;
	while (list != NULL) {
		struct pending *next = list->next;
		pending_finish(list, NULL, NULL);
		list = next;
	}
}

static void
on_reply(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct pending *p;
	uint64_t id;

	(void)ch;
	(void)arg;
	if (fd >= 0)
		close(fd);
	if (attr_get_u64(msg, "id", &id) < 0 || (p = pending_take(id)) == NULL) {
		log_warn("lookup: reply to no request of ours");
		return;
	}
	pending_finish(p, attr_get(msg, "result"), attr_get(msg, "mailbox"));
}

static void
on_close(struct channel *ch, void *arg)
{
	(void)arg;
	log_warn("lookup: channel closed; reconnecting on the next request");
	channel_free(ch);
	lk.ch = NULL;
	fail_all_pending();
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	(void)fd;
	(void)what;
	log_warn("lookup: no answer within %d ms", PROTO_TIMEOUT_MS);
	pending_finish(pending_take(p->id), NULL, NULL);
}

static int
lookup_connect(void)
{
	time_t now = time(NULL);
	int fd;

	if (lk.ch != NULL)
		return 0;
	if (now < lk.next_connect)
		return -1;
	if ((fd = service_connect("lookup")) < 0) {
		lk.next_connect = now + LOOKUP_RECONNECT_SEC;
		return -1;
	}
	lk.ch = channel_new(lk.base, fd, on_reply, on_close, NULL);
	return 0;
}

void
local_lookup_init(struct event_base *base)
{
	memset(&lk, 0, sizeof lk);
	lk.base = base;
}

void
local_lookup_user(const char *addr, local_lookup_cb cb, void *arg)
{
	struct timeval tv = { PROTO_TIMEOUT_MS / 1000,
	    (PROTO_TIMEOUT_MS % 1000) * 1000 };
	struct buf req = BUF_INIT;
	struct pending *p;

	if (lookup_connect() < 0) {
		cb(NULL, NULL, arg);
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->id = ++lk.last_id;
	p->cb = cb;
	p->arg = arg;
	p->timer = evtimer_new(lk.base, on_timeout, p);
	evtimer_add(p->timer, &tv);
	p->next = lk.pending;
	lk.pending = p;
	attr_put(&req, "op", "user");
	attr_put_u64(&req, "id", p->id);
	attr_put(&req, "addr", addr);
	channel_send(lk.ch, &req, -1);
	buf_free(&req);
}

void
local_lookup_shutdown(void)
{
	fail_all_pending();
	channel_free(lk.ch);
	lk.ch = NULL;
}
