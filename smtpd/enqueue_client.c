/*
 * enqueue_client - hands one message at a time to the enqueue service.
 * The manual is in enqueue_client.h.
 */
#include "smtpd/enqueue_client.h"

#include <string.h>

#include "common/attr.h"
#include "common/buf.h"
#include "common/log.h"
#include "smtpd/peer.h"

static int
still_connected(const struct enqueue_txn *t)
{
	return peer_up(t->peer) && peer_generation(t->peer) == t->generation;
}

static void
put_envelope(struct buf *body, const struct enqueue_envelope *env)
{
	size_t i;

	attr_put(body, "sender", env->sender);
	attr_put(body, "client", env->client);
	attr_put(body, "helo", env->helo);
	attr_put(body, "protocol", env->protocol);
	if (env->smtputf8)
		attr_put(body, "smtputf8", "1");
	if (env->body != NULL)
		attr_put(body, "body", env->body);
	for (i = 0; i < env->nrcpt; i++)
		attr_put(body, "rcpt", env->rcpt[i]);
}

int
enqueue_begin(struct peer *p, struct enqueue_txn *t,
    const struct enqueue_envelope *env)
{
	struct buf body = BUF_INIT;
	int r;

	memset(t, 0, sizeof *t);
	t->peer = p;
	if (!peer_up(p))
		return -1;
	t->id = peer_new_id(p);
	t->generation = peer_generation(p);
	attr_put(&body, "op", "begin");
	attr_put_u64(&body, "id", t->id);
	put_envelope(&body, env);
	r = peer_send(p, &body);
	buf_free(&body);
	t->open = r == 0;
	return r;
}

static int
send_simple(struct enqueue_txn *t, const char *op)
{
	struct buf body = BUF_INIT;
	int r;

	attr_put(&body, "op", op);
	attr_put_u64(&body, "id", t->id);
	r = peer_send(t->peer, &body);
	buf_free(&body);
	return r;
}

int
enqueue_data(struct enqueue_txn *t, const char *data, size_t len)
{
	struct buf body = BUF_INIT;
	int r;

	if (!t->open || !still_connected(t))
		return -1;
	attr_put(&body, "op", "data");
	attr_put_u64(&body, "id", t->id);
	attr_putn(&body, "data", data, len);
	r = peer_send(t->peer, &body);
	buf_free(&body);
	return r;
}

static enum enqueue_status
decode_status(const struct attr_list *reply)
{
	const char *status;

	if (reply == NULL)
		return ENQUEUE_TEMP;
	if ((status = attr_get(reply, "status")) == NULL)
		status = "";
	if (strcmp(status, "ok") == 0)
		return ENQUEUE_OK;
	if (strcmp(status, "full") == 0)
		return ENQUEUE_FULL;
	if (strcmp(status, "toobig") == 0)
		return ENQUEUE_TOOBIG;
	if (strcmp(status, "temp") != 0)
		log_warn("enqueue: unexpected status '%s'", status);
	else if (attr_get(reply, "reason") != NULL)
		log_warn("enqueue: %s", attr_get(reply, "reason"));
	return ENQUEUE_TEMP;
}

static void
on_end_reply(void *arg, struct attr_list *reply)
{
	struct enqueue_txn *t = arg;
	const char *queue_id = reply != NULL ? attr_get(reply, "queue_id") : NULL;

	t->waiting = 0;
	t->fn(t->arg, decode_status(reply), queue_id != NULL ? queue_id : "");
}

int
enqueue_end(struct enqueue_txn *t, enqueue_done_fn fn, void *arg)
{
	struct buf body = BUF_INIT;
	int r;

	if (!t->open || !still_connected(t))
		return -1;
	t->open = 0;
	t->fn = fn;
	t->arg = arg;
	attr_put(&body, "op", "end");
	attr_put_u64(&body, "id", t->id);
	r = peer_call(t->peer, t->id, &body, ENQUEUE_END_TIMEOUT_MS,
	    on_end_reply, t);
	buf_free(&body);
	t->waiting = r == 0;
	return r;
}

void
enqueue_abort(struct enqueue_txn *t)
{
	/* After a reconnect the new enqueue never heard of this id. */
	if (t->open && still_connected(t))
		send_simple(t, "abort");
	t->open = 0;
	if (t->waiting)
		peer_cancel(t->peer, t->id);
	t->waiting = 0;
}
