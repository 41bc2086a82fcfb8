/*
 * enqueue - the ENQUEUE conversation of common/proto.h.
 *
 * SYNOPSIS
 *	enqueue_init(&eq, base, &cfg, incoming_fd);
 *	accept_start(base, listen_fd, enqueue_on_connection, &eq);
 *
 * DESCRIPTION
 *	Each smtpd process holds one channel to us and streams many messages
 *	over it at once, told apart by their request id:
 *
 *		begin	envelope; a temporary file is created in incoming/
 *		data	message bytes, appended as they come
 *		end	the single durable commit, then the answer
 *		abort	the temporary file is removed, no answer
 *
 *	The answer to end is status=ok with the queue id only after
 *	queue_writer_commit() returned 0, so smtpd's 250 always follows the
 *	fsync.  A message that went wrong on the way (disk full, write error,
 *	over the size limit) is remembered as a small placeholder whose
 *	temporary file is already gone, and the failure is told at end, since
 *	begin and data have no answer.  Then qmgr is told the new id; losing
 *	that note is harmless, qmgr scans incoming/ anyway.
 *
 *	Group commit is not done yet: enq_commit() commits one message.  The
 *	commit is one function call made from one place so that a later
 *	version can collect the ends of one event-loop tick and seal, publish
 *	and fsync the directory once for all of them (queue_file.c is split
 *	along those steps).
 *
 * DIAGNOSTICS
 *	A frame that breaks the conversation (a repeated id, data without
 *	bytes, too many open messages) is logged and the channel closed: the
 *	peer is not trusted.  Closing a channel aborts its open messages.
 *	Disk full answers status=full (452 4.3.1), any other I/O error
 *	status=temp (451 4.3.0), too big status=toobig (552 5.3.4).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/attr.h"
#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/proto.h"
#include "common/queue_file.h"
#include "qmgr/enqueue.h"

/* More open messages than an smtpd process has sessions is a broken peer. */
#define ENQ_MSGS_PER_CONN_MAX 10000
/* Temporary files held at once; RLIMIT_NOFILE of the queue role is 4096. */
#define ENQ_OPEN_FILES_MAX 3500
/* The Received header smtpd prepends comes on top of the size limit. */
#define ENQ_RECEIVED_ALLOWANCE (16 * 1024)
#define ENQ_REASON_MAX 160

enum emsg_state {
	EMSG_WRITING,		/* temporary file open, bytes welcome */
	EMSG_TOOBIG,		/* placeholders from here on: no file */
	EMSG_FULL,
	EMSG_TEMP,
};

struct emsg {
	uint64_t id;		/* the requester's id on this channel */
	enum emsg_state state;
	struct queue_writer *w;
	char queue_id[QUEUE_ID_LEN + 1];
	char *sender;		/* for the log line */
	size_t nrcpt;
	char reason[ENQ_REASON_MAX];
	time_t last_active;
	TAILQ_ENTRY(emsg) link;
};

struct econn {
	struct enqueue *eq;
	struct channel *ch;
	TAILQ_HEAD(, emsg) msgs;
	size_t nmsgs;
	int broken;		/* the peer broke the conversation */
	TAILQ_ENTRY(econn) link;
};

void
enqueue_init(struct enqueue *eq, struct event_base *base,
    const struct config *cfg, int incoming_fd)
{
	memset(eq, 0, sizeof *eq);
	eq->base = base;
	eq->cfg = cfg;
	eq->incoming_fd = incoming_fd;
	TAILQ_INIT(&eq->conns);
}

/* ---------------------------------------------------------------- */
/* Messages                                                          */

static struct emsg *
enq_find(struct econn *c, uint64_t id)
{
	struct emsg *m;

	TAILQ_FOREACH(m, &c->msgs, link)
		if (m->id == id)
			return m;
	return NULL;
}

static void
enq_drop_file(struct econn *c, struct emsg *m)
{
	if (m->w) {
		queue_writer_abort(m->w);
		m->w = NULL;
		c->eq->open_files--;
	}
}

/* Turns a message into a placeholder that remembers why it failed. */
static void
enq_fail(struct econn *c, struct emsg *m, enum emsg_state state,
    const char *reason)
{
	enq_drop_file(c, m);
	m->state = state;
	snprintf(m->reason, sizeof m->reason, "%s", reason);
}

static void
enq_fail_errno(struct econn *c, struct emsg *m, int err, const char *reason)
{
	enq_fail(c, m, (err == ENOSPC || err == EDQUOT) ? EMSG_FULL : EMSG_TEMP,
	    reason);
}

static void
enq_free(struct econn *c, struct emsg *m)
{
	enq_drop_file(c, m);
	TAILQ_REMOVE(&c->msgs, m, link);
	c->nmsgs--;
	free(m->sender);
	free(m);
}

static void
enq_protocol_error(struct econn *c, const char *what, uint64_t id)
{
	log_warn("enqueue: peer broke the protocol (%s, id %llu); disconnecting",
	    what, (unsigned long long)id);
	c->broken = 1;
}

static void
enq_reply(struct econn *c, uint64_t id, const char *status,
    const char *reason, const char *queue_id)
{
	struct buf b = BUF_INIT;

	attr_put_u64(&b, "id", id);
	attr_put(&b, "status", status);
	if (reason)
		attr_put(&b, "reason", reason);
	if (queue_id)
		attr_put(&b, "queue_id", queue_id);
	channel_send(c->ch, &b, -1);
	buf_free(&b);
}

/* ---------------------------------------------------------------- */
/* begin                                                             */

/* An address must be a C string: an embedded NUL would cut it short. */
static const char *
enq_string(struct arena *a, const struct attr *at)
{
	if (at == NULL || strlen(at->value) != at->len)
		return NULL;
	return arena_strdup(a, at->value);
}

static const char *
enq_opt(struct arena *a, const struct attr_list *msg, const char *key)
{
	const char *v = attr_get(msg, key);

	return v && *v ? arena_strdup(a, v) : NULL;
}

/* "ADDR" or "ADDR\tORCPT\tNOTIFY", empty fields meaning absent. */
static int
enq_rcpt(struct arena *a, const struct attr *at, struct queue_rcpt *r)
{
	char *s = (char *)enq_string(a, at), *tab;

	if (s == NULL || *s == '\0' || *s == '\t')
		return -1;
	r->addr = s;
	if ((tab = strchr(s, '\t')) == NULL)
		return 0;
	*tab++ = '\0';
	r->orcpt = tab;
	if ((tab = strchr(tab, '\t')) == NULL)
		return -1;
	*tab++ = '\0';
	r->notify = tab;
	if (strchr(tab, '\t'))
		return -1;
	if (*r->orcpt == '\0')
		r->orcpt = NULL;
	if (*r->notify == '\0')
		r->notify = NULL;
	return 0;
}

static const char *
enq_envelope(struct arena *a, const struct attr_list *msg,
    struct queue_envelope *env)
{
	size_t n = 0;

	memset(env, 0, sizeof *env);
	if ((env->sender = (char *)enq_string(a, attr_find(msg, "sender"))) == NULL)
		return "no sender";
	env->arrival = time(NULL);
	env->client = (char *)enq_opt(a, msg, "client");
	env->helo = (char *)enq_opt(a, msg, "helo");
	env->protocol = (char *)enq_opt(a, msg, "protocol");
	env->auth = (char *)enq_opt(a, msg, "auth");
	env->envid = (char *)enq_opt(a, msg, "envid");
	env->ret = (char *)enq_opt(a, msg, "ret");
	env->body_type = (char *)enq_opt(a, msg, "body");
	env->smtputf8 = attr_get(msg, "smtputf8") != NULL &&
	    strcmp(attr_get(msg, "smtputf8"), "1") == 0;
	env->rcpt = arena_alloc(a, msg->n * sizeof *env->rcpt);
	for (size_t i = 0; i < msg->n; i++) {
		if (strcmp(msg->a[i].key, "rcpt") != 0)
			continue;
		if (enq_rcpt(a, &msg->a[i], &env->rcpt[n++]) < 0)
			return "malformed recipient";
	}
	env->nrcpt = n;
	return n ? NULL : "no recipients";
}

static void
enq_start_file(struct econn *c, struct emsg *m, const struct attr_list *msg)
{
	struct arena *a = arena_new();
	struct queue_envelope env;
	const char *why;
	char err[256];

	if ((why = enq_envelope(a, msg, &env)) != NULL) {
		log_warn("enqueue: bad envelope from smtpd: %s", why);
		enq_fail(c, m, EMSG_TEMP, why);
	} else if (c->eq->open_files >= ENQ_OPEN_FILES_MAX) {
		log_warn("enqueue: %d messages in progress; refusing more",
		    c->eq->open_files);
		enq_fail(c, m, EMSG_TEMP, "too many messages in progress");
	} else if ((m->w = queue_writer_begin(c->eq->incoming_fd, &env,
	    m->queue_id, err, sizeof err)) == NULL) {
		int saved = errno;
		log_warn("enqueue: cannot create a queue file: %s", err);
		enq_fail_errno(c, m, saved, "cannot create a queue file");
	} else {
		c->eq->open_files++;
		m->sender = xstrdup(env.sender);
		m->nrcpt = env.nrcpt;
	}
	arena_free(a);
}

static void
enq_begin(struct econn *c, const struct attr_list *msg, uint64_t id)
{
	struct emsg *m;

	if (enq_find(c, id) != NULL) {
		enq_protocol_error(c, "begin of a message already open", id);
		return;
	}
	if (c->nmsgs >= ENQ_MSGS_PER_CONN_MAX) {
		enq_protocol_error(c, "too many open messages", id);
		return;
	}
	m = xcalloc(1, sizeof *m);
	m->id = id;
	m->state = EMSG_WRITING;
	m->last_active = time(NULL);
	TAILQ_INSERT_HEAD(&c->msgs, m, link);
	c->nmsgs++;
	enq_start_file(c, m, msg);
}

/* ---------------------------------------------------------------- */
/* data, end, abort                                                  */

static void
enq_data(struct econn *c, const struct attr_list *msg, uint64_t id)
{
	const struct attr *data = attr_find(msg, "data");
	struct emsg *m = enq_find(c, id);
	uint64_t limit = c->eq->cfg->message_size_limit + ENQ_RECEIVED_ALLOWANCE;

	if (data == NULL || data->len > PROTO_DATA_CHUNK) {
		enq_protocol_error(c, data ? "data frame too long" :
		    "data without bytes", id);
		return;
	}
	if (m == NULL) {
		/* Its placeholder timed out long ago; end will say so. */
		log_debug("enqueue: data for unknown message %llu",
		    (unsigned long long)id);
		return;
	}
	m->last_active = time(NULL);
	if (m->state != EMSG_WRITING)
		return;
	if ((uint64_t)queue_writer_size(m->w) + data->len > limit) {
		enq_fail(c, m, EMSG_TOOBIG, "message too big");
		return;
	}
	if (queue_writer_append(m->w, data->value, data->len) < 0) {
		int saved = errno;
		log_warn("enqueue: %s: write: %s", m->queue_id, strerror(saved));
		enq_fail_errno(c, m, saved, "queue file write error");
	}
}

/* The one durable step; see the comment at the top about batching. */
static int
enq_commit(struct econn *c, struct emsg *m)
{
	char err[256];
	struct queue_writer *w = m->w;
	long long size = (long long)queue_writer_size(w);

	m->w = NULL;
	c->eq->open_files--;
	if (queue_writer_commit(w, err, sizeof err) < 0) {
		int saved = errno;
		log_warn("enqueue: %s: commit failed: %s", m->queue_id, err);
		enq_fail_errno(c, m, saved, "queue file commit failed");
		return -1;
	}
	log_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queued)", m->queue_id, m->sender,
	    size, m->nrcpt);
	return 0;
}

static void
enq_end(struct econn *c, const struct attr_list *msg, uint64_t id)
{
	struct emsg *m = enq_find(c, id);

	(void)msg;
	if (m == NULL) {
		enq_reply(c, id, "temp", "message timed out", NULL);
		return;
	}
	if (m->state == EMSG_WRITING && enq_commit(c, m) == 0) {
		enq_reply(c, id, "ok", NULL, m->queue_id);
		enqueue_notify(c->eq, m->queue_id);
	} else if (m->state == EMSG_TOOBIG) {
		enq_reply(c, id, "toobig", m->reason, NULL);
	} else {
		enq_reply(c, id, m->state == EMSG_FULL ? "full" : "temp",
		    m->reason, NULL);
	}
	enq_free(c, m);
}

static void
enq_abort(struct econn *c, const struct attr_list *msg, uint64_t id)
{
	struct emsg *m = enq_find(c, id);

	(void)msg;
	if (m != NULL)
		enq_free(c, m);
}

/* ---------------------------------------------------------------- */
/* Channels                                                          */

static const struct enq_op {
	const char *name;
	void (*run)(struct econn *c, const struct attr_list *msg, uint64_t id);
} enq_ops[] = {
	{ "begin", enq_begin },
	{ "data", enq_data },
	{ "end", enq_end },
	{ "abort", enq_abort },
};

static void
enq_close(struct econn *c)
{
	struct emsg *m;

	while ((m = TAILQ_FIRST(&c->msgs)) != NULL)
		enq_free(c, m);
	TAILQ_REMOVE(&c->eq->conns, c, link);
	channel_free(c->ch);
	free(c);
}

static void
enq_on_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct econn *c = arg;
	const char *op = attr_get(msg, "op");
	uint64_t id;

	(void)ch;
	if (fd >= 0)
		close(fd);	/* nobody sends us descriptors */
	if (attr_get_u64(msg, "id", &id) < 0) {
		enq_protocol_error(c, "request without an id", 0);
	} else {
		size_t i;
		for (i = 0; i < sizeof enq_ops / sizeof enq_ops[0]; i++)
			if (op && strcmp(op, enq_ops[i].name) == 0)
				break;
		if (i < sizeof enq_ops / sizeof enq_ops[0])
			enq_ops[i].run(c, msg, id);
		else
			enq_reply(c, id, "error", "unknown op", NULL);
	}
	if (c->broken)
		enq_close(c);
}

static void
enq_on_close(struct channel *ch, void *arg)
{
	struct econn *c = arg;

	(void)ch;
	if (c->nmsgs)
		log_info("enqueue: peer went away; %zu open messages aborted",
		    c->nmsgs);
	enq_close(c);
}

void
enqueue_on_connection(int fd, void *arg)
{
	struct enqueue *eq = arg;
	struct econn *c = xcalloc(1, sizeof *c);

	c->eq = eq;
	TAILQ_INIT(&c->msgs);
	TAILQ_INSERT_TAIL(&eq->conns, c, link);
	c->ch = channel_new(eq->base, fd, enq_on_message, enq_on_close, c);
}

/* A session that stops sending (smtpd wedged) must not hold a file
 * forever: after the longest DATA phase smtpd allows, plus a margin, the
 * message fails; a placeholder nobody asks about goes after twice that. */
void
enqueue_sweep(struct enqueue *eq)
{
	time_t now = time(NULL);
	time_t idle_max = eq->cfg->smtpd_data_timeout + 60;
	struct econn *c;
	struct emsg *m, *next;

	TAILQ_FOREACH(c, &eq->conns, link) {
		for (m = TAILQ_FIRST(&c->msgs); m; m = next) {
			next = TAILQ_NEXT(m, link);
			if (now - m->last_active < idle_max)
				continue;
			if (m->state == EMSG_WRITING) {
				log_warn("enqueue: %s: no data for %lld s; giving up",
				    m->queue_id, (long long)(now - m->last_active));
				enq_fail(c, m, EMSG_TEMP, "message timed out");
				m->last_active = now;
			} else {
				enq_free(c, m);
			}
		}
	}
}

void
enqueue_shutdown(struct enqueue *eq)
{
	struct econn *c;

	while ((c = TAILQ_FIRST(&eq->conns)) != NULL)
		enq_close(c);
	enqueue_notify_close(eq);
}

/* Only one enqueue runs, and a temporary file is never resumed, so what
 * a predecessor left behind is garbage: no client was told 250 for it. */
void
enqueue_remove_stale(int incoming_fd)
{
	int fd = dup(incoming_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		fatal("cannot read incoming/: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, QUEUE_TMP_PREFIX,
		    strlen(QUEUE_TMP_PREFIX)) != 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
		else
			log_warn("cannot remove incoming/%s: %s", e->d_name,
			    strerror(errno));
	}
	closedir(d);
	if (n)
		log_info("removed %d unfinished temporary files from incoming/", n);
}
