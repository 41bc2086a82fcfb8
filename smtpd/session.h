/*
 * session - one SMTP connection: its state, the command table, and the
 * policy and action behind every command.
 *
 * SYNOPSIS
 *	session_new(sd, fd, SESSION_ORIGIN_SMTP);	// greets
 *	...the event loop drives it; it frees itself when done...
 *
 *	From data.c and the clients' callbacks:
 *	session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
 *	session_error(s, "451 4.3.0 ...");	// counts toward the error limit
 *	session_resume(s);	// an awaited reply arrived: go on reading
 *
 * DESCRIPTION
 *	A session is a bufferevent, a struct, and an arena for what lives as
 *	long as the connection.  A transaction (MAIL to the end of DATA) has
 *	an arena of its own, freed by RSET, HELO/EHLO, or the end of the
 *	message, so a long session does not grow.
 *
 *	Input is handled in order, one command line at a time (RFC 2920
 *	PIPELINING): when a command needs another process (RCPT asks lookup,
 *	the end of DATA waits for enqueue) the session stops reading and
 *	handling input until the reply comes, so replies leave in the order
 *	of the commands.  Output is bounded too: a client that pipelines but
 *	does not read its replies is not read from either.
 *
 *	Commands dispatch from one table (session.c): the verb, the states it
 *	is allowed in (else 503 5.5.1), the argument check from command.c
 *	(else 501/555), the action.  Unknown verbs get 500 5.5.2.  Every
 *	4xx/5xx reply counts toward smtpd_error_limit, after which the
 *	session is closed with 421 4.7.0.  A client gets smtpd_timeout for
 *	each command line, counted from the previous reply, however it
 *	trickles the bytes (else one byte a minute would hold a session for
 *	days); the DATA phase has smtpd_data_timeout as a whole.  Either
 *	closes the session with 421 4.4.2.  A client that reads no replies
 *	for smtpd_timeout is dropped.
 *
 *	A session never frees itself inside a call from another module: it
 *	frees at the end of its own event callbacks (or of session_resume),
 *	so callers must not touch it after session_resume() or
 *	session_process() returns.
 */
#ifndef POSTERN_SMTPD_SESSION_H
#define POSTERN_SMTPD_SESSION_H

#include <sys/queue.h>

#include <stddef.h>

#include "common/buf.h"
#include "smtpd/command.h"
#include "smtpd/data.h"
#include "smtpd/enqueue_client.h"
#include "smtpd/lookup_client.h"

#define SESSION_INPUT_MAX	(256 * 1024)	/* read no further ahead */
#define SESSION_OUTPUT_MAX	(64 * 1024)	/* replies not yet read */

struct smtpd;
struct arena;
struct bufferevent;
struct event;

enum session_state {
	SESSION_CONNECTED = 1 << 0,	/* greeted, no HELO/EHLO yet */
	SESSION_HELO = 1 << 1,		/* between transactions */
	SESSION_MAIL = 1 << 2,		/* MAIL accepted, no recipient yet */
	SESSION_RCPT = 1 << 3,		/* at least one recipient accepted */
	SESSION_DATA = 1 << 4,		/* reading the message */
};

enum session_origin {
	SESSION_ORIGIN_SMTP,		/* port 25 */
	SESSION_ORIGIN_SUBMISSION,	/* port 587 */
	SESSION_ORIGIN_PICKUP,		/* local sendmail command */
};

enum session_wait {
	SESSION_WAIT_NONE,
	SESSION_WAIT_LOOKUP,
	SESSION_WAIT_ENQUEUE,
};

/* One transaction; its strings live in its arena. */
struct session_txn {
	struct arena *arena;
	const char *sender;		/* "" for the null sender */
	int smtputf8;
	enum smtp_body body;
	char **rcpt;			/* xrealloc'd array, arena strings */
	size_t nrcpt;
	size_t rcpt_cap;
	int rcpt_tried;			/* RCPTs seen, accepted or not */
	char *asked;			/* the RCPT being looked up */
	struct lookup_call lookup;
	struct enqueue_txn enq;
	struct smtp_data_decoder dec;
	struct buf chunk;		/* decoded, not yet sent to enqueue */
	size_t received_len;		/* our Received header */
	const char *verdict;		/* refusal decided during DATA */
};

struct session {
	TAILQ_ENTRY(session) entry;
	struct smtpd *sd;
	struct arena *arena;
	struct bufferevent *bev;
	struct event *cmd_timer;	/* smtpd_timeout, per command */
	struct event *data_timer;	/* smtpd_data_timeout */
	enum session_origin origin;
	const char *client;		/* "ADDR [ADDR]" or "local uid=N" */
	const char *client_info;	/* the same for Received: */
	struct buf helo;		/* reused: HELO may come many times */
	int esmtp;
	enum session_state state;
	enum session_wait wait;
	unsigned errors;
	int eof;			/* the client closed its side */
	int closing;			/* last reply queued; free when sent */
	int throttled;			/* waiting for enqueue to drain */
	struct smtp_line_reader lr;
	struct session_txn txn;
};

void session_new(struct smtpd *sd, int fd, enum session_origin origin);
void session_free(struct session *s);

void session_reply(struct session *s, const char *line);
void session_replyf(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void session_error(struct session *s, const char *line);
void session_close(struct session *s, const char *line);

void session_process(struct session *s);
void session_resume(struct session *s);
void session_txn_reset(struct session *s);
const char *session_protocol(const struct session *s);

#endif
