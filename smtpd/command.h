/*
 * command - the SMTP command parser: pure functions, no I/O.
 *
 * SYNOPSIS
 *	struct smtp_line_reader lr;
 *	smtp_line_init(&lr);
 *	while (bytes arrive) {
 *		switch (smtp_line_feed(&lr, p, n, &used)) {
 *		case SMTP_LINE_DONE:	 handle(buf_cstr(&lr.line), lr.line.len); break;
 *		case SMTP_LINE_TOO_LONG: reply("500 5.5.2 Line too long"); break;
 *		case SMTP_LINE_MORE:	 break;
 *		}
 *		p += used, n -= used;
 *	}
 *	smtp_line_free(&lr);
 *
 *	struct smtp_command cmd;
 *	const char *reply;
 *	if (smtp_command_split(line, len, &cmd, &reply) < 0) send(reply);
 *	if (smtp_parse_mail(cmd.args, cmd.args_len, &mail, &reply) < 0) ...
 *
 * DESCRIPTION
 *	smtp_line_feed() is a resumable line splitter: it may be fed any
 *	number of bytes at a time, down to one, and always gives the same
 *	lines.  A line ends at LF; a CR before it is dropped.  A line longer
 *	than SMTP_LINE_MAX octets with its CRLF (RFC 5321 4.5.3.1.4) is not
 *	kept: the rest up to the next LF is discarded and SMTP_LINE_TOO_LONG
 *	is returned once, when that LF arrives, so the reply comes in order
 *	and the session goes on.  Memory per reader is bounded by the limit.
 *
 *	smtp_command_split() separates the verb (letters, upper-cased into
 *	cmd->verb) from its arguments (after one or more spaces, trailing
 *	spaces dropped).  The smtp_parse_*() functions check the arguments
 *	of one command each: HELO/EHLO's domain, MAIL FROM:<path> with the
 *	ESMTP parameters SIZE=, BODY= and SMTPUTF8 (RFC 1870, 6152, 6531),
 *	RCPT TO:<path>, and commands that take no argument or need one.
 *	Addresses go through common/address.c.
 *
 * DIAGNOSTICS
 *	Every function that can fail returns -1 and sets *reply to a complete
 *	static SMTP reply line (code, enhanced status code, text; no CRLF):
 *	500 5.5.2 for an unrecognisable line (NUL, bare CR, no verb),
 *	501 5.5.4 for malformed arguments, 501 5.1.7 / 5.1.3 for a bad sender
 *	/ recipient address, 553 5.6.7 for non-ASCII without SMTPUTF8,
 *	555 5.5.4 for an unknown MAIL/RCPT parameter.
 */
#ifndef POSTERN_SMTPD_COMMAND_H
#define POSTERN_SMTPD_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "common/address.h"
#include "common/buf.h"

#define SMTP_LINE_MAX	512	/* octets of a command line, CRLF included */
#define SMTP_VERB_MAX	16	/* longer "verbs" are not commands */
#define SMTP_HELO_MAX	255	/* a domain name or an address literal */

enum smtp_line_status {
	SMTP_LINE_MORE,		/* all input consumed, no line complete */
	SMTP_LINE_DONE,		/* reader->line holds one line */
	SMTP_LINE_TOO_LONG,	/* an overlong line ended; it was dropped */
};

struct smtp_line_reader {
	struct buf line;	/* the line without CR LF; may contain NUL */
	int discarding;		/* inside an overlong line */
	int complete;		/* line holds a finished line */
};

void smtp_line_init(struct smtp_line_reader *r);
void smtp_line_free(struct smtp_line_reader *r);
/* Consumes input up to and including the end of at most one line;
 * *used says how much, the caller feeds the rest again. */
enum smtp_line_status smtp_line_feed(struct smtp_line_reader *r,
    const char *p, size_t n, size_t *used);

struct smtp_command {
	char verb[SMTP_VERB_MAX + 1];	/* upper case */
	const char *args;		/* points into the line, "" if none */
	size_t args_len;
};

int smtp_command_split(const char *line, size_t len, struct smtp_command *cmd,
    const char **reply);

enum smtp_body {
	SMTP_BODY_NONE,		/* no BODY= given */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
};

struct smtp_mail_args {
	struct address from;
	int has_size;
	uint64_t size;		/* SIZE=, the client's estimate */
	enum smtp_body body;
	int smtputf8;
};

struct smtp_rcpt_args {
	struct address to;
};

int smtp_parse_helo(const char *args, size_t len, const char **reply);
int smtp_parse_mail(const char *args, size_t len, struct smtp_mail_args *out,
    const char **reply);
/* smtputf8: the transaction's MAIL carried SMTPUTF8 */
int smtp_parse_rcpt(const char *args, size_t len, int smtputf8,
    struct smtp_rcpt_args *out, const char **reply);
int smtp_parse_noargs(const char *args, size_t len, const char **reply);
int smtp_parse_vrfy(const char *args, size_t len, const char **reply);

const char *smtp_body_name(enum smtp_body body);	/* NULL for NONE */

#endif
