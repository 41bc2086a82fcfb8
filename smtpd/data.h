/*
 * data - the DATA phase: the message decoder and its streaming to enqueue.
 *
 * SYNOPSIS
 *	Decoder (pure, no I/O):
 *	struct smtp_data_decoder d;
 *	smtp_data_init(&d);
 *	if (smtp_data_feed(&d, p, n, &out, &used) == SMTP_DATA_END)
 *		...message complete; p + used is the next command...
 *	d.size, d.received	// message octets so far, Received: fields seen
 *
 *	Session side (session.c calls these):
 *	data_begin(s);		// envelope to enqueue, then 354
 *	used = data_input(s, p, n);
 *
 * DESCRIPTION
 *	smtp_data_feed() removes the transparency dot of RFC 5321 4.5.2 and
 *	finds the end of the data.  Only CR LF "." CR LF ends it (the 354
 *	reply counts as the first CR LF, so "." CR LF at once is an empty
 *	message): a bare LF or bare CR never starts or ends a line here, so
 *	"\n.\n", "\r.\r" and "\n.\r\n" are message content (SMTP smuggling).
 *	Every other octet, bare CR and LF included, is passed on unchanged,
 *	and no line length is imposed: lines over 1000 octets arrive
 *	byte-exact.  Any split of the input gives the same output.
 *
 *	While the message is still in its header section the decoder counts
 *	"Received:" fields, so that a mail loop is caught early.
 *
 *	data_begin() sends the envelope (op=begin) before answering 354, so
 *	that a queue that is down is reported before the client sends the
 *	message.  data_input() decodes, prepends the Received header, streams
 *	op=data frames of at most PROTO_DATA_CHUNK octets, and at the end
 *	sends op=end and waits: 250 is said only when enqueue answers that the
 *	queue file is committed (common/queue_file.h).  A message over
 *	message_size_limit (552 5.3.4), with too many Received fields (554
 *	5.4.6), or whose enqueue connection broke (451 4.3.0) is read to its
 *	end, aborted at enqueue, and refused.  When more than
 *	SMTPD_BACKLOG_HIGH octets wait to go to enqueue the session stops
 *	reading until they drain.
 */
#ifndef POSTERN_SMTPD_DATA_H
#define POSTERN_SMTPD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum smtp_data_status {
	SMTP_DATA_MORE,		/* all input consumed, end not seen */
	SMTP_DATA_END,		/* CRLF.CRLF consumed */
};

struct smtp_data_decoder {
	int state;
	uint64_t size;		/* message octets produced */
	unsigned received;	/* Received: header fields seen */
	int in_headers;		/* still before the first empty line */
	size_t line_pos;	/* octets into the current header line */
	int line_match;		/* the line so far reads "Received:" */
};

void smtp_data_init(struct smtp_data_decoder *d);
/* Appends the decoded octets of p[0..n) to out; *used is how much input
 * was taken (less than n only at the end of the data). */
enum smtp_data_status smtp_data_feed(struct smtp_data_decoder *d,
    const char *p, size_t n, struct buf *out, size_t *used);

struct session;

void data_begin(struct session *s);
size_t data_input(struct session *s, const char *p, size_t n);

#endif
