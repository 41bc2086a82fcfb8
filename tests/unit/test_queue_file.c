/*
 * test_queue_file - the queue file's writer, reader and in-place updates,
 * on real files in a temporary directory.
 *
 * What must hold: a committed file reads back exactly as written; a status
 * rewritten in place reads back and changes nothing else; a file cut short
 * anywhere, or holding anything but the format, is refused with a reason;
 * and nothing that was not committed is ever visible under a queue id.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mem.h"
#include "common/queue_file.h"
#include "common/queue_id.h"

#define BODY1 "Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
#define BODY2 "Subject: hi\r\n\r\nline one\r\n--\r\n.dot\r\n"

struct fixture {
	char dir[64];
	int dirfd;
	struct queue_rcpt rcpt[3];
	struct queue_envelope env;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/test_queue_file.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dirfd >= 0);
	f->rcpt[0].addr = "a@example.com";
	f->rcpt[0].orcpt = "rfc822;A@example.com";
	f->rcpt[0].notify = "FAILURE,DELAY";
	f->rcpt[1].addr = "\"b c\"@example.org";
	f->rcpt[2].addr = "d@example.net";
	f->env.arrival = 1763800000;
	f->env.sender = "joe@example.org";
	f->env.client = "192.0.2.1 [mx.example.org]";
	f->env.helo = "mx.example.org";
	f->env.protocol = "ESMTPSA";
	f->env.auth = "joe@example.org";
	f->env.envid = "xyz";
	f->env.ret = "HDRS";
	f->env.smtputf8 = 1;
	f->env.body_type = "8BITMIME";
	f->env.nrcpt = 3;
	f->env.rcpt = f->rcpt;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = fdopendir(f->dirfd);
	struct dirent *e;

	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || strncmp(e->d_name, ".tmp-", 5) == 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Names in the directory: queue ids and temporary files. */
static void
count_names(int dirfd, int *ids, int *temps)
{
	int fd = dup(dirfd);
	DIR *d = fdopendir(fd);
	struct dirent *e;

	*ids = *temps = 0;
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (queue_id_valid(e->d_name))
			(*ids)++;
		else if (strncmp(e->d_name, ".tmp-", 5) == 0)
			(*temps)++;
	}
	closedir(d);
}

static void
write_message(struct fixture *f, char id[QUEUE_ID_LEN + 1])
{
	char err[256];
	struct queue_writer *w = queue_writer_begin(f->dirfd, &f->env, id,
	    err, sizeof err);

	assert_non_null(w);
	assert_int_equal(queue_writer_append(w, BODY1, strlen(BODY1)), 0);
	assert_int_equal(queue_writer_append(w, BODY2, strlen(BODY2)), 0);
	assert_int_equal(queue_writer_size(w), strlen(BODY1 BODY2));
	assert_int_equal(queue_writer_commit(w, err, sizeof err), 0);
}

static int
open_id(struct fixture *f, const char *id, int flags)
{
	int fd = openat(f->dirfd, id, flags);

	assert_true(fd >= 0);
	return fd;
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_LEN + 1], err[256], body[256];
	struct queue_envelope env;
	struct arena *a = arena_new();
	int fd;

	write_message(f, id);
	assert_true(queue_id_valid(id));
	fd = open_id(f, id, O_RDONLY);
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), 0);
	assert_string_equal(env.id, id);
	assert_int_equal(env.arrival, 1763800000);
	assert_string_equal(env.sender, "joe@example.org");
	assert_string_equal(env.client, "192.0.2.1 [mx.example.org]");
	assert_string_equal(env.helo, "mx.example.org");
	assert_string_equal(env.protocol, "ESMTPSA");
	assert_string_equal(env.auth, "joe@example.org");
	assert_string_equal(env.envid, "xyz");
	assert_string_equal(env.ret, "HDRS");
	assert_int_equal(env.smtputf8, 1);
	assert_string_equal(env.body_type, "8BITMIME");
	assert_int_equal(env.nrcpt, 3);
	assert_string_equal(env.rcpt[0].addr, "a@example.com");
	assert_string_equal(env.rcpt[0].orcpt, "rfc822;A@example.com");
	assert_string_equal(env.rcpt[0].notify, "FAILURE,DELAY");
	assert_string_equal(env.rcpt[1].addr, "\"b c\"@example.org");
	assert_null(env.rcpt[1].orcpt);
	assert_null(env.rcpt[1].notify);
	for (size_t i = 0; i < env.nrcpt; i++) {
		assert_int_equal(env.rcpt[i].status, RCPT_PENDING);
		assert_int_equal(env.rcpt[i].attempts, 0);
		assert_string_equal(env.rcpt[i].reason, "");
	}
	assert_int_equal(env.body_size, strlen(BODY1 BODY2));
	assert_int_equal(pread(fd, body, sizeof body, env.body_offset),
	    strlen(BODY1 BODY2));
	assert_memory_equal(body, BODY1 BODY2, strlen(BODY1 BODY2));
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);	/* offset untouched */
	assert_int_equal(queue_file_done(&env), 0);
	close(fd);
	arena_free(a);
}

static void
test_null_sender_and_minimal_envelope(void **state)
{
	struct fixture *f = *state;
	struct queue_rcpt r = { .addr = "x@example.com" };
	struct queue_envelope in = { .sender = "", .nrcpt = 1, .rcpt = &r };
	char id[QUEUE_ID_LEN + 1], err[256];
	struct queue_envelope env;
	struct arena *a = arena_new();
	struct queue_writer *w = queue_writer_begin(f->dirfd, &in, id, err,
	    sizeof err);

	assert_non_null(w);
	assert_int_equal(queue_writer_commit(w, err, sizeof err), 0);
	int fd = open_id(f, id, O_RDONLY);
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), 0);
	assert_string_equal(env.sender, "");
	assert_null(env.client);
	assert_null(env.auth);
	assert_int_equal(env.smtputf8, 0);
	assert_int_equal(env.body_size, 0);
	assert_true(env.arrival > 1700000000);	/* "now" when not given */
	close(fd);
	arena_free(a);
}

static void
test_status_in_place(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_LEN + 1], err[256];
	struct queue_envelope env, again;
	struct arena *a = arena_new();
	struct stat before, after;
	int fd;

	write_message(f, id);
	fd = open_id(f, id, O_RDWR);
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), 0);
	assert_int_equal(fstat(fd, &before), 0);

	env.rcpt[1].attempts = 1;
	env.rcpt[1].last_attempt = 1763800123;
	assert_int_equal(queue_file_set_status(fd, &env.rcpt[1], RCPT_PENDING,
	    "451 4.2.0 mailbox busy\r\n\x01\xc3\xa9"), 0);
	env.rcpt[0].attempts = 2;
	assert_int_equal(queue_file_put_status(fd, &env.rcpt[0],
	    RCPT_DELIVERED, "250 2.0.0 ok"), 0);
	assert_int_equal(queue_file_put_status(fd, &env.rcpt[2],
	    RCPT_BOUNCED, "550 5.1.1 no such user"), 0);
	assert_int_equal(queue_file_sync(fd), 0);
	assert_int_equal(env.rcpt[0].status, RCPT_DELIVERED);

	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(queue_file_read(fd, a, &again, err, sizeof err), 0);
	assert_int_equal(again.rcpt[0].status, RCPT_DELIVERED);
	assert_int_equal(again.rcpt[0].attempts, 2);
	assert_string_equal(again.rcpt[0].reason, "250 2.0.0 ok");
	assert_int_equal(again.rcpt[1].status, RCPT_PENDING);
	assert_int_equal(again.rcpt[1].attempts, 1);
	assert_int_equal(again.rcpt[1].last_attempt, 1763800123);
	assert_string_equal(again.rcpt[1].reason,
	    "451 4.2.0 mailbox busy?????");
	assert_int_equal(again.rcpt[2].status, RCPT_BOUNCED);
	assert_string_equal(again.rcpt[0].orcpt, "rfc822;A@example.com");
	assert_int_equal(again.body_size, strlen(BODY1 BODY2));
	assert_int_equal(queue_file_done(&again), 0);	/* P and B left */
	close(fd);
	arena_free(a);
}

/* A long reason is cut at the field's width, never beyond; with every
 * recipient delivered or notified the file is done. */
static void
test_long_reason_and_done(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_LEN + 1], err[256], longr[QUEUE_REASON_MAX * 2];
	struct queue_envelope env;
	struct arena *a = arena_new();
	int fd;

	write_message(f, id);
	fd = open_id(f, id, O_RDWR);
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), 0);
	memset(longr, 'x', sizeof longr - 1);
	longr[sizeof longr - 1] = '\0';
	assert_int_equal(queue_file_set_status(fd, &env.rcpt[0],
	    RCPT_DELIVERED, longr), 0);
	assert_int_equal(queue_file_set_status(fd, &env.rcpt[1],
	    RCPT_NOTIFIED, ""), 0);
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), 0);
	assert_int_equal(strlen(env.rcpt[0].reason), QUEUE_REASON_MAX);
	assert_int_equal(queue_file_done(&env), 0);	/* rcpt 2 pending */
	assert_int_equal(queue_file_set_status(fd, &env.rcpt[2],
	    RCPT_DELIVERED, "250 ok"), 0);
	assert_int_equal(queue_file_done(&env), 1);
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), 0);
	assert_int_equal(queue_file_done(&env), 1);
	close(fd);
	arena_free(a);
}

/* Every proper prefix of a good file is refused, and so is a longer one. */
static void
test_truncated_rejected(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_LEN + 1], err[256];
	struct queue_envelope env;
	struct arena *a = arena_new();
	struct stat st;
	int fd;

	write_message(f, id);
	fd = open_id(f, id, O_RDWR);
	assert_int_equal(fstat(fd, &st), 0);
	for (off_t len = st.st_size - 1; len >= 0; len--) {
		assert_int_equal(ftruncate(fd, len), 0);
		err[0] = '\0';
		assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), -1);
		assert_true(err[0] != '\0');
		if (len == st.st_size - 1)
			assert_non_null(strstr(err, "truncated"));
	}
	close(fd);

	write_message(f, id);
	fd = open_id(f, id, O_RDWR);
	assert_int_equal(lseek(fd, 0, SEEK_END) > 0, 1);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), -1);
	assert_non_null(strstr(err, "size mismatch"));
	close(fd);
	arena_free(a);
}

static void
expect_parses(struct fixture *f, const char *text)
{
	char err[256];
	struct queue_envelope env;
	struct arena *a = arena_new();
	int fd = openat(f->dirfd, "good", O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	if (queue_file_read(fd, a, &env, err, sizeof err) < 0)
		fail_msg("a good file was refused: %s", err);
	close(fd);
	unlinkat(f->dirfd, "good", 0);
	arena_free(a);
}

static void
expect_refused(struct fixture *f, const char *text, const char *why)
{
	char err[256];
	struct queue_envelope env;
	struct arena *a = arena_new();
	int fd = openat(f->dirfd, "garbage", O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	err[0] = '\0';
	assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), -1);
	if (strstr(err, why) == NULL)
		fail_msg("expected '%s' in '%s'", why, err);
	close(fd);
	unlinkat(f->dirfd, "garbage", 0);
	arena_free(a);
}

#define PAD200 "                                                            " \
    "                                                            " \
    "                                                            " \
    "                    "
#define ST_OK "status: P 000 000000000000 " PAD200 "\n"
#define HEAD "POSTERN-QUEUE 1\nid: 0006271A2B3C4D\narrival: 1\nsender: <>\n"
#define SIZE0 "size: 000000000000000\n--\n"

static void
test_garbage_rejected(void **state)
{
	struct fixture *f = *state;

	/* The hand-written good file parses; each variation below breaks it. */
	expect_parses(f, HEAD "rcpt: <a@b>\n" ST_OK SIZE0);
	expect_refused(f, "", "truncated");
	expect_refused(f, "hello world\n--\n", "not a queue file");
	expect_refused(f, "POSTERN-QUEUE 2\nid: 0006271A2B3C4D\n--\n",
	    "not a queue file");
	expect_refused(f, HEAD "rcpt: <a@b>\n" ST_OK "color: red\n" SIZE0,
	    "unknown header line");
	expect_refused(f, HEAD "rcpt: <a@b>\n" SIZE0, "without a status");
	expect_refused(f, HEAD "rcpt: <a@b>\nrcpt: <c@d>\n" ST_OK SIZE0,
	    "without a status");
	expect_refused(f, HEAD ST_OK "rcpt: <a@b>\n" ST_OK SIZE0,
	    "outside a recipient");
	expect_refused(f, HEAD SIZE0, "no recipients");
	expect_refused(f, HEAD "rcpt: <a@b>\n" ST_OK "--\n", "no 'size' line");
	expect_refused(f, HEAD "sender: <x@y>\nrcpt: <a@b>\n" ST_OK SIZE0,
	    "repeated");
	expect_refused(f, HEAD "rcpt: a@b\n" ST_OK SIZE0, "malformed rcpt");
	expect_refused(f, HEAD "rcpt: <a@b>\nstatus: P 000 000000000000 x\n"
	    SIZE0, "malformed status");
	expect_refused(f, HEAD "rcpt: <a@b>\nstatus: X 000 000000000000 "
	    PAD200 "\n" SIZE0, "malformed status");
	expect_refused(f, HEAD "rcpt: <a@b>\nstatus: P 0a0 000000000000 "
	    PAD200 "\n" SIZE0, "malformed status");
	expect_refused(f, HEAD "rcpt: <a@b>\n" ST_OK "size: 12\n--\n",
	    "malformed size");
	expect_refused(f, "POSTERN-QUEUE 1\nid: 0006271a2b3c4d\n--\n",
	    "malformed id");
	expect_refused(f, HEAD "rcpt: <a@b>\n" ST_OK "size: 000000000000005\n"
	    "--\nabc", "truncated");
	expect_refused(f, HEAD "rcpt: <a@b>\n" ST_OK "size: 000000000000000\n",
	    "truncated");

}

/* Noise, with and without a good first line, never parses. */
static void
test_noise_rejected(void **state)
{
	struct fixture *f = *state;
	char noise[4096], err[256];
	struct queue_envelope env;

	srandom(42);
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(random() % (sizeof noise - 1)) + 1;
		struct arena *a = arena_new();
		int fd = openat(f->dirfd, "noise", O_RDWR | O_CREAT | O_TRUNC, 0600);
		for (size_t i = 0; i < n; i++)
			noise[i] = (char)(random() & 0xff);
		if (round % 2)
			memcpy(noise, "POSTERN-QUEUE 1\n", n < 16 ? n : 16);
		assert_int_equal(write(fd, noise, n), (ssize_t)n);
		assert_int_equal(queue_file_read(fd, a, &env, err, sizeof err), -1);
		close(fd);
		arena_free(a);
	}
	unlinkat(f->dirfd, "noise", 0);
}

/* A writer killed before its commit leaves only a temporary name; an
 * aborted one leaves nothing at all. */
static void
test_crash_before_commit_invisible(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_LEN + 1], err[256];
	int ids, temps, status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct queue_writer *w = queue_writer_begin(f->dirfd, &f->env, id,
		    err, sizeof err);
		if (w == NULL || queue_writer_append(w, BODY1, strlen(BODY1)) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	count_names(f->dirfd, &ids, &temps);
	assert_int_equal(ids, 0);
	assert_int_equal(temps, 1);

	struct queue_writer *w = queue_writer_begin(f->dirfd, &f->env, id, err,
	    sizeof err);
	assert_non_null(w);
	assert_int_equal(queue_writer_append(w, BODY2, strlen(BODY2)), 0);
	count_names(f->dirfd, &ids, &temps);
	assert_int_equal(ids, 0);
	assert_int_equal(temps, 2);
	queue_writer_abort(w);
	count_names(f->dirfd, &ids, &temps);
	assert_int_equal(ids, 0);
	assert_int_equal(temps, 1);
	assert_int_equal(faccessat(f->dirfd, id, F_OK, 0), -1);
}

static void
test_bad_envelope_refused(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_LEN + 1], err[256];
	struct queue_envelope env = f->env;
	struct queue_rcpt r = { .addr = "evil@example.com\nrcpt: <x@y>" };
	int ids, temps;

	env.sender = "a\r\nb@example.com";
	assert_null(queue_writer_begin(f->dirfd, &env, id, err, sizeof err));
	assert_int_equal(errno, EINVAL);
	env = f->env;
	env.rcpt = &r;
	env.nrcpt = 1;
	assert_null(queue_writer_begin(f->dirfd, &env, id, err, sizeof err));
	env = f->env;
	env.nrcpt = 0;
	assert_null(queue_writer_begin(f->dirfd, &env, id, err, sizeof err));
	assert_string_equal(err, "no recipients");
	count_names(f->dirfd, &ids, &temps);
	assert_int_equal(ids + temps, 0);

	/* A strange HELO is not worth a message: it is defused instead. */
	env = f->env;
	env.helo = "evil\nrcpt: <x@y>";
	struct queue_writer *w = queue_writer_begin(f->dirfd, &env, id, err,
	    sizeof err);
	assert_non_null(w);
	assert_int_equal(queue_writer_commit(w, err, sizeof err), 0);
	struct queue_envelope back;
	struct arena *a = arena_new();
	int fd = open_id(f, id, O_RDONLY);
	assert_int_equal(queue_file_read(fd, a, &back, err, sizeof err), 0);
	assert_string_equal(back.helo, "evil?rcpt: <x@y>");
	assert_int_equal(back.nrcpt, 3);
	close(fd);
	arena_free(a);
}

/* Ids are distinct and sort by creation. */
static void
test_ids_increase(void **state)
{
	struct fixture *f = *state;
	char prev[QUEUE_ID_LEN + 1] = "", id[QUEUE_ID_LEN + 1];

	for (int i = 0; i < 20; i++) {
		write_message(f, id);
		assert_true(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof id);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sender_and_minimal_envelope,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_reason_and_done, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated_rejected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage_rejected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_noise_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_commit_invisible,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_envelope_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ids_increase, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
