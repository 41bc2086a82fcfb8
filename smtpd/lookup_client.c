/*
 * lookup_client - smtpd's questions to the lookup service.  The manual is
 * in lookup_client.h.
 */
#include "smtpd/lookup_client.h"

#include <string.h>

#include "common/attr.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/proto.h"
#include "smtpd/peer.h"

static enum lookup_result
decode_result(const struct attr_list *reply)
{
	const char *result;

	if (reply == NULL)
		return LOOKUP_TEMP;
	if ((result = attr_get(reply, "result")) == NULL) {
		log_warn("lookup: reply without result");
		return LOOKUP_TEMP;
	}
	if (strcmp(result, "ok") == 0)
		return LOOKUP_OK;
	if (strcmp(result, "notfound") == 0)
		return LOOKUP_NOTFOUND;
	if (strcmp(result, "remote") == 0)
		return LOOKUP_REMOTE;
	if (strcmp(result, "temp") != 0)
		log_warn("lookup: unexpected result '%s'", result);
	return LOOKUP_TEMP;
}

static void
on_reply(void *arg, struct attr_list *reply)
{
	struct lookup_call *c = arg;

	c->active = 0;
	c->fn(c->arg, decode_result(reply));
}

int
lookup_user(struct peer *p, struct lookup_call *c, const char *addr,
    lookup_user_fn fn, void *arg)
{
	struct buf body = BUF_INIT;
	int r;

	c->peer = p;
	c->id = peer_new_id(p);
	c->fn = fn;
	c->arg = arg;
	attr_put(&body, "op", "user");
	attr_put_u64(&body, "id", c->id);
	attr_put(&body, "addr", addr);
	r = peer_call(p, c->id, &body, PROTO_TIMEOUT_MS, on_reply, c);
	buf_free(&body);
	c->active = r == 0;
	return r;
}

void
lookup_cancel(struct lookup_call *c)
{
	if (c->active)
		peer_cancel(c->peer, c->id);
	c->active = 0;
}
