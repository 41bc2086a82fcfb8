/*
 * test_users - the users table behind `postern user` (common/users.c).
 *
 * Each test edits a real table in a temporary directory and reads the
 * result back both as text and through the compiled LMDB, the way the
 * lookup agent does.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/mem.h"
#include "common/table.h"
#include "common/users.h"

struct fixture {
	char dir[64];
	struct config cfg;
	char *lmdb;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct passwd *me = getpwuid(geteuid());

	assert_non_null(me);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_users.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->cfg.users_table = xasprintf("%s/users", f->dir);
	f->cfg.tables_dir = xstrdup(f->dir);
	/* As root the files go to lookup_user: make that ourselves. */
	f->cfg.lookup_user = xstrdup(me->pw_name);
	f->lmdb = xasprintf("%s/users.lmdb", f->dir);
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
	free(f->cfg.users_table);
	free(f->cfg.tables_dir);
	free(f->cfg.lookup_user);
	free(f->lmdb);
	free(f);
	return 0;
}

static void
add_ok(struct fixture *f, const char *addr, const char *password)
{
	char err[256] = "";

	if (users_add_user(&f->cfg, addr, password, err, sizeof err) < 0)
		fail_msg("users_add_user %s: %s", addr, err);
}

/* The stored hash of addr via the LMDB, or NULL. */
static char *
stored_hash(struct fixture *f, const char *addr)
{
	struct table *t = table_open(f->lmdb, TABLE_FOLD_DOMAIN);
	struct buf v = BUF_INIT;
	char err[256], *hash = NULL;
	int r = table_get(t, addr, &v, err, sizeof err);

	if (r < 0)
		fail_msg("table_get: %s", err);
	if (r == 1)
		hash = xstrndup(v.data, strcspn(v.data, " "));
	buf_free(&v);
	table_close(t);
	return hash;
}

static char *
read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = xcalloc(1, 65536);

	assert_non_null(fp);
	if (fread(text, 1, 65535, fp) == 0 && ferror(fp))
		fail_msg("cannot read %s", path);
	fclose(fp);
	return text;
}

static void
test_add_and_check_password(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct stat st;

	add_ok(f, "demo@localhost", "demo");
	char *hash = stored_hash(f, "demo@localhost");
	assert_non_null(hash);
	assert_true(strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$6$", 3) == 0);
	assert_int_equal(users_password_ok("demo", hash), 1);
	assert_int_equal(users_password_ok("Demo", hash), 0);
	assert_int_equal(users_password_ok("", hash), 0);
	free(hash);
	assert_int_equal(users_exists(&f->cfg, "demo@LOCALHOST", err,
	    sizeof err), 1);
	assert_int_equal(users_add_user(&f->cfg, "demo@Localhost", "x", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(stat(f->cfg.users_table, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(stat(f->lmdb, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_domain_becomes_local(void **state)
{
	struct fixture *f = *state;
	char err[256];
	char *h;

	add_ok(f, "Joe@Example.ORG", "pw1");
	assert_non_null(h = stored_hash(f, "@example.org"));
	free(h);
	assert_non_null(h = stored_hash(f, "Joe@example.org"));
	free(h);
	add_ok(f, "ann@example.org", "pw2");
	assert_int_equal(users_delete(&f->cfg, "Joe@example.org", err,
	    sizeof err), 0);
	assert_null(stored_hash(f, "Joe@example.org"));
	assert_non_null(h = stored_hash(f, "@example.org"));	/* ann is left */
	free(h);
	assert_int_equal(users_delete(&f->cfg, "ann@example.org", err,
	    sizeof err), 0);
	assert_null(stored_hash(f, "@example.org"));
	assert_int_equal(users_delete(&f->cfg, "ann@example.org", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "no user"));
}

static void
test_passwd_keeps_options_and_comments(void **state)
{
	struct fixture *f = *state;
	char err[256];
	FILE *fp = fopen(f->cfg.users_table, "w");

	assert_non_null(fp);
	fputs("# our users\n"
	    "a@x.test $6$old$hash quota=1G\n"
	    "  note=kept\n"
	    "\n"
	    "b@x.test $6$other$hash\n", fp);
	fclose(fp);
	assert_int_equal(users_set_password(&f->cfg, "a@X.TEST", "newpw", err,
	    sizeof err), 0);
	char *text = read_text(f->cfg.users_table);
	assert_non_null(strstr(text, "# our users\n"));
	assert_non_null(strstr(text, " quota=1G note=kept\n"));
	assert_non_null(strstr(text, "\nb@x.test $6$other$hash\n"));
	assert_null(strstr(text, "$6$old$hash"));
	assert_null(strstr(text, "  note=kept"));	/* continuation folded in */
	free(text);
	char *hash = stored_hash(f, "a@x.test");
	assert_int_equal(users_password_ok("newpw", hash), 1);
	free(hash);
}

static void
test_refuses_bad_input(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"a/b@x.test", ".hidden@x.test", "a@.x.test", "a@x/y", "a@",
		"@x.test", "noat", "a b@x.test", "a\n@x.test", "",
	};
	char err[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(users_add_user(&f->cfg, bad[i], "pw", err,
		    sizeof err), -1);
	assert_int_equal(users_add_user(&f->cfg, "ok@x.test", "", err,
	    sizeof err), -1);
	assert_int_equal(access(f->cfg.users_table, F_OK), -1);
}

static void
test_malformed_table_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char err[256];

	add_ok(f, "a@x.test", "pw");
	char *before = read_text(f->cfg.users_table);
	FILE *fp = fopen(f->cfg.users_table, "a");
	fputs("a@X.test $6$dup\n", fp);		/* a duplicate after folding */
	fclose(fp);
	assert_int_equal(users_add_user(&f->cfg, "b@x.test", "pw", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "users:2: duplicate key"));
	char *after = read_text(f->cfg.users_table);
	assert_non_null(strstr(after, before));
	assert_null(strstr(after, "b@x.test"));
	assert_null(stored_hash(f, "b@x.test"));
	free(before);
	free(after);
}

static void
test_list(void **state)
{
	struct fixture *f = *state;
	char err[256], out[256] = "";
	FILE *mem = fmemopen(out, sizeof out - 1, "w");

	add_ok(f, "z@b.test", "1");
	add_ok(f, "y@A.test", "2");
	assert_int_equal(users_list(&f->cfg, mem, err, sizeof err), 0);
	fclose(mem);
	assert_string_equal(out, "z@b.test\ny@a.test\n");
}

static void
test_canonical(void **state)
{
	char out[USERS_ADDR_MAX + 1];

	(void)state;
	assert_int_equal(users_canonical("Joe.X@Mail.Example.ORG", out,
	    sizeof out), 0);
	assert_string_equal(out, "Joe.X@mail.example.org");
	assert_int_equal(users_canonical("../x@y", out, sizeof out), -1);
	assert_int_equal(users_canonical("x@..", out, sizeof out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_and_check_password,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_becomes_local, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_passwd_keeps_options_and_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_input, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_malformed_table_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test(test_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
