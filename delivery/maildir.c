/*
 * maildir - write one queued message into one user's Maildir.
 *
 * SYNOPSIS
 *	maildir_init(hostname);
 *	struct maildir_job job = { env, qfd, "joe@example.org",
 *	    "example.org/joe", maybe_delivered };
 *	status = maildir_deliver(&job, &reply);	// RCPT_DELIVERED or RCPT_PENDING
 *
 * DESCRIPTION
 *	The working directory is the mail root (local runs chrooted there),
 *	so a mailbox "DOMAIN/USER" is a relative path; maildir_path_ok()
 *	refuses anything that could climb out of it.  DOMAIN/USER/{tmp,new,
 *	cur} are created (0700) when missing, each new directory's parent
 *	fsynced so the directory itself survives a crash.
 *
 *	The file name is ARRIVAL.QID_RCPTHASH.HOST,S=SIZE, where RCPTHASH is
 *	a 64-bit FNV-1a hash of the recipient with its domain lower-cased.
 *	The part up to HOST ("ARRIVAL.QID_RCPTHASH.") is the same on every
 *	attempt for the same message and recipient, and unique otherwise
 *	(queue ids are unique).  That makes delivery exactly-once:
 *	- the copy is written to tmp/, fsynced, then link()ed into new/, which
 *	  never replaces a file; EEXIST means this very copy is already
 *	  there, so it counts as delivered;
 *	- with maybe_delivered (qmgr recovering after a crash) new/ and cur/
 *	  are first searched for the prefix, so a copy the user has already
 *	  read and moved to cur/NAME:2,S is found too, even if the host name
 *	  changed in between.
 *	Only after new/ has been fsynced is the result "delivered".
 *
 *	The copy starts with "Return-Path: <SENDER>" and "Delivered-To:
 *	RCPT", using the line ending the message itself uses, then the
 *	message is copied from the queue file with copy_file_range() (or
 *	pread/write where the kernel cannot), never held in memory.
 *
 * DIAGNOSTICS
 *	Any file system failure (full disk, quota, I/O error, permission)
 *	is logged and answered "451 4.3.0 ...": the message stays queued and
 *	is tried again; local never bounces for its own trouble.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "delivery/local.h"

#define MAILDIR_HOST_MAX	64
#define MAILDIR_MAILBOX_MAX	512
#define MAILDIR_COPY_CHUNK	(64 * 1024)
#define FNV_OFFSET		0xcbf29ce484222325ULL
#define FNV_PRIME		0x100000001b3ULL

static char maildir_host[MAILDIR_HOST_MAX * 4 + 1] = "localhost";

/* '/' and ':' would break the name, so they are written as octal escapes,
 * as the Maildir convention asks. */
void
maildir_init(const char *hostname)
{
	size_t o = 0;

	for (size_t i = 0; hostname[i] && i < MAILDIR_HOST_MAX; i++) {
		unsigned char c = (unsigned char)hostname[i];
		if (c == '/' || c == ':' || c < 0x21 || c > 0x7e)
			o += (size_t)snprintf(maildir_host + o,
			    sizeof maildir_host - o, "\\%03o", c);
		else
			maildir_host[o++] = (char)c;
	}
	if (o > 0)
		maildir_host[o] = '\0';
}

int
maildir_path_ok(const char *mailbox)
{
	const char *slash = strchr(mailbox, '/');

	if (slash == NULL || slash == mailbox || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return 0;
	if (mailbox[0] == '.' || slash[1] == '.')
		return 0;
	if (strlen(mailbox) > MAILDIR_MAILBOX_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)mailbox; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* The recipient, domain case-folded, so Joe@EXAMPLE.org and
 * Joe@example.org name the same copy. */
static uint64_t
rcpt_hash(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	uint64_t h = FNV_OFFSET;

	for (const char *p = rcpt; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (at != NULL && p > at && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * FNV_PRIME;
	}
	return h;
}

/* Makes dir if missing; a new directory is made durable in its parent. */
static int
make_dir(const char *dir)
{
	const char *slash = strrchr(dir, '/');
	char *parent;
	int fd, rc = 0;

	if (mkdir(dir, 0700) == 0) {
		parent = slash ? xstrndup(dir, (size_t)(slash - dir)) :
		    xstrdup(".");
		fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = -1;
		if (fd >= 0)
			close(fd);
		free(parent);
		return rc;
	}
	if (errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int
ensure_maildir(const char *mailbox, struct buf *failed)
{
	static const char *const subdirs[] = { "", "/tmp", "/new", "/cur" };
	const char *slash = strchr(mailbox, '/');

	buf_reset(failed);
	buf_append(failed, mailbox, (size_t)(slash - mailbox));
	if (make_dir(buf_cstr(failed)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		buf_reset(failed);
		buf_printf(failed, "%s%s", mailbox, subdirs[i]);
		if (make_dir(buf_cstr(failed)) < 0)
			return -1;
	}
	return 0;
}

/* 1 if dir has an entry starting with prefix, 0 if not, -1 on error. */
static int
dir_has_prefix(const char *dir, const char *prefix)
{
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (d == NULL)
		return -1;
	errno = 0;
	while (!found && (e = readdir(d)) != NULL)
		found = strncmp(e->d_name, prefix, plen) == 0;
	if (!found && errno != 0)
		found = -1;
	closedir(d);
	return found;
}

static int
find_earlier_copy(const char *mailbox, const char *prefix, struct buf *where)
{
	static const char *const dirs[] = { "new", "cur" };
	int r = 0;

	for (size_t i = 0; r == 0 && i < 2; i++) {
		buf_reset(where);
		buf_printf(where, "%s/%s", mailbox, dirs[i]);
		r = dir_has_prefix(buf_cstr(where), prefix);
	}
	return r;
}

/* Header values come from the queue file; anything that could end the
 * header line early is left out. */
static void
put_header(struct buf *b, const char *name, const char *value,
    const char *eol)
{
	buf_puts(b, name);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p >= 0x20 && *p != 0x7f)
			buf_putc(b, (char)*p);
	buf_puts(b, eol);
}

/* The message's own line ending, judged by its first line. */
static const char *
message_eol(const struct maildir_job *job)
{
	char head[4096];
	size_t want = sizeof head;
	ssize_t n;
	char *nl;

	if ((off_t)want > job->env->body_size)
		want = (size_t)job->env->body_size;
	n = pread(job->qfd, head, want, job->env->body_offset);
	if (n <= 0 || (nl = memchr(head, '\n', (size_t)n)) == NULL)
		return "\n";
	return nl > head && nl[-1] == '\r' ? "\r\n" : "\n";
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
copy_by_pread(int in, off_t off, off_t left, int out)
{
	char *chunk = xmalloc(MAILDIR_COPY_CHUNK);
	int rc = 0;

	while (rc == 0 && left > 0) {
		size_t want = left < MAILDIR_COPY_CHUNK ? (size_t)left :
		    MAILDIR_COPY_CHUNK;
		ssize_t n = pread(in, chunk, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;	/* the queue file is shorter than it says */
		if (n <= 0 || write_all(out, chunk, (size_t)n) < 0)
			rc = -1;
		else {
			off += n;
			left -= n;
		}
	}
	free(chunk);
	return rc;
}

/* copy_file_range leaves the queue fd's file offset alone (qmgr shares
 * it) and lets the kernel skip the trip through user space. */
static int
copy_body(int in, off_t off, off_t left, int out)
{
	while (left > 0) {
		ssize_t n = copy_file_range(in, &off, out, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
		    errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF))
			return copy_by_pread(in, off, left, out);
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			return -1;
		left -= n;
	}
	return 0;
}

/* Writes tmp/NAME and fsyncs it; *size is the copy's size in bytes. */
static int
write_copy(const struct maildir_job *job, const char *path, off_t *size)
{
	const char *eol = message_eol(job);
	const char *sender = job->env->sender ? job->env->sender : "";
	struct buf hdr = BUF_INIT;
	int fd, rc = -1;

	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return -1;
	buf_puts(&hdr, "Return-Path: <");
	put_header(&hdr, "", sender, "");
	buf_printf(&hdr, ">%s", eol);
	put_header(&hdr, "Delivered-To: ", job->rcpt, eol);
	if (write_all(fd, hdr.data, hdr.len) == 0 &&
	    copy_body(job->qfd, job->env->body_offset, job->env->body_size,
	    fd) == 0 && fsync(fd) == 0)
		rc = 0;
	*size = (off_t)hdr.len + job->env->body_size;
	buf_free(&hdr);
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static char
maildir_failed(const struct maildir_job *job, const char *what,
    struct buf *reply)
{
	int e = errno;

	log_warn("%s: to=<%s>: %s: %s", job->env->id, job->rcpt, what,
	    strerror(e));
	buf_reset(reply);
	buf_printf(reply, "451 4.3.0 cannot write to the mailbox: %s",
	    strerror(e));
	return RCPT_PENDING;
}

static char
maildir_done(const struct maildir_job *job, const char *name,
    struct buf *reply)
{
	log_info("%s: to=<%s>, mailbox=%s, file=%s", job->env->id, job->rcpt,
	    job->mailbox, name);
	buf_reset(reply);
	buf_puts(reply, "250 2.0.0 delivered to maildir");
	return RCPT_DELIVERED;
}

/* tmp/ to new/ without ever replacing: an existing name is this copy. */
static char
publish(const struct maildir_job *job, const char *tmp, const char *base,
    off_t size, struct buf *reply)
{
	char *name = xasprintf("%s/new/%s,S=%lld", job->mailbox, base,
	    (long long)size);
	char *newdir = xasprintf("%s/new", job->mailbox);
	char status;

	if (link(tmp, name) < 0 && errno != EEXIST)
		status = maildir_failed(job, name, reply);
	else if (fsync_dir(newdir) < 0)
		status = maildir_failed(job, newdir, reply);
	else
		status = maildir_done(job, name, reply);
	unlink(tmp);
	free(newdir);
	free(name);
	return status;
}

static char
write_and_publish(const struct maildir_job *job, const char *base,
    struct buf *reply)
{
	char *tmp = xasprintf("%s/tmp/%s", job->mailbox, base);
	off_t size;
	char status;

	if (write_copy(job, tmp, &size) < 0) {
		status = maildir_failed(job, tmp, reply);
		unlink(tmp);
	} else {
		status = publish(job, tmp, base, size, reply);
	}
	free(tmp);
	return status;
}

char
maildir_deliver(const struct maildir_job *job, struct buf *reply)
{
	struct buf path = BUF_INIT;
	char *prefix, *base;
	char status;
	int found = 0;

	if (!maildir_path_ok(job->mailbox)) {
		log_warn("%s: to=<%s>: refusing unsafe mailbox path '%s'",
		    job->env->id, job->rcpt, job->mailbox);
		buf_reset(reply);
		buf_puts(reply, "451 4.3.0 bad mailbox path");
		return RCPT_PENDING;
	}
	prefix = xasprintf("%lld.%s_%016llx.", (long long)job->env->arrival,
	    job->env->id, (unsigned long long)rcpt_hash(job->rcpt));
	base = xasprintf("%s%s", prefix, maildir_host);
	if (ensure_maildir(job->mailbox, &path) < 0)
		status = maildir_failed(job, buf_cstr(&path), reply);
	else if (job->maybe_delivered &&
	    (found = find_earlier_copy(job->mailbox, prefix, &path)) != 0)
		status = found > 0 ? maildir_done(job, "(earlier copy)", reply) :
		    maildir_failed(job, buf_cstr(&path), reply);
	else
		status = write_and_publish(job, base, reply);
	free(base);
	free(prefix);
	buf_free(&path);
	return status;
}
