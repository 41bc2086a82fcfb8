/*
 * channel - see channel.h.
 *
 * Wire: a 4-byte big-endian word, whose top bit says "this frame carries a
 * descriptor" and whose low 31 bits are the body length, then the body.
 * A descriptor is always sent by the sendmsg() that writes its frame's first
 * byte.  Linux never merges a unix-stream skb carrying descriptors with later
 * data in one recvmsg(), so descriptors arrive no later than their frame's
 * first byte; the reader keeps them in a FIFO and hands one to each flagged
 * frame, in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/proto.h"

#define FRAME_FD_FLAG	0x80000000u
#define CHANNEL_FDS_MAX	64	/* received descriptors not yet claimed */
#define READ_CHUNK	(64 * 1024)
#define READ_BUDGET	(1024 * 1024)	/* per wake-up, so one peer can't starve others */

struct pending_fd {
	uint64_t at;		/* absolute output offset of the frame */
	int fd;
};

struct channel {
	struct event_base *base;
	int fd;
	struct event *ev_read, *ev_write;
	channel_message_cb on_message;
	channel_close_cb on_close;
	void *arg;

	struct buf in;
	size_t in_off;			/* first unparsed byte of in */
	int in_fds[CHANNEL_FDS_MAX];
	int n_in_fds;

	struct buf out;
	size_t out_off;			/* first unsent byte of out */
	uint64_t out_sent;		/* absolute count of bytes sent */
	struct pending_fd *out_fds;
	size_t n_out_fds, cap_out_fds;

	int in_callback;
	int dead;			/* freed inside a callback */
	int broken;			/* closing: on_close is due */
	int closed_reported;
};

static void channel_on_read(evutil_socket_t fd, short what, void *arg);
static ssize_t channel_sendmsg(int fd, const void *p, size_t len, int pass_fd);
static ssize_t channel_recvmsg(int fd, void *p, size_t len, int *fds, int *nfds,
    int max_fds);
static void channel_on_write(evutil_socket_t fd, short what, void *arg);

struct channel *
channel_new(struct event_base *base, int fd, channel_message_cb on_message,
    channel_close_cb on_close, void *arg)
{
	struct channel *ch = xcalloc(1, sizeof *ch);

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		log_warn("channel: fcntl: %s", strerror(errno));
	ch->base = base;
	ch->fd = fd;
	ch->on_message = on_message;
	ch->on_close = on_close;
	ch->arg = arg;
	ch->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, channel_on_read, ch);
	ch->ev_write = event_new(base, fd, EV_WRITE, channel_on_write, ch);
	event_add(ch->ev_read, NULL);
	return ch;
}

int
channel_fd(const struct channel *ch)
{
	return ch->fd;
}

size_t
channel_output_pending(const struct channel *ch)
{
	return ch->out.len - ch->out_off;
}

static void
channel_destroy(struct channel *ch)
{
	event_free(ch->ev_read);
	event_free(ch->ev_write);
	close(ch->fd);
	for (int i = 0; i < ch->n_in_fds; i++)
		close(ch->in_fds[i]);
	for (size_t i = 0; i < ch->n_out_fds; i++)
		close(ch->out_fds[i].fd);
	free(ch->out_fds);
	buf_free(&ch->in);
	buf_free(&ch->out);
	free(ch);
}

void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	if (ch->in_callback) {
		ch->dead = 1;
		event_del(ch->ev_read);
		event_del(ch->ev_write);
		return;
	}
	channel_destroy(ch);
}

/* Report the end of the channel once, from the event loop. */
static void
channel_report_close(struct channel *ch)
{
	if (ch->closed_reported || ch->dead)
		return;
	ch->closed_reported = 1;
	event_del(ch->ev_read);
	event_del(ch->ev_write);
	ch->in_callback++;
	ch->on_close(ch, ch->arg);
	ch->in_callback--;
	if (ch->dead)
		channel_destroy(ch);
}

static void
channel_mark_broken(struct channel *ch)
{
	ch->broken = 1;
	event_active(ch->ev_read, EV_READ, 0);
}

/* Writes as much as the socket takes.  Returns -1 on a hard error. */
static int
channel_flush(struct channel *ch)
{
	while (ch->out_off < ch->out.len) {
		size_t len = ch->out.len - ch->out_off;
		int pass = -1;

		if (ch->n_out_fds > 0) {
			uint64_t at = ch->out_fds[0].at;
			if (at == ch->out_sent)
				pass = ch->out_fds[0].fd;
			else if (at - ch->out_sent < len)
				len = (size_t)(at - ch->out_sent);
		}
		ssize_t n = channel_sendmsg(ch->fd, ch->out.data + ch->out_off, len, pass);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		if (pass >= 0) {
			close(pass);
			memmove(ch->out_fds, ch->out_fds + 1,
			    --ch->n_out_fds * sizeof *ch->out_fds);
		}
		ch->out_off += (size_t)n;
		ch->out_sent += (uint64_t)n;
	}
	if (ch->out_off == ch->out.len) {
		buf_reset(&ch->out);
		ch->out_off = 0;
	} else {
		event_add(ch->ev_write, NULL);
	}
	return 0;
}

void
channel_send(struct channel *ch, const struct buf *body, int pass_fd)
{
	unsigned char hdr[4];
	uint32_t word;

	if (ch->broken || ch->dead || ch->closed_reported)
		return;
	if (body->len > ATTR_FRAME_MAX)
		panic("channel_send: frame of %zu bytes", body->len);
	if (pass_fd >= 0) {
		int dup = fcntl(pass_fd, F_DUPFD_CLOEXEC, 0);
		if (dup < 0) {
			log_warn("channel: dup: %s", strerror(errno));
			channel_mark_broken(ch);
			return;
		}
		if (ch->n_out_fds == ch->cap_out_fds) {
			ch->cap_out_fds = ch->cap_out_fds ? 2 * ch->cap_out_fds : 4;
			ch->out_fds = xrealloc(ch->out_fds,
			    ch->cap_out_fds * sizeof *ch->out_fds);
		}
		ch->out_fds[ch->n_out_fds].at =
		    ch->out_sent + (ch->out.len - ch->out_off);
		ch->out_fds[ch->n_out_fds++].fd = dup;
	}
	word = (uint32_t)body->len | (pass_fd >= 0 ? FRAME_FD_FLAG : 0);
	hdr[0] = word >> 24;
	hdr[1] = word >> 16;
	hdr[2] = word >> 8;
	hdr[3] = word;
	buf_append(&ch->out, hdr, 4);
	buf_append(&ch->out, body->data ? body->data : "", body->len);
	if (channel_flush(ch) < 0) {
		log_warn("channel: write: %s", strerror(errno));
		channel_mark_broken(ch);
	}
}

static void
channel_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	(void)fd;
	(void)what;
	if (channel_flush(ch) < 0) {
		log_warn("channel: write: %s", strerror(errno));
		channel_report_close(ch);
	}
}

static ssize_t
channel_sendmsg(int fd, const void *p, size_t len, int pass_fd)
{
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} control;

	if (pass_fd >= 0) {
		memset(&control, 0, sizeof control);
		msg.msg_control = control.space;
		msg.msg_controllen = sizeof control.space;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

/* Reads bytes and any descriptors; descriptors beyond max_fds are closed. */
static ssize_t
channel_recvmsg(int fd, void *p, size_t len, int *fds, int *nfds, int max_fds)
{
	struct iovec iov = { .iov_base = p, .iov_len = len };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(8 * sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.space, .msg_controllen = sizeof control.space,
	};
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
			if (*nfds < max_fds)
				fds[(*nfds)++] = got;
			else
				close(got);
		}
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		errno = EPROTO;
		return -1;
	}
	return n;
}

static uint32_t
frame_word(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | u[3];
}

/* Delivers one complete frame at in_off.  Returns 1 if one was delivered,
 * 0 if more bytes are needed, -1 on a protocol error. */
static int
channel_deliver_frame(struct channel *ch)
{
	static struct attr_list msg;	/* large; valid only in the callback */
	size_t avail = ch->in.len - ch->in_off;
	const char *err;
	int fd = -1;

	if (avail < 4)
		return 0;
	uint32_t word = frame_word(ch->in.data + ch->in_off);
	size_t len = word & ~FRAME_FD_FLAG;
	if (len > ATTR_FRAME_MAX) {
		log_warn("channel: frame of %zu bytes is over the limit", len);
		return -1;
	}
	if (avail < 4 + len)
		return 0;
	if (word & FRAME_FD_FLAG) {
		if (ch->n_in_fds == 0) {
			log_warn("channel: frame promises a descriptor that never came");
			return -1;
		}
		fd = ch->in_fds[0];
		memmove(ch->in_fds, ch->in_fds + 1, --ch->n_in_fds * sizeof(int));
	}
	char *body = ch->in.data + ch->in_off + 4;
	ch->in_off += 4 + len;
	if (attr_decode(body, len, &msg, &err) < 0) {
		log_warn("channel: bad frame: %s", err);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ch->on_message(ch, &msg, fd, ch->arg);
	return 1;
}

/* Reads what is there, up to the budget.  Returns 0 at EOF or error. */
static int
channel_fill(struct channel *ch)
{
	size_t budget = READ_BUDGET;

	while (budget > 0) {
		char chunk[READ_CHUNK];
		ssize_t n = channel_recvmsg(ch->fd, chunk, sizeof chunk,
		    ch->in_fds, &ch->n_in_fds, CHANNEL_FDS_MAX);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 1;
		if (n < 0)
			log_warn("channel: read: %s", strerror(errno));
		if (n <= 0)
			return 0;
		buf_append(&ch->in, chunk, (size_t)n);
		budget -= (size_t)n < budget ? (size_t)n : budget;
		if ((size_t)n < sizeof chunk)
			return 1;
	}
	return 1;
}

static void
channel_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;
	int open = 1, r = 0;

	(void)fd;
	(void)what;
	if (ch->broken) {
		channel_report_close(ch);
		return;
	}
	open = channel_fill(ch);
	ch->in_callback++;
	while (!ch->dead && !ch->broken && (r = channel_deliver_frame(ch)) == 1)
		;
	ch->in_callback--;
	if (ch->dead) {
		channel_destroy(ch);
		return;
	}
	buf_consume(&ch->in, ch->in_off);
	ch->in_off = 0;
	if (r < 0 || !open || ch->broken)
		channel_report_close(ch);
}

/* Blocking helpers. */

static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return r < 0 ? -1 : 0;
}

int
channel_write_frame(int fd, const struct buf *body, int pass_fd)
{
	struct buf frame = BUF_INIT;
	uint32_t word = (uint32_t)body->len | (pass_fd >= 0 ? FRAME_FD_FLAG : 0);
	unsigned char hdr[4] = { word >> 24, word >> 16, word >> 8, word };
	size_t off = 0;
	int rc = 0;

	if (body->len > ATTR_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	buf_append(&frame, hdr, 4);
	buf_append(&frame, body->data ? body->data : "", body->len);
	while (off < frame.len) {
		ssize_t n = channel_sendmsg(fd, frame.data + off, frame.len - off,
		    off == 0 ? pass_fd : -1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, PROTO_TIMEOUT_MS) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (n < 0) {
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	buf_free(&frame);
	return rc;
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Reads exactly len bytes, collecting descriptors. */
static int
read_exact(int fd, char *p, size_t len, int *fds, int *nfds, int timeout_ms,
    const struct timespec *start)
{
	size_t off = 0;

	while (off < len) {
		int left = timeout_ms < 0 ? -1 : timeout_ms - (int)elapsed_ms(start);
		if (timeout_ms >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (wait_fd(fd, POLLIN, left) < 0)
			return -1;
		ssize_t n = channel_recvmsg(fd, p + off, len - off, fds, nfds, 8);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

int
channel_read_frame(int fd, struct buf *frame, struct attr_list *msg,
    int *fd_out, int timeout_ms)
{
	struct timespec start;
	char hdr[4];
	int fds[8], nfds = 0;
	const char *err;

	*fd_out = -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (read_exact(fd, hdr, 4, fds, &nfds, timeout_ms, &start) < 0)
		goto fail;
	uint32_t word = frame_word(hdr);
	size_t len = word & ~FRAME_FD_FLAG;
	if (len > ATTR_FRAME_MAX) {
		errno = EPROTO;
		goto fail;
	}
	buf_reset(frame);
	buf_extend(frame, len);
	if (read_exact(fd, frame->data, len, fds, &nfds, timeout_ms, &start) < 0)
		goto fail;
	if ((word & FRAME_FD_FLAG) && nfds == 0) {
		errno = EPROTO;
		goto fail;
	}
	if (attr_decode(frame->data, len, msg, &err) < 0) {
		errno = EPROTO;
		goto fail;
	}
	if (word & FRAME_FD_FLAG)
		*fd_out = fds[0];
	for (int i = (word & FRAME_FD_FLAG) ? 1 : 0; i < nfds; i++)
		close(fds[i]);
	return 0;
fail:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return -1;
}

int
channel_call(int fd, const struct buf *req, struct buf *frame,
    struct attr_list *reply, int *fd_out, int timeout_ms)
{
	if (channel_write_frame(fd, req, -1) < 0)
		return -1;
	return channel_read_frame(fd, frame, reply, fd_out, timeout_ms);
}

/* One request on the master channel.  Ids increase, and a reply to an
 * earlier request that timed out is skipped rather than taken for ours. */
int
service_call_master(const struct buf *req_attrs, struct buf *frame,
    struct attr_list *reply, int *fd_out)
{
	static uint64_t next_id;
	struct buf req = BUF_INIT;
	uint64_t id = ++next_id, got;
	int rc;

	attr_put_u64(&req, "id", id);
	buf_append(&req, req_attrs->data ? req_attrs->data : "", req_attrs->len);
	rc = channel_write_frame(SERVICE_MASTER_FD, &req, -1);
	buf_free(&req);
	while (rc == 0) {
		rc = channel_read_frame(SERVICE_MASTER_FD, frame, reply, fd_out,
		    PROTO_TIMEOUT_MS);
		if (rc == 0 && attr_get_u64(reply, "id", &got) == 0 && got == id)
			return 0;
		if (rc == 0 && *fd_out >= 0)
			close(*fd_out);
	}
	return -1;
}

int
service_connect(const char *service)
{
	struct buf req = BUF_INIT, frame = BUF_INIT;
	struct attr_list *reply = xmalloc(sizeof *reply);
	int fd = -1, rc;

	attr_put(&req, "op", "connect");
	attr_put(&req, "service", service);
	rc = service_call_master(&req, &frame, reply, &fd);
	if (rc < 0) {
		log_warn("cannot reach the master to connect to %s: %s", service,
		    strerror(errno));
	} else if (fd < 0) {
		const char *why = attr_get(reply, "reason");
		log_warn("master refused a connection to %s: %s", service,
		    why ? why : "no reason given");
	}
	free(reply);
	buf_free(&req);
	buf_free(&frame);
	return fd;
}
