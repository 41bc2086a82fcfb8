/*
 * test_maildir - local's Maildir writes (delivery/maildir.c) from real
 * queue files: the copy's headers and bytes, the exactly-once name, the
 * earlier copy found in new/ or cur/, and paths that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/queue_file.h"
#include "delivery/local.h"

struct fixture {
	char dir[64];
	char oldcwd[4096];
	struct arena *a;
	struct queue_envelope env;
	int qfd;
	struct buf body;
};

static void
make_queue_file(struct fixture *f, const char *sender, const char *body,
    size_t body_len)
{
	struct queue_rcpt rcpt[2] = {
		{ .addr = "demo@localhost", .status = RCPT_PENDING, .reason = "" },
		{ .addr = "Ann@Example.ORG", .status = RCPT_PENDING, .reason = "" },
	};
	struct queue_envelope in = { .sender = (char *)sender, .nrcpt = 2,
	    .rcpt = rcpt, .protocol = "ESMTP" };
	char err[256], id[QUEUE_ID_LEN + 1];
	int dirfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	struct queue_writer *w = queue_writer_begin(dirfd, &in, id, err,
	    sizeof err);

	assert_non_null(w);
	assert_int_equal(queue_writer_append(w, body, body_len), 0);
	assert_int_equal(queue_writer_commit(w, err, sizeof err), 0);
	f->qfd = openat(dirfd, id, O_RDONLY);
	assert_true(f->qfd >= 0);
	close(dirfd);
	f->a = arena_new();
	if (queue_file_read(f->qfd, f->a, &f->env, err, sizeof err) < 0)
		fail_msg("queue_file_read: %s", err);
	buf_reset(&f->body);
	buf_append(&f->body, body, body_len);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	static const char body[] = "Subject: hi\r\n\r\nhello\r\n";

	snprintf(f->dir, sizeof f->dir, "/tmp/test_maildir.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_non_null(getcwd(f->oldcwd, sizeof f->oldcwd));
	make_queue_file(f, "joe@example.org", body, strlen(body));
	/* local's cwd is the mail root */
	char *root = xasprintf("%s/mail", f->dir);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(chdir(root), 0);
	free(root);
	maildir_init("mx/1:test");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	assert_int_equal(chdir(f->oldcwd), 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	close(f->qfd);
	arena_free(f->a);
	buf_free(&f->body);
	free(f);
	return 0;
}

static char
deliver(struct fixture *f, size_t rcpt, const char *mailbox, int maybe,
    struct buf *reply)
{
	struct maildir_job job = { &f->env, f->qfd, f->env.rcpt[rcpt].addr,
	    mailbox, maybe };

	return maildir_deliver(&job, reply);
}

/* Number of entries in dir (without . and ..); the last name in *name. */
static int
list_dir(const char *dir, char **name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (name) {
			free(*name);
			*name = xstrdup(e->d_name);
		}
	}
	closedir(d);
	return n;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;

	assert_non_null(fp);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	*len = b.len;
	return b.data;
}

static void
test_copy_and_name(void **state)
{
	struct fixture *f = *state;
	struct buf reply = BUF_INIT;
	char *name = NULL, *prefix, *path, *data;
	size_t len;
	struct stat st;

	assert_int_equal(deliver(f, 0, "localhost/demo", 0, &reply),
	    RCPT_DELIVERED);
	assert_string_equal(buf_cstr(&reply), "250 2.0.0 delivered to maildir");
	assert_int_equal(list_dir("localhost/demo/new", &name), 1);
	assert_int_equal(list_dir("localhost/demo/tmp", NULL), 0);
	assert_int_equal(list_dir("localhost/demo/cur", NULL), 0);
	prefix = xasprintf("%lld.%s_", (long long)f->env.arrival, f->env.id);
	assert_int_equal(strncmp(name, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(name, ".mx\\0571\\072test,S="));
	path = xasprintf("localhost/demo/new/%s", name);
	data = slurp(path, &len);
	static const char head[] = "Return-Path: <joe@example.org>\r\n"
	    "Delivered-To: demo@localhost\r\n";
	assert_int_equal(len, strlen(head) + f->body.len);
	assert_memory_equal(data, head, strlen(head));
	assert_memory_equal(data + strlen(head), f->body.data, f->body.len);
	assert_int_equal(stat(path, &st), 0);
	char *size = xasprintf(",S=%zu", len);
	assert_non_null(strstr(name, size));
	assert_int_equal(st.st_mode & 0777, 0600);
	free(size);
	free(data);
	free(path);
	free(prefix);
	free(name);
	buf_free(&reply);
}

static void
test_exactly_once(void **state)
{
	struct fixture *f = *state;
	struct buf reply = BUF_INIT;
	char *name = NULL, *from, *to;

	assert_int_equal(deliver(f, 0, "localhost/demo", 0, &reply),
	    RCPT_DELIVERED);
	/* A retry, with or without the hint, writes no second copy. */
	assert_int_equal(deliver(f, 0, "localhost/demo", 0, &reply),
	    RCPT_DELIVERED);
	assert_int_equal(deliver(f, 0, "localhost/demo", 1, &reply),
	    RCPT_DELIVERED);
	assert_int_equal(list_dir("localhost/demo/new", &name), 1);
	/* The user read it: the copy moved to cur/ with flags. */
	from = xasprintf("localhost/demo/new/%s", name);
	to = xasprintf("localhost/demo/cur/%s:2,S", name);
	assert_int_equal(rename(from, to), 0);
	maildir_init("renamed-host");
	assert_int_equal(deliver(f, 0, "localhost/demo", 1, &reply),
	    RCPT_DELIVERED);
	assert_int_equal(list_dir("localhost/demo/new", NULL), 0);
	assert_int_equal(list_dir("localhost/demo/cur", NULL), 1);
	/* Another recipient of the same message is another copy. */
	assert_int_equal(deliver(f, 1, "localhost/demo", 1, &reply),
	    RCPT_DELIVERED);
	assert_int_equal(list_dir("localhost/demo/new", NULL), 1);
	free(from);
	free(to);
	free(name);
	buf_free(&reply);
}

static void
test_refused_paths(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"../demo", "localhost/../../x", "/etc/x", "localhost/.x",
		".localhost/x", "localhost", "localhost/", "/x", "a/b/c", "",
	};
	struct buf reply = BUF_INIT;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(maildir_path_ok(bad[i]), 0);
		assert_int_equal(deliver(f, 0, bad[i], 0, &reply), RCPT_PENDING);
		assert_int_equal(strncmp(buf_cstr(&reply), "451 4.3.0 ", 10), 0);
	}
	assert_int_equal(maildir_path_ok("example.org/joe.x"), 1);
	assert_int_equal(list_dir(".", NULL), 0);
	buf_free(&reply);
}

static void
test_write_failure_defers(void **state)
{
	struct fixture *f = *state;
	struct buf reply = BUF_INIT;
	int fd = open("blocked", O_CREAT | O_WRONLY, 0600);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(deliver(f, 0, "blocked/demo", 0, &reply), RCPT_PENDING);
	assert_non_null(strstr(buf_cstr(&reply), "451 4.3.0"));
	buf_free(&reply);
}

static void
test_large_lf_message_null_sender(void **state)
{
	struct fixture *f = *state;
	struct buf body = BUF_INIT, reply = BUF_INIT;
	char *name = NULL, *path, *data;
	size_t len;

	buf_puts(&body, "Subject: big\n\n");
	for (int i = 0; i < 60000; i++)
		buf_printf(&body, "line %d of a message that is several MB\n", i);
	close(f->qfd);
	arena_free(f->a);
	make_queue_file(f, "", body.data, body.len);
	assert_int_equal(deliver(f, 1, "example.org/Ann", 0, &reply),
	    RCPT_DELIVERED);
	assert_int_equal(list_dir("example.org/Ann/new", &name), 1);
	path = xasprintf("example.org/Ann/new/%s", name);
	data = slurp(path, &len);
	static const char head[] = "Return-Path: <>\nDelivered-To: Ann@Example.ORG\n";
	assert_int_equal(len, strlen(head) + body.len);
	assert_memory_equal(data, head, strlen(head));
	assert_memory_equal(data + strlen(head), body.data, body.len);
	free(data);
	free(path);
	free(name);
	buf_free(&body);
	buf_free(&reply);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_and_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exactly_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_defers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_large_lf_message_null_sender,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
