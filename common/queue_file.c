/*
 * queue_file - see queue_file.h for the format and the contract.
 *
 * The writer builds the whole header in memory and writes it at once, so a
 * crash leaves either no temporary file or one that nobody will ever read:
 * only the rename in queue_writer_commit() makes a message visible, and it
 * happens after the fsync of the file.  The commit is split into "seal"
 * (size field, fsync of the file) and "publish" (rename) followed by the
 * fsync of the directory, so that a group commit can later seal and
 * publish several messages and share one directory fsync among them.
 *
 * The reader is strict on purpose: a file that does not parse exactly is
 * never guessed at, it goes to corrupt/ where a person looks at it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/queue_file.h"

#define QUEUE_MAGIC "POSTERN-QUEUE 1"
#define QUEUE_SEPARATOR "\n--\n"
#define QUEUE_ID_TRIES 16	/* fresh ids tried when a name is taken */
#define QUEUE_READ_CHUNK (16 * 1024)

struct queue_writer {
	int dirfd;
	int fd;
	char id[QUEUE_ID_LEN + 1];
	char tmpname[sizeof QUEUE_TMP_PREFIX + QUEUE_ID_LEN];
	off_t size_offset;	/* where the size digits are */
	off_t body_offset;
	off_t body_size;
	int error;		/* errno of a failed append, or 0 */
};

static void
qf_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
qf_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Writes all of p at off, or fails with errno. */
static int
qf_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = pwrite(fd, c, n, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		c += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Header text                                                       */

/* An address or DSN value must not carry anything that breaks a line. */
static int
qf_value_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* Informational text: a control character becomes '?' rather than a
 * refusal, because it is not worth losing a message over a strange HELO. */
static void
qf_put_info(struct buf *b, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(b, "%s: ", key);
	for (; *value; value++)
		buf_putc(b, ((unsigned char)*value < 0x20 || *value == 0x7f) ?
		    '?' : *value);
	buf_putc(b, '\n');
}

static int
qf_put_value(struct buf *b, const char *key, const char *value,
    char *err, size_t errlen)
{
	if (value == NULL)
		return 0;
	if (!qf_value_clean(value)) {
		qf_error(err, errlen, "control character in %s", key);
		errno = EINVAL;
		return -1;
	}
	buf_printf(b, "%s: %s\n", key, value);
	return 0;
}

/* The fixed-width status field, without its line's "status: " prefix. */
static void
qf_format_status(char out[QUEUE_STATUS_WIDTH + 1], char status, int attempts,
    time_t last, const char *reason)
{
	long long t = last < 0 ? 0 : (long long)last;
	size_t i;

	if (attempts < 0)
		attempts = 0;
	if (attempts > QUEUE_ATTEMPTS_MAX)
		attempts = QUEUE_ATTEMPTS_MAX;
	if (t > 999999999999LL)
		t = 999999999999LL;
	snprintf(out, QUEUE_STATUS_WIDTH + 1, "%c %03d %012lld ", status,
	    attempts, t);
	char *r = out + QUEUE_STATUS_WIDTH - QUEUE_REASON_MAX;
	for (i = 0; reason && reason[i] && i < QUEUE_REASON_MAX; i++)
		r[i] = (reason[i] >= 0x20 && reason[i] < 0x7f) ? reason[i] : '?';
	memset(r + i, ' ', QUEUE_REASON_MAX - i);
	out[QUEUE_STATUS_WIDTH] = '\0';
}

static int
qf_status_valid(char s)
{
	return s == RCPT_PENDING || s == RCPT_DELIVERED || s == RCPT_BOUNCED ||
	    s == RCPT_NOTIFIED;
}

static int
qf_put_rcpt(struct buf *b, const struct queue_rcpt *r, char *err, size_t errlen)
{
	char field[QUEUE_STATUS_WIDTH + 1];
	char status = r->status ? r->status : RCPT_PENDING;

	if (r->addr == NULL || !qf_value_clean(r->addr)) {
		qf_error(err, errlen, "bad recipient address");
		errno = EINVAL;
		return -1;
	}
	if (!qf_status_valid(status)) {
		qf_error(err, errlen, "bad recipient status '%c'", status);
		errno = EINVAL;
		return -1;
	}
	buf_printf(b, "rcpt: <%s>\n", r->addr);
	if (qf_put_value(b, "orcpt", r->orcpt, err, errlen) < 0 ||
	    qf_put_value(b, "notify", r->notify, err, errlen) < 0)
		return -1;
	qf_format_status(field, status, r->attempts, r->last_attempt, r->reason);
	buf_printf(b, "status: %s\n", field);
	return 0;
}

/* Everything before the size line. */
static int
qf_put_envelope(struct buf *b, const struct queue_envelope *env,
    const char *id, char *err, size_t errlen)
{
	const char *sender = env->sender ? env->sender : "";

	buf_printf(b, "%s\nid: %s\narrival: %lld\n", QUEUE_MAGIC, id,
	    (long long)(env->arrival ? env->arrival : time(NULL)));
	if (!qf_value_clean(sender)) {
		qf_error(err, errlen, "control character in sender");
		errno = EINVAL;
		return -1;
	}
	buf_printf(b, "sender: <%s>\n", sender);
	qf_put_info(b, "client", env->client);
	qf_put_info(b, "helo", env->helo);
	qf_put_info(b, "protocol", env->protocol);
	qf_put_info(b, "auth", env->auth);
	if (qf_put_value(b, "envid", env->envid, err, errlen) < 0 ||
	    qf_put_value(b, "ret", env->ret, err, errlen) < 0)
		return -1;
	if (env->smtputf8)
		buf_puts(b, "smtputf8: 1\n");
	if (qf_put_value(b, "body", env->body_type, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < env->nrcpt; i++)
		if (qf_put_rcpt(b, &env->rcpt[i], err, errlen) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Writer                                                            */

/* Creates the temporary file under a fresh id whose final name is free. */
static int
qf_create_temp(struct queue_writer *w, char *err, size_t errlen)
{
	for (int tries = 0; tries < QUEUE_ID_TRIES; tries++) {
		queue_id_new(w->id);
		snprintf(w->tmpname, sizeof w->tmpname, "%s%s",
		    QUEUE_TMP_PREFIX, w->id);
		if (faccessat(w->dirfd, w->id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		w->fd = openat(w->dirfd, w->tmpname,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (w->fd >= 0)
			return 0;
		if (errno != EEXIST) {
			qf_error(err, errlen, "create %s: %s", w->tmpname,
			    strerror(errno));
			return -1;
		}
	}
	qf_error(err, errlen, "no free queue id after %d tries", QUEUE_ID_TRIES);
	errno = EEXIST;
	return -1;
}

static int
qf_write_header(struct queue_writer *w, const struct queue_envelope *env,
    char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	int rc = -1;

	if (env->nrcpt == 0) {
		qf_error(err, errlen, "no recipients");
		errno = EINVAL;
		return -1;
	}
	if (qf_put_envelope(&b, env, w->id, err, errlen) < 0)
		goto out;
	w->size_offset = (off_t)b.len + (off_t)strlen("size: ");
	buf_printf(&b, "size: %0*d%s", QUEUE_SIZE_DIGITS, 0, QUEUE_SEPARATOR);
	w->body_offset = (off_t)b.len;
	if (qf_pwrite_all(w->fd, b.data, b.len, 0) < 0) {
		qf_error(err, errlen, "write %s: %s", w->tmpname, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

struct queue_writer *
queue_writer_begin(int dirfd, const struct queue_envelope *env,
    char id_out[QUEUE_ID_LEN + 1], char *err, size_t errlen)
{
	struct queue_writer *w = xcalloc(1, sizeof *w);

	w->dirfd = dirfd;
	w->fd = -1;
	if (qf_create_temp(w, err, errlen) < 0) {
		int saved = errno;
		free(w);
		errno = saved;
		return NULL;
	}
	if (qf_write_header(w, env, err, errlen) < 0) {
		queue_writer_abort(w);
		return NULL;
	}
	memcpy(id_out, w->id, QUEUE_ID_LEN + 1);
	return w;
}

int
queue_writer_append(struct queue_writer *w, const void *p, size_t n)
{
	if (w->error) {
		errno = w->error;
		return -1;
	}
	if (qf_pwrite_all(w->fd, p, n, w->body_offset + w->body_size) < 0) {
		w->error = errno;
		return -1;
	}
	w->body_size += (off_t)n;
	return 0;
}

off_t
queue_writer_size(const struct queue_writer *w)
{
	return w->body_size;
}

/* Removes the temporary file and frees the writer, keeping errno. */
void
queue_writer_abort(struct queue_writer *w)
{
	int saved = errno;

	if (w == NULL)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlinkat(w->dirfd, w->tmpname, 0);
	}
	free(w);
	errno = saved;
}

/* Step one of the commit: the file's contents are final and durable. */
static int
qf_writer_seal(struct queue_writer *w, char *err, size_t errlen)
{
	char digits[QUEUE_SIZE_DIGITS + 1];

	if (w->error) {
		qf_error(err, errlen, "write %s: %s", w->tmpname,
		    strerror(w->error));
		errno = w->error;
		return -1;
	}
	snprintf(digits, sizeof digits, "%0*lld", QUEUE_SIZE_DIGITS,
	    (long long)w->body_size);
	if (qf_pwrite_all(w->fd, digits, QUEUE_SIZE_DIGITS, w->size_offset) < 0 ||
	    fsync(w->fd) < 0) {
		qf_error(err, errlen, "write %s: %s", w->tmpname, strerror(errno));
		return -1;
	}
	return 0;
}

/* Step two: the message appears under its id, or not at all.  The kernel
 * refuses to replace an existing file; where the file system cannot do
 * RENAME_NOREPLACE, link()+unlink() gives the same guarantee. */
static int
qf_writer_publish(struct queue_writer *w, char *err, size_t errlen)
{
	if (renameat2(w->dirfd, w->tmpname, w->dirfd, w->id, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		if (linkat(w->dirfd, w->tmpname, w->dirfd, w->id, 0) == 0) {
			unlinkat(w->dirfd, w->tmpname, 0);
			return 0;
		}
	}
	qf_error(err, errlen, "rename %s to %s: %s", w->tmpname, w->id,
	    strerror(errno));
	return -1;
}

int
queue_writer_commit(struct queue_writer *w, char *err, size_t errlen)
{
	if (qf_writer_seal(w, err, errlen) < 0 ||
	    qf_writer_publish(w, err, errlen) < 0) {
		queue_writer_abort(w);
		return -1;
	}
	if (fsync(w->dirfd) < 0) {
		/* The rename may not survive a power cut, so we must not say
		 * 250; take the file back.  Should qmgr already have claimed
		 * it, the message is delivered and the client's retry makes a
		 * duplicate: the lesser evil next to a lost message. */
		int saved = errno;
		qf_error(err, errlen, "fsync of the queue directory: %s",
		    strerror(saved));
		unlinkat(w->dirfd, w->id, 0);
		close(w->fd);
		free(w);
		errno = saved;
		return -1;
	}
	close(w->fd);
	free(w);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Reader                                                            */

struct qf_parse {
	struct arena *a;
	struct queue_envelope *env;
	size_t nrcpt_max;	/* rcpt lines counted beforehand */
	int in_rcpt;		/* the last rcpt still lacks its status */
	unsigned seen;		/* bit per single-valued key */
	off_t size;
	char *err;
	size_t errlen;
};

typedef int (*qf_key_fn)(struct qf_parse *p, char *value, size_t len,
    off_t value_offset);

/* A key with no parse function is plain text stored at text_slot. */
struct qf_key {
	const char *name;
	qf_key_fn parse;
	size_t text_slot;	/* offsetof(struct queue_envelope, ...) */
	int once;		/* may appear only once per file */
};

static int
qf_bad(struct qf_parse *p, const char *what, const char *value)
{
	qf_error(p->err, p->errlen, "malformed %s line: '%.60s'", what, value);
	return -1;
}

/* Decimal digits only, all of them, into *out. */
static int
qf_number(const char *s, size_t len, long long *out)
{
	long long n = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	*out = n;
	return 0;
}

/* "<addr>" into a fresh arena string. */
static char *
qf_bracketed(struct qf_parse *p, const char *value, size_t len)
{
	if (len < 2 || value[0] != '<' || value[len - 1] != '>')
		return NULL;
	return arena_strndup(p->a, value + 1, len - 2);
}

static int
qf_key_id(struct qf_parse *p, char *value, size_t len, off_t off)
{
	(void)off;
	if (len != QUEUE_ID_LEN || !queue_id_valid(value))
		return qf_bad(p, "id", value);
	memcpy(p->env->id, value, QUEUE_ID_LEN + 1);
	return 0;
}

static int
qf_key_arrival(struct qf_parse *p, char *value, size_t len, off_t off)
{
	long long t;

	(void)off;
	if (qf_number(value, len, &t) < 0)
		return qf_bad(p, "arrival", value);
	p->env->arrival = (time_t)t;
	return 0;
}

static int
qf_key_sender(struct qf_parse *p, char *value, size_t len, off_t off)
{
	(void)off;
	if ((p->env->sender = qf_bracketed(p, value, len)) == NULL)
		return qf_bad(p, "sender", value);
	return 0;
}

static int
qf_key_smtputf8(struct qf_parse *p, char *value, size_t len, off_t off)
{
	(void)off;
	if (len != 1 || (value[0] != '0' && value[0] != '1'))
		return qf_bad(p, "smtputf8", value);
	p->env->smtputf8 = value[0] == '1';
	return 0;
}

static int
qf_key_rcpt(struct qf_parse *p, char *value, size_t len, off_t off)
{
	struct queue_rcpt *r;

	(void)off;
	if (p->in_rcpt) {
		qf_error(p->err, p->errlen, "recipient without a status line");
		return -1;
	}
	if (p->env->nrcpt == p->nrcpt_max)
		panic("queue_file: more rcpt lines than counted");
	r = &p->env->rcpt[p->env->nrcpt];
	if ((r->addr = qf_bracketed(p, value, len)) == NULL)
		return qf_bad(p, "rcpt", value);
	p->env->nrcpt++;
	p->in_rcpt = 1;
	return 0;
}

/* orcpt and notify belong to the recipient above, before its status. */
static struct queue_rcpt *
qf_open_rcpt(struct qf_parse *p, const char *key)
{
	if (!p->in_rcpt) {
		qf_error(p->err, p->errlen, "%s line outside a recipient", key);
		return NULL;
	}
	return &p->env->rcpt[p->env->nrcpt - 1];
}

static int
qf_key_orcpt(struct qf_parse *p, char *value, size_t len, off_t off)
{
	struct queue_rcpt *r = qf_open_rcpt(p, "orcpt");

	(void)off;
	if (r == NULL)
		return -1;
	if (r->orcpt)
		return qf_bad(p, "repeated orcpt", value);
	r->orcpt = arena_strndup(p->a, value, len);
	return 0;
}

static int
qf_key_notify(struct qf_parse *p, char *value, size_t len, off_t off)
{
	struct queue_rcpt *r = qf_open_rcpt(p, "notify");

	(void)off;
	if (r == NULL)
		return -1;
	if (r->notify)
		return qf_bad(p, "repeated notify", value);
	r->notify = arena_strndup(p->a, value, len);
	return 0;
}

/* "S NNN TTTTTTTTTTTT reason...": exactly QUEUE_STATUS_WIDTH bytes. */
static int
qf_key_status(struct qf_parse *p, char *value, size_t len, off_t off)
{
	struct queue_rcpt *r = qf_open_rcpt(p, "status");
	long long attempts, last;
	size_t rlen = QUEUE_REASON_MAX;
	const char *reason = value + QUEUE_STATUS_WIDTH - QUEUE_REASON_MAX;

	if (r == NULL)
		return -1;
	if (len != QUEUE_STATUS_WIDTH || !qf_status_valid(value[0]) ||
	    value[1] != ' ' || value[5] != ' ' || value[18] != ' ' ||
	    qf_number(value + 2, 3, &attempts) < 0 ||
	    qf_number(value + 6, 12, &last) < 0)
		return qf_bad(p, "status", value);
	while (rlen > 0 && reason[rlen - 1] == ' ')
		rlen--;
	r->status = value[0];
	r->attempts = (int)attempts;
	r->last_attempt = (time_t)last;
	r->reason = arena_strndup(p->a, reason, rlen);
	r->status_offset = off;
	p->in_rcpt = 0;
	return 0;
}

static int
qf_key_size(struct qf_parse *p, char *value, size_t len, off_t off)
{
	long long n;

	(void)off;
	if (len != QUEUE_SIZE_DIGITS || qf_number(value, len, &n) < 0)
		return qf_bad(p, "size", value);
	p->size = (off_t)n;
	return 0;
}

#define QF_TEXT(key, field) { key, NULL, offsetof(struct queue_envelope, field), 1 }

static const struct qf_key qf_keys[] = {
	{ "id", qf_key_id, 0, 1 },
	{ "arrival", qf_key_arrival, 0, 1 },
	{ "sender", qf_key_sender, 0, 1 },
	QF_TEXT("client", client),
	QF_TEXT("helo", helo),
	QF_TEXT("protocol", protocol),
	QF_TEXT("auth", auth),
	QF_TEXT("envid", envid),
	QF_TEXT("ret", ret),
	{ "smtputf8", qf_key_smtputf8, 0, 1 },
	QF_TEXT("body", body_type),
	{ "rcpt", qf_key_rcpt, 0, 0 },
	{ "orcpt", qf_key_orcpt, 0, 0 },
	{ "notify", qf_key_notify, 0, 0 },
	{ "status", qf_key_status, 0, 0 },
	{ "size", qf_key_size, 0, 1 },
};

#define QF_NKEYS (sizeof qf_keys / sizeof qf_keys[0])
#define QF_SEEN(i) (1u << (i))

static int
qf_find_key(const char *line, size_t len, size_t *keylen)
{
	for (size_t i = 0; i < QF_NKEYS; i++) {
		size_t n = strlen(qf_keys[i].name);
		if (len >= n + 2 && memcmp(line, qf_keys[i].name, n) == 0 &&
		    line[n] == ':' && line[n + 1] == ' ') {
			*keylen = n;
			return (int)i;
		}
	}
	return -1;
}

/* One header line (NUL-terminated in place) starting at file offset off. */
static int
qf_parse_line(struct qf_parse *p, char *line, size_t len, off_t off)
{
	size_t keylen;
	int k = qf_find_key(line, len, &keylen);
	char *value = line + keylen + 2;
	size_t vlen = len - keylen - 2;

	if (k < 0) {
		qf_error(p->err, p->errlen, "unknown header line '%.60s'", line);
		return -1;
	}
	if (qf_keys[k].once && (p->seen & QF_SEEN(k))) {
		qf_error(p->err, p->errlen, "repeated '%s' line", qf_keys[k].name);
		return -1;
	}
	p->seen |= QF_SEEN(k);
	if (p->in_rcpt && qf_keys[k].once) {
		qf_error(p->err, p->errlen, "recipient without a status line");
		return -1;
	}
	if (qf_keys[k].parse == NULL) {
		char **slot = (char **)((char *)p->env + qf_keys[k].text_slot);
		*slot = arena_strndup(p->a, value, vlen);
		return 0;
	}
	return qf_keys[k].parse(p, value, vlen, off + (off_t)keylen + 2);
}

/* Reads from the start of the file through the separator line into hdr.
 * Returns the header length (up to and including "\n--\n"), or -1. */
static ssize_t
qf_read_header(int fd, struct buf *hdr, char *err, size_t errlen)
{
	for (;;) {
		size_t old = hdr->len;
		char *p = buf_extend(hdr, QUEUE_READ_CHUNK);
		ssize_t n = pread(fd, p, QUEUE_READ_CHUNK, (off_t)old);
		if (n < 0 && errno == EINTR) {
			hdr->len = old;
			continue;
		}
		if (n < 0) {
			qf_error(err, errlen, "read: %s", strerror(errno));
			return -1;
		}
		hdr->len = old + (size_t)n;
		hdr->data[hdr->len] = '\0';
		size_t from = old >= 3 ? old - 3 : 0;
		char *sep = memmem(hdr->data + from, hdr->len - from,
		    QUEUE_SEPARATOR, strlen(QUEUE_SEPARATOR));
		if (sep)
			return sep - hdr->data + (ssize_t)strlen(QUEUE_SEPARATOR);
		if (n == 0) {
			qf_error(err, errlen, "truncated: no end of header");
			return -1;
		}
		if (hdr->len > QUEUE_HEADER_MAX) {
			qf_error(err, errlen, "header longer than %d bytes",
			    QUEUE_HEADER_MAX);
			return -1;
		}
	}
}

static size_t
qf_count_rcpt(const char *hdr, size_t len)
{
	size_t n = 0;
	const char *p = hdr, *end = hdr + len;

	while ((p = memmem(p, (size_t)(end - p), "\nrcpt: ", 7)) != NULL) {
		n++;
		p += 7;
	}
	return n;
}

/* Walks the lines between the magic line and the separator. */
static int
qf_parse_lines(struct qf_parse *p, char *hdr, size_t hdrlen)
{
	size_t magic = strlen(QUEUE_MAGIC);
	size_t end = hdrlen - strlen(QUEUE_SEPARATOR) + 1;	/* after last line */
	size_t pos = magic + 1;

	if (hdrlen < magic + 1 || memcmp(hdr, QUEUE_MAGIC "\n", magic + 1) != 0) {
		qf_error(p->err, p->errlen, "not a queue file (bad first line)");
		return -1;
	}
	while (pos < end) {
		char *nl = memchr(hdr + pos, '\n', end - pos);
		size_t len = (size_t)(nl - (hdr + pos));
		*nl = '\0';
		if (memchr(hdr + pos, '\0', len) != NULL) {
			qf_error(p->err, p->errlen, "NUL byte in header");
			return -1;
		}
		if (qf_parse_line(p, hdr + pos, len, (off_t)pos) < 0)
			return -1;
		pos += len + 1;
	}
	return 0;
}

static int
qf_check_complete(struct qf_parse *p, off_t file_size)
{
	static const char *required[] = { "id", "arrival", "sender", "size" };
	struct queue_envelope *env = p->env;

	for (size_t k = 0; k < QF_NKEYS; k++) {
		for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
			if (strcmp(qf_keys[k].name, required[i]) == 0 &&
			    !(p->seen & QF_SEEN(k))) {
				qf_error(p->err, p->errlen, "no '%s' line",
				    required[i]);
				return -1;
			}
	}
	if (env->nrcpt == 0 || p->in_rcpt) {
		qf_error(p->err, p->errlen, env->nrcpt == 0 ? "no recipients" :
		    "recipient without a status line");
		return -1;
	}
	if (env->body_offset + p->size != file_size) {
		qf_error(p->err, p->errlen, "%s: size line says %lld message bytes,"
		    " the file has %lld", env->body_offset + p->size > file_size ?
		    "truncated" : "size mismatch", (long long)p->size,
		    (long long)(file_size - env->body_offset));
		return -1;
	}
	env->body_size = p->size;
	return 0;
}

int
queue_file_read(int fd, struct arena *a, struct queue_envelope *env,
    char *err, size_t errlen)
{
	struct qf_parse p = { .a = a, .env = env, .err = err, .errlen = errlen };
	struct buf hdr = BUF_INIT;
	struct stat st;
	ssize_t hdrlen;
	int rc = -1;

	memset(env, 0, sizeof *env);
	if (fstat(fd, &st) < 0) {
		qf_error(err, errlen, "fstat: %s", strerror(errno));
		return -1;
	}
	if ((hdrlen = qf_read_header(fd, &hdr, err, errlen)) < 0)
		goto out;
	p.nrcpt_max = qf_count_rcpt(hdr.data, (size_t)hdrlen);
	env->rcpt = arena_alloc(a, (p.nrcpt_max ? p.nrcpt_max : 1) *
	    sizeof *env->rcpt);
	env->body_offset = (off_t)hdrlen;
	if (qf_parse_lines(&p, hdr.data, (size_t)hdrlen) < 0 ||
	    qf_check_complete(&p, st.st_size) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&hdr);
	return rc;
}

/* ---------------------------------------------------------------- */
/* Status updates                                                    */

int
queue_file_put_status(int fd, struct queue_rcpt *r, char status,
    const char *reason)
{
	char field[QUEUE_STATUS_WIDTH + 1];

	if (r->status_offset <= 0 || !qf_status_valid(status))
		panic("queue_file_put_status: bad record (offset %lld, '%c')",
		    (long long)r->status_offset, status);
	qf_format_status(field, status, r->attempts, r->last_attempt, reason);
	if (qf_pwrite_all(fd, field, QUEUE_STATUS_WIDTH, r->status_offset) < 0)
		return -1;
	r->status = status;
	return 0;
}

int
queue_file_sync(int fd)
{
	return fdatasync(fd);
}

int
queue_file_set_status(int fd, struct queue_rcpt *r, char status,
    const char *reason)
{
	if (queue_file_put_status(fd, r, status, reason) < 0)
		return -1;
	return queue_file_sync(fd);
}

int
queue_file_done(const struct queue_envelope *env)
{
	for (size_t i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].status == RCPT_PENDING ||
		    env->rcpt[i].status == RCPT_BOUNCED)
			return 0;
	return 1;
}
