/*
 * queue_file - the one format of a queued message, and its one durable path.
 *
 * SYNOPSIS
 *	Writing (enqueue only):
 *	w = queue_writer_begin(incoming_dirfd, &env, id, err, errlen);
 *	queue_writer_append(w, bytes, n);	// Received header, then message
 *	queue_writer_commit(w, err, errlen);	// durable, or -1 with nothing left
 *
 *	Reading and updating (qmgr, local, `postern queue`):
 *	a = arena_new();
 *	queue_file_read(fd, a, &env, err, errlen);
 *	r = &env.rcpt[i]; r->attempts++; r->last_attempt = time(NULL);
 *	queue_file_set_status(fd, r, RCPT_DELIVERED, "250 2.0.0 ok");
 *
 * DESCRIPTION
 *	A queue file is human-readable up to the message:
 *
 *		POSTERN-QUEUE 1
 *		id: 0006271A2B3C4D
 *		arrival: 1763800000
 *		sender: <joe@example.org>		(<> is the null sender)
 *		client: 192.0.2.1 [mx.example.org]	(optional)
 *		helo: mx.example.org			(optional)
 *		protocol: ESMTP				(optional)
 *		auth: joe@example.org			(when authenticated)
 *		envid: xyz				(optional, DSN)
 *		ret: HDRS				(optional, DSN)
 *		smtputf8: 1				(optional)
 *		body: 8BITMIME				(optional)
 *		rcpt: <a@example.com>
 *		orcpt: rfc822;a@example.com		(optional, DSN)
 *		notify: FAILURE,DELAY			(optional, DSN)
 *		status: P 000 000000000000 [reason, padded to QUEUE_REASON_MAX]
 *		...one rcpt [orcpt] [notify] status group per recipient...
 *		size: 000000000001234			(message bytes after "--")
 *		--
 *		<the message, exactly as it will be delivered>
 *
 *	Keys appear at most once, except the recipient groups; orcpt and
 *	notify each belong to the rcpt line above them, and each rcpt has
 *	exactly one status line.  Values hold no control characters:
 *	addresses and DSN values that do are refused by the writer, the
 *	informational client/helo/protocol/auth have them replaced by '?'.
 *
 *	The status line of each recipient has a fixed width so it is rewritten
 *	in place (pwrite + fdatasync) as outcomes arrive: a status letter (see
 *	enum rcpt_status), the number of attempts (3 digits, at most 999), the
 *	time of the last attempt (12 digits, seconds since the epoch) and the
 *	last reply, truncated to QUEUE_REASON_MAX bytes, anything but printable
 *	ASCII replaced by '?', padded with spaces.  The size field has a fixed
 *	width too: the writer reserves it and fills it in at commit.
 *
 *	queue_writer_begin() creates ".tmp-ID" in dirfd (O_EXCL; names that
 *	start with a dot are never queue files) and writes the header.  The
 *	envelope's arrival is used, or the current time when it is 0; each
 *	recipient starts with its status, attempts, last_attempt and reason
 *	(status 0 means RCPT_PENDING, reason NULL means "").
 *
 *	queue_writer_commit() is the single durable commit of a new message:
 *	fill in the size, fsync the temporary file, rename it to its id (never
 *	replacing a file), fsync the directory.  Only after it returns 0 may
 *	anyone say 250.  On any failure the temporary file is removed and
 *	nothing is visible.  Commit and abort free the writer.
 *
 *	queue_file_read() parses the header into env (strings in the arena)
 *	using pread only, so it leaves the descriptor's offset alone and works
 *	on a descriptor shared with another process.  It refuses (returns -1
 *	with a reason) a truncated or malformed file, or one whose size line
 *	disagrees with the file's length; the caller moves such a file to
 *	corrupt/, never deletes it.
 *
 *	queue_file_put_status() rewrites one recipient's status field from
 *	r->attempts and r->last_attempt (which the caller sets: recording an
 *	attempt is the caller's decision, expiring a message is not an
 *	attempt), the new status and reason; it updates r->status, not
 *	r->reason (the caller owns that string).  queue_file_set_status() does
 *	the same and then fdatasync()s; after several put_status calls one
 *	queue_file_sync() makes them all durable at once.
 *
 * DIAGNOSTICS
 *	Functions returning int return 0 or -1 with errno set (ENOSPC and
 *	EDQUOT mean the disk is full), and where there is an err buffer a
 *	one-line explanation in it.  queue_writer_begin() returns NULL
 *	likewise.  An append that fails is remembered: the commit then fails.
 */
#ifndef POSTERN_QUEUE_FILE_H
#define POSTERN_QUEUE_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "common/queue_id.h"

struct arena;

#define QUEUE_REASON_MAX 200
/* "P 000 000000000000 " plus the reason: the part rewritten in place */
#define QUEUE_STATUS_WIDTH (1 + 1 + 3 + 1 + 12 + 1 + QUEUE_REASON_MAX)
#define QUEUE_SIZE_DIGITS 15
#define QUEUE_ATTEMPTS_MAX 999
/* A header larger than this is malformed (recipients are bounded too). */
#define QUEUE_HEADER_MAX (8 * 1024 * 1024)
#define QUEUE_TMP_PREFIX ".tmp-"

enum rcpt_status {
	RCPT_PENDING = 'P',	/* not yet delivered; retry when due */
	RCPT_DELIVERED = 'D',	/* done */
	RCPT_BOUNCED = 'B',	/* failed permanently; a DSN is owed */
	RCPT_NOTIFIED = 'N',	/* failed, and the DSN has been queued */
};

struct queue_rcpt {
	char *addr;		/* without angle brackets */
	char *orcpt;		/* DSN ORCPT or NULL */
	char *notify;		/* DSN NOTIFY or NULL (e.g. "FAILURE,DELAY") */
	char status;		/* enum rcpt_status */
	int attempts;
	time_t last_attempt;
	char *reason;		/* last reply, may be "" */
	off_t status_offset;	/* where the status line's fixed field starts */
};

struct queue_envelope {
	char id[QUEUE_ID_LEN + 1];
	time_t arrival;
	char *sender;		/* "" is the null sender */
	char *client;		/* "ADDR [NAME]" or "local uid=N", or NULL */
	char *helo;		/* or NULL */
	char *protocol;		/* SMTP, ESMTP, ESMTPS, ESMTPSA ... or NULL */
	char *auth;		/* authenticated user or NULL */
	char *envid;		/* DSN ENVID or NULL */
	char *ret;		/* DSN RET (FULL/HDRS) or NULL */
	int smtputf8;
	char *body_type;	/* 7BIT, 8BITMIME, BINARYMIME or NULL */
	size_t nrcpt;
	struct queue_rcpt *rcpt;
	off_t body_offset;	/* first byte of the message in the file */
	off_t body_size;
};

struct queue_writer;

struct queue_writer *queue_writer_begin(int dirfd, const struct queue_envelope *env,
    char id_out[QUEUE_ID_LEN + 1], char *err, size_t errlen);
int queue_writer_append(struct queue_writer *w, const void *p, size_t n);
off_t queue_writer_size(const struct queue_writer *w);	/* message bytes so far */
int queue_writer_commit(struct queue_writer *w, char *err, size_t errlen);
void queue_writer_abort(struct queue_writer *w);

int queue_file_read(int fd, struct arena *a, struct queue_envelope *env,
    char *err, size_t errlen);
int queue_file_put_status(int fd, struct queue_rcpt *r, char status,
    const char *reason);
int queue_file_sync(int fd);
int queue_file_set_status(int fd, struct queue_rcpt *r, char status,
    const char *reason);
/* 1 when no recipient is left to try or to notify about */
int queue_file_done(const struct queue_envelope *env);

#endif
