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
 *	queue_file_set_status(fd, &env.rcpt[i], RCPT_DELIVERED, "250 ok");
 *
 * DESCRIPTION
 *	A queue file is human-readable up to the message:
 *
 *		POSTERN-QUEUE 1
 *		id: 0006271A2B3C4D
 *		arrival: 1763800000
 *		sender: <joe@example.org>		(<> is the null sender)
 *		client: 192.0.2.1 [mx.example.org]
 *		helo: mx.example.org
 *		protocol: ESMTP
 *		auth: joe@example.org			(when authenticated)
 *		envid: xyz  ret: HDRS  smtputf8: 1  body: 8BITMIME   (optional)
 *		rcpt: <a@example.com> orcpt=rfc822;a@example.com notify=FAILURE
 *		status: P 000 000000000000 [reason, padded to QUEUE_REASON_MAX]
 *		...one rcpt/status pair per recipient...
 *		size: 1234				(message bytes after the separator)
 *		--
 *		<the message, exactly as it will be delivered>
 *
 *	The status line of each recipient has a fixed width so it is rewritten
 *	in place (pwrite + fdatasync) as outcomes arrive: a status letter (see
 *	enum rcpt_status), the number of attempts, the time of the last attempt
 *	and the last reply, truncated and padded with spaces.
 *
 *	queue_writer_commit() is the single durable commit of a new message:
 *	fsync the temporary file, rename it to its id (never replacing a file),
 *	fsync the directory.  Only after it returns 0 may anyone say 250.
 *	On any failure the temporary file is removed and nothing is visible.
 *
 *	queue_file_read() refuses (returns -1 with a reason) a truncated or
 *	malformed file, whose size line disagrees with the file; the caller
 *	moves such a file to corrupt/, never deletes it.
 */
#ifndef POSTERN_QUEUE_FILE_H
#define POSTERN_QUEUE_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "common/queue_id.h"

struct arena;

#define QUEUE_REASON_MAX 200

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
	char *client;		/* "ADDR [NAME]" or "local uid=N" */
	char *helo;
	char *protocol;		/* SMTP, ESMTP, ESMTPS, ESMTPSA ... */
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
int queue_file_set_status(int fd, struct queue_rcpt *r, char status,
    const char *reason);
/* 1 when no recipient is left to try or to notify about */
int queue_file_done(const struct queue_envelope *env);

#endif
