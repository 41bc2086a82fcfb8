/*
 * answer - the lookup agent's answers: one row per op in lookup_ops[].
 *
 * DESCRIPTION
 *	op=domain name=DOMAIN	result=local when the users table has the
 *				key "@DOMAIN", else result=remote.
 *	op=user addr=ADDR	result=ok mailbox=DOMAIN/LOCAL for a user;
 *				result=notfound when the domain is local but
 *				the user is not (or the address could not be a
 *				safe Maildir path: '/' or a part starting with
 *				'.'); result=remote when the domain is not ours.
 *	op=auth user password	result=ok user=CANONICAL or result=fail.
 *	Any op may answer result=temp reason=... when the table cannot be
 *	read; callers turn that into a 4xx, never a 5xx.
 *
 *	The domain part is compared case-insensitively (the table folds
 *	it); the local part exactly as stored, so the mailbox directory is
 *	the stored spelling.
 *
 *	Authentication always runs crypt(3) once, against a dummy hash of
 *	the same kind when the user does not exist, so the time taken does
 *	not tell an attacker which addresses exist.  Each failure is logged
 *	once here with the user name; the caller logs the client address.
 *
 * DIAGNOSTICS
 *	A table error is logged when it first appears (not once per
 *	request) and answered with result=temp.  An unknown op is answered
 *	with status=error and the channel stays up (proto.h).
 */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/channel.h"
#include "common/log.h"
#include "common/table.h"
#include "lookup/lookup.h"

#define LOG_NAME_MAX	100	/* of a user name in a log line */

enum lookup_result { FOUND = 1, ABSENT = 0, UNREADABLE = -1 };

/* Looks key up, logging a table error only when it differs from the last. */
static enum lookup_result
users_get(struct lookup *lk, const char *key, struct buf *value,
    struct buf *reply)
{
	char err[256];
	int rc = table_get(lk->users, key, value, err, sizeof err);

	if (rc >= 0) {
		lk->last_error[0] = '\0';
		return rc ? FOUND : ABSENT;
	}
	if (strcmp(err, lk->last_error) != 0) {
		log_warn("users table: %s", err);
		snprintf(lk->last_error, sizeof lk->last_error, "%s", err);
	}
	attr_put(reply, "result", "temp");
	attr_put(reply, "reason", "users table unreadable");
	return UNREADABLE;
}

static enum lookup_result
domain_is_local(struct lookup *lk, const char *domain, struct buf *reply)
{
	struct buf key = BUF_INIT, value = BUF_INIT;
	enum lookup_result r;

	buf_printf(&key, "@%s", domain);
	r = users_get(lk, buf_cstr(&key), &value, reply);
	buf_free(&key);
	buf_free(&value);
	return r;
}

static void
answer_domain(struct lookup *lk, const struct attr_list *req, struct buf *reply)
{
	const char *name = attr_get(req, "name");
	enum lookup_result r = ABSENT;

	if (name != NULL && name[0] != '\0' && strlen(name) <= USERS_ADDR_MAX &&
	    strchr(name, '@') == NULL)
		r = domain_is_local(lk, name, reply);
	if (r != UNREADABLE)
		attr_put(reply, "result", r == FOUND ? "local" : "remote");
}

/* "example.org/joe" for "joe@example.org" (already canonical). */
static void
put_mailbox(struct buf *reply, const char *canonical)
{
	const char *at = strrchr(canonical, '@');

	attr_put(reply, "result", "ok");
	attr_putf(reply, "mailbox", "%s/%.*s", at + 1,
	    (int)(at - canonical), canonical);
}

static void
answer_user(struct lookup *lk, const struct attr_list *req, struct buf *reply)
{
	const char *addr = attr_get(req, "addr");
	char key[USERS_ADDR_MAX + 1];
	const char *at = addr ? strrchr(addr, '@') : NULL;
	struct buf value = BUF_INIT;
	enum lookup_result r;

	if (at == NULL || strlen(addr) > USERS_ADDR_MAX) {
		attr_put(reply, "result", "notfound");
		return;
	}
	if ((r = domain_is_local(lk, at + 1, reply)) == ABSENT)
		attr_put(reply, "result", "remote");
	if (r != FOUND)
		return;
	if (users_canonical(addr, key, sizeof key) < 0 ||
	    (r = users_get(lk, key, &value, reply)) == ABSENT)
		attr_put(reply, "result", "notfound");
	else if (r == FOUND)
		put_mailbox(reply, key);
	buf_free(&value);
}

/* A user name fit for a log line: printable ASCII, bounded. */
static void
log_safe(char *out, size_t outlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < LOG_NAME_MAX && i + 1 < outlen; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}

/* The hash is the first word of the value; options may follow. */
static int
check_password(struct lookup *lk, const char *password, struct buf *value,
    enum lookup_result r)
{
	const char *hash = lk->dummy_hash;

	if (r == FOUND) {
		value->data[strcspn(value->data, " \t")] = '\0';
		hash = value->data;
	}
	return users_password_ok(password, hash) && r == FOUND;
}

static void
answer_auth(struct lookup *lk, const struct attr_list *req, struct buf *reply)
{
	const char *user = attr_get(req, "user");
	const char *password = attr_get(req, "password");
	char key[USERS_ADDR_MAX + 1], shown[LOG_NAME_MAX + 1];
	struct buf value = BUF_INIT;
	enum lookup_result r = ABSENT;

	if (user == NULL || password == NULL ||
	    strlen(password) > USERS_PASSWORD_MAX) {
		attr_put(reply, "result", "fail");
		return;
	}
	if (users_canonical(user, key, sizeof key) == 0 &&
	    (r = users_get(lk, key, &value, reply)) == UNREADABLE)
		goto out;
	if (password[0] != '\0' && check_password(lk, password, &value, r)) {
		attr_put(reply, "result", "ok");
		attr_put(reply, "user", key);
	} else {
		log_safe(shown, sizeof shown, user);
		log_warn("authentication failed for %s: %s", shown,
		    r == FOUND ? "wrong password" : "no such user");
		attr_put(reply, "result", "fail");
	}
out:
	buf_free(&value);
}

static const struct lookup_op {
	const char *name;
	void (*answer)(struct lookup *, const struct attr_list *, struct buf *);
} lookup_ops[] = {
	{ "domain", answer_domain },
	{ "user", answer_user },
	{ "auth", answer_auth },
};

void
lookup_answer(struct lookup *lk, struct channel *ch, const struct attr_list *req)
{
	const char *op = attr_get(req, "op");
	const char *id = attr_get(req, "id");
	struct buf reply = BUF_INIT;
	size_t i;

	if (id != NULL)
		attr_put(&reply, "id", id);
	for (i = 0; i < sizeof lookup_ops / sizeof lookup_ops[0]; i++)
		if (op != NULL && strcmp(op, lookup_ops[i].name) == 0)
			break;
	if (i < sizeof lookup_ops / sizeof lookup_ops[0]) {
		lookup_ops[i].answer(lk, req, &reply);
	} else {
		log_warn("unknown request op=%.32s", op ? op : "(none)");
		attr_put(&reply, "status", "error");
		attr_put(&reply, "reason", "unknown op");
	}
	channel_send(ch, &reply, -1);
	buf_free(&reply);
}
