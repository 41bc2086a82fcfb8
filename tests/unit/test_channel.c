/*
 * test_channel - frames and descriptors over a socketpair: every frame
 * arrives whole and in order, each passed descriptor arrives with its own
 * frame (even among large frames), and a peer sending garbage is closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/channel.h"

#define FRAMES 300

struct sink {
	int received;
	int closed;
	int bad_order;
	int fd_mismatch;
	ino_t inodes[FRAMES];
	struct event_base *base;
};

static void
sink_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct sink *s = arg;
	uint64_t seq;

	(void)ch;
	if (attr_get_u64(msg, "seq", &seq) < 0 || (int)seq != s->received)
		s->bad_order++;
	if (attr_get(msg, "fd") != NULL) {
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_ino != s->inodes[seq])
			s->fd_mismatch++;
	} else if (fd >= 0) {
		s->fd_mismatch++;
	}
	const struct attr *pad = attr_find(msg, "pad");
	if (pad && pad->len != (size_t)(seq % 7) * 100000)
		s->bad_order++;
	if (fd >= 0)
		close(fd);
	if (++s->received == FRAMES)
		event_base_loopexit(s->base, NULL);
}

static void
sink_close(struct channel *ch, void *arg)
{
	struct sink *s = arg;

	s->closed++;
	channel_free(ch);
	event_base_loopexit(s->base, NULL);
}

static void
frames_and_descriptors_arrive_in_order(void **state)
{
	struct event_base *base = event_base_new();
	struct sink s = { .base = base };
	int sv[2];
	char *pad = calloc(1, 700000);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct channel *tx = channel_new(base, sv[0], sink_message, sink_close, &s);
	struct channel *rx = channel_new(base, sv[1], sink_message, sink_close, &s);
	for (int i = 0; i < FRAMES; i++) {
		struct buf b = BUF_INIT;
		int fd = -1;
		attr_put_u64(&b, "seq", (uint64_t)i);
		attr_putn(&b, "pad", pad, (size_t)(i % 7) * 100000);
		if (i % 3 == 0) {
			char path[] = "/tmp/postern-chan-XXXXXX";
			struct stat st;
			fd = mkstemp(path);
			unlink(path);
			fstat(fd, &st);
			s.inodes[i] = st.st_ino;
			attr_put(&b, "fd", "yes");
		}
		channel_send(tx, &b, fd);
		if (fd >= 0)
			close(fd);
		buf_free(&b);
	}
	event_base_dispatch(base);
	assert_int_equal(s.received, FRAMES);
	assert_int_equal(s.bad_order, 0);
	assert_int_equal(s.fd_mismatch, 0);
	assert_int_equal(s.closed, 0);
	channel_free(tx);
	channel_free(rx);
	event_base_free(base);
	free(pad);
}

static void
garbage_closes_the_channel(void **state)
{
	struct event_base *base = event_base_new();
	struct sink s = { .base = base };
	int sv[2];
	/* A frame whose body is not attributes. */
	const unsigned char junk[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	channel_new(base, sv[1], sink_message, sink_close, &s);
	assert_int_equal(write(sv[0], junk, sizeof junk), (ssize_t)sizeof junk);
	event_base_dispatch(base);
	assert_int_equal(s.closed, 1);
	assert_int_equal(s.received, 0);
	close(sv[0]);
	event_base_free(base);
}

static void
oversized_and_fdless_frames_close_the_channel(void **state)
{
	const unsigned char too_big[] = { 0x00, 0x7f, 0xff, 0xff };
	const unsigned char no_fd[] = { 0x80, 0, 0, 5, 'a', '=', '0', ':', '\n' };

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct event_base *base = event_base_new();
		struct sink s = { .base = base };
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		channel_new(base, sv[1], sink_message, sink_close, &s);
		if (k == 0)
			assert_int_equal(write(sv[0], too_big, 4), 4);
		else
			assert_int_equal(write(sv[0], no_fd, 9), 9);
		event_base_dispatch(base);
		assert_int_equal(s.closed, 1);
		close(sv[0]);
		event_base_free(base);
	}
}

static void
blocking_call_passes_a_descriptor(void **state)
{
	struct buf req = BUF_INIT, frame = BUF_INIT;
	static struct attr_list msg;
	int sv[2], got = -1, pipefd[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(pipefd), 0);
	attr_put(&req, "op", "connect");
	assert_int_equal(channel_write_frame(sv[0], &req, pipefd[1]), 0);
	assert_int_equal(channel_read_frame(sv[1], &frame, &msg, &got, 1000), 0);
	assert_string_equal(attr_get(&msg, "op"), "connect");
	assert_true(got >= 0);
	assert_int_equal(write(got, "x", 1), 1);
	char c = 0;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	/* Nothing more comes: the read times out. */
	assert_int_equal(channel_read_frame(sv[1], &frame, &msg, &got, 100), -1);
	buf_free(&req);
	buf_free(&frame);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_and_descriptors_arrive_in_order),
		cmocka_unit_test(garbage_closes_the_channel),
		cmocka_unit_test(oversized_and_fdless_frames_close_the_channel),
		cmocka_unit_test(blocking_call_passes_a_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
