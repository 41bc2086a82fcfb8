/*
 * listen - the QMGR conversation of common/proto.h, on qmgr's private
 * socket.
 *
 * DESCRIPTION
 *	enqueue sends op=queued queue_id=ID after each commit; the message
 *	is claimed from incoming/ and dispatched at once.  Nothing is
 *	answered: a lost note only delays the message until the next scan
 *	of incoming/.  op=queue_notify (id optional, answered status=ok)
 *	asks for that scan now, with deferred/, as SIGUSR1 does.
 *
 * DIAGNOSTICS
 *	A queue_id that is not a well-formed id is logged and ignored: it
 *	never becomes a path.  Unknown ops with an id are answered
 *	status=error; the channel stays up.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/attr.h"
#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/queue_id.h"
#include "qmgr/qmgr.h"

struct lconn {
	struct qmgr *q;
	struct channel *ch;
	LIST_ENTRY(lconn) link;
};

static LIST_HEAD(, lconn) lconns = LIST_HEAD_INITIALIZER(lconns);

static void
listen_reply(struct lconn *c, const struct attr_list *msg, const char *status)
{
	struct buf b = BUF_INIT;
	uint64_t id;

	if (attr_get_u64(msg, "id", &id) < 0)
		return;
	attr_put_u64(&b, "id", id);
	attr_put(&b, "status", status);
	channel_send(c->ch, &b, -1);
	buf_free(&b);
}

static void
listen_queued(struct lconn *c, const struct attr_list *msg)
{
	const char *id = attr_get(msg, "queue_id");

	if (id == NULL || !queue_id_valid(id)) {
		log_warn("note about a malformed queue id '%.40s'", id ? id : "");
		return;
	}
	if (recover_claim(c->q, id))
		dispatch_run(c->q);
}

static void
listen_on_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct lconn *c = arg;
	const char *op = attr_get(msg, "op");

	(void)ch;
	if (fd >= 0)
		close(fd);
	if (op && strcmp(op, "queued") == 0) {
		listen_queued(c, msg);
	} else if (op && strcmp(op, "queue_notify") == 0) {
		qmgr_flush(c->q);
		listen_reply(c, msg, "ok");
	} else {
		listen_reply(c, msg, "error");
	}
}

static void
listen_free(struct lconn *c)
{
	LIST_REMOVE(c, link);
	channel_free(c->ch);
	free(c);
}

static void
listen_on_close(struct channel *ch, void *arg)
{
	(void)ch;
	listen_free(arg);
}

void
listen_on_connection(int fd, void *arg)
{
	struct lconn *c = xcalloc(1, sizeof *c);

	c->q = arg;
	c->ch = channel_new(c->q->base, fd, listen_on_message, listen_on_close, c);
	LIST_INSERT_HEAD(&lconns, c, link);
}

void
listen_shutdown(void)
{
	while (!LIST_EMPTY(&lconns))
		listen_free(LIST_FIRST(&lconns));
}
