/*
 * test_lookup_answer - the lookup agent's answers (lookup/answer.c), on a
 * real channel over a socketpair and a real users table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/channel.h"
#include "common/mem.h"
#include "common/table.h"
#include "common/users.h"
#include "lookup/lookup.h"

struct fixture {
	char dir[64];
	struct config cfg;
	struct lookup lk;
	struct event_base *base;
	struct channel *ch;
	int peer;		/* the client's end */
	struct buf frame;
	struct attr_list reply;
};

static void
ignore_message(struct channel *ch, struct attr_list *m, int fd, void *arg)
{
	(void)ch;
	(void)m;
	(void)fd;
	(void)arg;
}

static void
ignore_close(struct channel *ch, void *arg)
{
	(void)ch;
	(void)arg;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char err[256], *lmdb;
	int sv[2];

	snprintf(f->dir, sizeof f->dir, "/tmp/test_lookup.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->cfg.users_table = xasprintf("%s/users", f->dir);
	f->cfg.lookup_user = xstrdup(getpwuid(geteuid())->pw_name);
	assert_int_equal(users_add_user(&f->cfg, "demo@localhost", "demo", err,
	    sizeof err), 0);
	assert_int_equal(users_add_user(&f->cfg, "Joe@Example.ORG", "s3cret",
	    err, sizeof err), 0);
	assert_int_equal(users_hash_password("x", f->lk.dummy_hash,
	    sizeof f->lk.dummy_hash, err, sizeof err), 0);
	lmdb = xasprintf("%s.lmdb", f->cfg.users_table);
	f->lk.users = table_open(lmdb, TABLE_FOLD_DOMAIN);
	free(lmdb);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->base = event_base_new();
	f->ch = channel_new(f->base, sv[0], ignore_message, ignore_close, NULL);
	f->peer = sv[1];
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	channel_free(f->ch);
	event_base_free(f->base);
	close(f->peer);
	table_close(f->lk.users);
	buf_free(&f->frame);
	free(f->cfg.users_table);
	free(f->cfg.lookup_user);
	free(f);
	return 0;
}

/* Sends "op=OP id=7 K=V..." through lookup_answer and reads the reply. */
static void
ask(struct fixture *f, const char *op, ...)
{
	struct buf body = BUF_INIT;
	struct attr_list *req = xmalloc(sizeof *req);
	const char *err, *k;
	va_list ap;
	int fd;

	attr_put(&body, "op", op);
	attr_put(&body, "id", "7");
	va_start(ap, op);
	while ((k = va_arg(ap, const char *)) != NULL)
		attr_put(&body, k, va_arg(ap, const char *));
	va_end(ap);
	assert_int_equal(attr_decode(body.data, body.len, req, &err), 0);
	lookup_answer(&f->lk, f->ch, req);
	assert_int_equal(channel_read_frame(f->peer, &f->frame, &f->reply, &fd,
	    2000), 0);
	assert_string_equal(attr_get(&f->reply, "id"), "7");
	free(req);
	buf_free(&body);
}

static const char *
got(struct fixture *f, const char *key)
{
	const char *v = attr_get(&f->reply, key);

	return v ? v : "(absent)";
}

static void
test_domain(void **state)
{
	struct fixture *f = *state;

	ask(f, "domain", "name", "localhost", NULL);
	assert_string_equal(got(f, "result"), "local");
	ask(f, "domain", "name", "EXAMPLE.org", NULL);
	assert_string_equal(got(f, "result"), "local");
	ask(f, "domain", "name", "gmail.test", NULL);
	assert_string_equal(got(f, "result"), "remote");
	ask(f, "domain", NULL);
	assert_string_equal(got(f, "result"), "remote");
}

static void
test_user(void **state)
{
	struct fixture *f = *state;

	ask(f, "user", "addr", "Joe@example.ORG", NULL);
	assert_string_equal(got(f, "result"), "ok");
	assert_string_equal(got(f, "mailbox"), "example.org/Joe");
	ask(f, "user", "addr", "demo@localhost", NULL);
	assert_string_equal(got(f, "mailbox"), "localhost/demo");
	ask(f, "user", "addr", "joe@example.org", NULL);
	assert_string_equal(got(f, "result"), "notfound");
	ask(f, "user", "addr", "someone@remote.test", NULL);
	assert_string_equal(got(f, "result"), "remote");
	/* Nothing that could leave the mail root is ever a mailbox. */
	ask(f, "user", "addr", "../demo@localhost", NULL);
	assert_string_equal(got(f, "result"), "notfound");
	ask(f, "user", "addr", "a/../../etc@localhost", NULL);
	assert_string_equal(got(f, "result"), "notfound");
	ask(f, "user", "addr", ".demo@localhost", NULL);
	assert_string_equal(got(f, "result"), "notfound");
	ask(f, "user", "addr", "postmaster", NULL);
	assert_string_equal(got(f, "result"), "notfound");
}

static void
test_auth(void **state)
{
	struct fixture *f = *state;

	ask(f, "auth", "user", "Joe@EXAMPLE.org", "password", "s3cret", NULL);
	assert_string_equal(got(f, "result"), "ok");
	assert_string_equal(got(f, "user"), "Joe@example.org");
	ask(f, "auth", "user", "Joe@example.org", "password", "wrong", NULL);
	assert_string_equal(got(f, "result"), "fail");
	ask(f, "auth", "user", "nobody@example.org", "password", "s3cret", NULL);
	assert_string_equal(got(f, "result"), "fail");
	ask(f, "auth", "user", "demo@localhost", "password", "", NULL);
	assert_string_equal(got(f, "result"), "fail");
	ask(f, "auth", "user", "demo@localhost", NULL);
	assert_string_equal(got(f, "result"), "fail");
}

static void
test_new_user_seen_without_restart(void **state)
{
	struct fixture *f = *state;
	char err[256];

	ask(f, "user", "addr", "new@fresh.test", NULL);
	assert_string_equal(got(f, "result"), "remote");
	assert_int_equal(users_add_user(&f->cfg, "new@fresh.test", "pw", err,
	    sizeof err), 0);
	ask(f, "user", "addr", "new@fresh.test", NULL);
	assert_string_equal(got(f, "mailbox"), "fresh.test/new");
	ask(f, "auth", "user", "new@fresh.test", "password", "pw", NULL);
	assert_string_equal(got(f, "result"), "ok");
}

static void
test_unreadable_table_is_temp(void **state)
{
	struct fixture *f = *state;
	char *lmdb = xasprintf("%s.lmdb", f->cfg.users_table);

	assert_int_equal(unlink(lmdb), 0);
	free(lmdb);
	ask(f, "user", "addr", "demo@localhost", NULL);
	assert_string_equal(got(f, "result"), "temp");
	ask(f, "auth", "user", "demo@localhost", "password", "demo", NULL);
	assert_string_equal(got(f, "result"), "temp");
	ask(f, "domain", "name", "localhost", NULL);
	assert_string_equal(got(f, "result"), "temp");
}

static void
test_unknown_op(void **state)
{
	struct fixture *f = *state;

	ask(f, "frobnicate", NULL);
	assert_string_equal(got(f, "status"), "error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_user_seen_without_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_table_is_temp,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_op, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
