/*
 * test_table - text tables compiled into LMDB (common/table.c).
 *
 * Round trips through real files in a temporary directory: comments and
 * continuation lines, 100,000 entries, a malformed line refused with
 * FILE:LINE while the previous table stays readable, a rebuild seen by a
 * reader that was already open, and the address flags of the users table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/table.h"

struct fixture {
	char dir[64];
	char *path;		/* DIR/map */
	char *lmdb;		/* DIR/map.lmdb */
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/test_table.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = xasprintf("%s/map", f->dir);
	f->lmdb = xasprintf("%s/map.lmdb", f->dir);
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
	free(f->path);
	free(f->lmdb);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
build_ok(const char *path, int flags)
{
	struct table_build_opts o = TABLE_BUILD_OPTS_INIT;
	char err[256] = "";

	o.flags = flags;
	if (table_build(path, &o, err, sizeof err) < 0)
		fail_msg("table_build: %s", err);
}

/* The value of key, or NULL if absent; fails the test on a read error. */
static const char *
get(struct table *t, const char *key, struct buf *v)
{
	char err[256];
	int r = table_get(t, key, v, err, sizeof err);

	if (r < 0)
		fail_msg("table_get %s: %s", key, err);
	return r == 1 ? buf_cstr(v) : NULL;
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct buf v = BUF_INIT;
	struct table *t;

	write_file(f->path,
	    "# a comment\n"
	    "\n"
	    "example.org   OK\n"
	    "alias\tjoe, \n"
	    "   ann,\n"
	    "  # comments do not end an entry\n"
	    "\tbob\n"
	    "listed\n"
	    "crlf value\r\n");
	build_ok(f->path, 0);
	t = table_open(f->lmdb, 0);
	assert_string_equal(get(t, "example.org", &v), "OK");
	assert_string_equal(get(t, "alias", &v), "joe, ann, bob");
	assert_string_equal(get(t, "listed", &v), "");
	assert_string_equal(get(t, "crlf", &v), "value");
	assert_null(get(t, "Example.org", &v));
	assert_null(get(t, "# a comment", &v));
	assert_null(get(t, "", &v));
	table_close(t);
	buf_free(&v);
}

static void
test_100000_entries(void **state)
{
	struct fixture *f = *state;
	struct buf v = BUF_INIT;
	char key[32], want[48];
	FILE *fp = fopen(f->path, "w");
	struct table *t;

	assert_non_null(fp);
	for (int i = 0; i < 100000; i++)
		fprintf(fp, "user%06d@example.org value-%d-%x\n", i, i, i * 7919);
	assert_int_equal(fclose(fp), 0);
	build_ok(f->path, 0);
	t = table_open(f->lmdb, 0);
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "user%06d@example.org", i);
		snprintf(want, sizeof want, "value-%d-%x", i, i * 7919);
		const char *got = get(t, key, &v);
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	assert_null(get(t, "user100000@example.org", &v));
	table_close(t);
	buf_free(&v);
}

static void
expect_refused(struct fixture *f, const char *text, const char *where)
{
	char err[256] = "", *want = xasprintf("%s:%s", f->path, where);
	struct stat st;

	write_file(f->path, text);
	assert_int_equal(table_build(f->path, NULL, err, sizeof err), -1);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, want);
	assert_int_equal(stat(f->path, &st), 0);
	char *tmp = xasprintf("%s.tmp", f->lmdb);
	assert_int_equal(stat(tmp, &st), -1);	/* no leftover */
	free(tmp);
	free(want);
}

static void
test_malformed_keeps_old(void **state)
{
	struct fixture *f = *state;
	struct buf v = BUF_INIT;
	char longkey[TABLE_KEY_MAX + 10];
	struct table *t;

	write_file(f->path, "a 1\nb 2\n");
	build_ok(f->path, 0);
	t = table_open(f->lmdb, 0);
	assert_string_equal(get(t, "a", &v), "1");

	expect_refused(f, "# header\n\n  orphan continuation\na 9\n", "3: ");
	expect_refused(f, "a 9\nb 9\nc 9\na 10\n", "4: duplicate key 'a'");
	expect_refused(f, "a 9\nb\x01x 9\n", "2: control character");
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	char *text = xasprintf("a 9\n%s 1\n", longkey);
	expect_refused(f, text, "2: key longer");
	free(text);

	/* The open reader, and a new one, still see the first table. */
	assert_string_equal(get(t, "a", &v), "1");
	assert_string_equal(get(t, "b", &v), "2");
	table_close(t);
	t = table_open(f->lmdb, 0);
	assert_string_equal(get(t, "a", &v), "1");
	table_close(t);
	buf_free(&v);
}

static void
test_rebuild_seen_by_open_reader(void **state)
{
	struct fixture *f = *state;
	struct buf v = BUF_INIT;
	struct table *t;

	write_file(f->path, "key first\n");
	build_ok(f->path, 0);
	t = table_open(f->lmdb, 0);
	assert_string_equal(get(t, "key", &v), "first");
	for (int i = 0; i < 3; i++) {
		char *text = xasprintf("key round%d\nnew%d yes\n", i, i);
		write_file(f->path, text);
		free(text);
		build_ok(f->path, 0);
		char *want = xasprintf("round%d", i);
		assert_string_equal(get(t, "key", &v), want);
		free(want);
	}
	assert_string_equal(get(t, "new2", &v), "yes");
	assert_null(get(t, "new1", &v));
	table_close(t);
	buf_free(&v);
}

static void
test_missing_table_then_built(void **state)
{
	struct fixture *f = *state;
	struct buf v = BUF_INIT;
	char err[256] = "";
	struct table *t = table_open(f->lmdb, 0);

	assert_int_equal(table_get(t, "a", &v, err, sizeof err), -1);
	assert_non_null(strstr(err, f->lmdb));
	write_file(f->path, "a 1\n");
	build_ok(f->path, 0);
	assert_string_equal(get(t, "a", &v), "1");
	table_close(t);
	buf_free(&v);
}

static void
test_address_flags(void **state)
{
	struct fixture *f = *state;
	struct buf v = BUF_INIT;
	struct table *t;

	write_file(f->path,
	    "Joe@Example.ORG  hash1\n"
	    "ann@example.org  hash2\n"
	    "bob@Other.Test   hash3\n"
	    "@listed.test\n");
	build_ok(f->path, TABLE_FOLD_DOMAIN | TABLE_DOMAIN_KEYS);
	t = table_open(f->lmdb, TABLE_FOLD_DOMAIN);
	assert_string_equal(get(t, "Joe@example.org", &v), "hash1");
	assert_string_equal(get(t, "Joe@EXAMPLE.org", &v), "hash1");
	assert_null(get(t, "joe@example.org", &v));	/* local part is exact */
	assert_non_null(get(t, "@example.org", &v));
	assert_non_null(get(t, "@OTHER.test", &v));
	assert_non_null(get(t, "@listed.test", &v));
	assert_null(get(t, "@nowhere.test", &v));
	table_close(t);
	buf_free(&v);
}

static int
count_entry(const char *key, const char *value, unsigned line, void *arg)
{
	(void)key;
	(void)value;
	(void)line;
	(*(int *)arg)++;
	return 0;
}

static void
test_parse_callback(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int n = 0;

	write_file(f->path, "a 1\n  more\n# c\nb 2\nc");
	assert_int_equal(table_parse(f->path, 0, count_entry, &n, err,
	    sizeof err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(table_parse("/nonexistent/x", 0, count_entry, &n, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_100000_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_keeps_old, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_seen_by_open_reader,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_table_then_built,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_callback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
