/*
 * data - the DATA phase.  The manual is in data.h.
 *
 * The decoder is a five-state machine over the input octets.  "Beginning
 * of line" is reached only through CR LF, which is the whole defence
 * against SMTP smuggling: a bare LF or CR can neither end the message nor
 * make a following dot special.  Inside a line the decoder copies runs up
 * to the next CR in one go, so long lines cost one memchr, not a loop.
 *
 * A message that has to be refused while it streams (too big, a loop,
 * the enqueue connection lost) is still read to its end: the client
 * cannot be told before it stops sending, and reading on keeps the
 * command stream in step, so the session goes on afterwards.
 */
#include "smtpd/data.h"

#include <event2/event.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/proto.h"
#include "common/queue_id.h"
#include "smtpd/peer.h"
#include "smtpd/session.h"
#include "smtpd/smtpd.h"

enum {
	DEC_BOL,	/* after CR LF, or at the start */
	DEC_DOT,	/* a dot at the beginning of a line */
	DEC_DOT_CR,	/* CR after that dot: LF ends the data */
	DEC_TEXT,	/* inside a line */
	DEC_CR,		/* CR inside a line: LF ends the line */
};

static const char RECEIVED[] = "received:";

void
smtp_data_init(struct smtp_data_decoder *d)
{
	memset(d, 0, sizeof *d);
	d->state = DEC_BOL;
	d->in_headers = 1;
	d->line_match = 1;
}

/* Counts "Received:" at the start of header lines; the header section
 * ends at the first empty line. */
static void
scan_headers(struct smtp_data_decoder *d, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && d->in_headers; i++) {
		char c = p[i];

		if (c == '\n') {
			if (d->line_pos == 0)
				d->in_headers = 0;
			d->line_pos = 0;
			d->line_match = 1;
			continue;
		}
		if (c == '\r')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (d->line_match && d->line_pos < sizeof RECEIVED - 1) {
			if (c != RECEIVED[d->line_pos])
				d->line_match = 0;
			else if (d->line_pos == sizeof RECEIVED - 2)
				d->received++;
		}
		d->line_pos++;
	}
}

static void
emit(struct smtp_data_decoder *d, struct buf *out, const char *p, size_t n)
{
	buf_append(out, p, n);
	d->size += n;
	if (d->in_headers)
		scan_headers(d, p, n);
}

/* Inside a line: copy everything up to and including the next CR. */
static size_t
text_run(struct smtp_data_decoder *d, const char *p, size_t n,
    struct buf *out)
{
	const char *cr = memchr(p, '\r', n);
	size_t len = cr != NULL ? (size_t)(cr - p) + 1 : n;

	emit(d, out, p, len);
	if (cr != NULL)
		d->state = DEC_CR;
	return len;
}

static void
text_octet(struct smtp_data_decoder *d, char c, struct buf *out)
{
	emit(d, out, &c, 1);
	d->state = c == '\r' ? DEC_CR : DEC_TEXT;
}

/* One octet in any state but DEC_TEXT; returns 1 at the end of data. */
static int
step(struct smtp_data_decoder *d, char c, struct buf *out)
{
	switch (d->state) {
	case DEC_BOL:
		if (c == '.') {
			d->state = DEC_DOT;
			return 0;
		}
		break;
	case DEC_DOT:
		if (c == '\r') {
			d->state = DEC_DOT_CR;
			return 0;
		}
		break;		/* the dot was transparency: dropped */
	case DEC_DOT_CR:
		if (c == '\n')
			return 1;
		emit(d, out, "\r", 1);
		break;
	case DEC_CR:
		if (c == '\n') {
			emit(d, out, "\n", 1);
			d->state = DEC_BOL;
			return 0;
		}
		break;
	}
	text_octet(d, c, out);
	return 0;
}

enum smtp_data_status
smtp_data_feed(struct smtp_data_decoder *d, const char *p, size_t n,
    struct buf *out, size_t *used)
{
	size_t i = 0;

	while (i < n) {
		if (d->state == DEC_TEXT)
			i += text_run(d, p + i, n - i, out);
		else if (step(d, p[i++], out)) {
			*used = i;
			return SMTP_DATA_END;
		}
	}
	*used = n;
	return SMTP_DATA_MORE;
}

/* The client names itself; keep only what cannot disturb the header's
 * syntax (no parentheses, no semicolon, no quotes). */
static void
put_helo(struct buf *b, const char *helo)
{
	for (; *helo != '\0'; helo++) {
		char c = *helo;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(".-_:[]", c) != NULL;

		buf_putc(b, ok ? c : '?');
	}
}

/* RFC 5321 4.4.  The queue id is not known before the end, so the
 * header carries none; "for" only names a single recipient, as more
 * would disclose the whole list to each of them. */
static void
received_header(const struct session *s, struct buf *b)
{
	const struct session_txn *t = &s->txn;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_puts(b, "Received: from ");
	put_helo(b, buf_cstr(&s->helo));
	buf_printf(b, " (%s)\r\n\tby %s (Postern) with %s", s->client_info,
	    s->sd->lim.myhostname, session_protocol(s));
	if (t->nrcpt == 1)
		buf_printf(b, "\r\n\tfor <%s>", t->rcpt[0]);
	buf_printf(b, "; %s\r\n", date);
}

void
data_begin(struct session *s)
{
	struct session_txn *t = &s->txn;
	struct enqueue_envelope env = {
		t->sender, s->client, buf_cstr(&s->helo), session_protocol(s),
		t->smtputf8, smtp_body_name(t->body), t->rcpt, t->nrcpt,
	};
	struct timeval tv = { s->sd->lim.data_timeout, 0 };

	if (enqueue_begin(s->sd->enqueue, &t->enq, &env) < 0) {
		session_error(s, "451 4.3.0 Error: queue unavailable, try again later");
		return;
	}
	smtp_data_init(&t->dec);
	buf_reset(&t->chunk);
	received_header(s, &t->chunk);
	t->received_len = t->chunk.len;
	s->state = SESSION_DATA;
	if (tv.tv_sec > 0)
		evtimer_add(s->data_timer, &tv);
	session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* The first refusal wins; the partial queue file goes at once. */
static void
refuse(struct session_txn *t, const char *verdict)
{
	if (t->verdict != NULL)
		return;
	t->verdict = verdict;
	enqueue_abort(&t->enq);
}

static void
police(struct session *s)
{
	const struct smtpd_limits *lim = &s->sd->lim;
	struct session_txn *t = &s->txn;
	uint64_t size = t->received_len + t->dec.size;

	if (lim->message_size_limit > 0 && size > lim->message_size_limit)
		refuse(t, "552 5.3.4 Error: message too big");
	/* Our own Received header is one more hop. */
	if (lim->max_received > 0 && t->dec.received + 1 > lim->max_received)
		refuse(t, "554 5.4.6 Error: too many Received headers: mail loop");
}

static void
flush(struct session *s, int all)
{
	struct session_txn *t = &s->txn;
	size_t off = 0, n;

	while (t->verdict == NULL && (t->chunk.len - off >= PROTO_DATA_CHUNK ||
	    (all && off < t->chunk.len))) {
		n = t->chunk.len - off;
		if (n > PROTO_DATA_CHUNK)
			n = PROTO_DATA_CHUNK;
		if (enqueue_data(&t->enq, t->chunk.data + off, n) < 0)
			refuse(t, "451 4.3.0 Error: queue connection lost, try again later");
		off += n;
	}
	if (t->verdict != NULL)
		buf_reset(&t->chunk);
	else
		buf_consume(&t->chunk, off);
}

static void
queued(void *arg, enum enqueue_status st, const char *queue_id)
{
	struct session *s = arg;
	struct session_txn *t = &s->txn;

	switch (st) {
	case ENQUEUE_OK:
		if (!queue_id_valid(queue_id)) {
			log_warn("enqueue answered ok with a bad queue id");
			queue_id = "(unknown)";
		}
		log_info("%s: client=%s, from=<%s>, nrcpt=%zu, size=%llu",
		    queue_id, s->client, t->sender, t->nrcpt,
		    (unsigned long long)(t->received_len + t->dec.size));
		session_replyf(s, "250 2.0.0 Ok: queued as %s", queue_id);
		break;
	case ENQUEUE_TEMP:
		session_error(s, "451 4.3.0 Error: queue file write error, try again later");
		break;
	case ENQUEUE_FULL:
		session_error(s, "452 4.3.1 Error: insufficient system storage");
		break;
	case ENQUEUE_TOOBIG:
		session_error(s, "552 5.3.4 Error: message too big");
		break;
	}
	session_txn_reset(s);
	session_resume(s);
}

static void
finish(struct session *s)
{
	struct session_txn *t = &s->txn;
	const char *verdict;

	evtimer_del(s->data_timer);
	s->state = SESSION_HELO;
	if (t->verdict == NULL && enqueue_end(&t->enq, queued, s) < 0)
		t->verdict = "451 4.3.0 Error: queue connection lost, try again later";
	if (t->verdict == NULL) {
		s->wait = SESSION_WAIT_ENQUEUE;
		return;
	}
	verdict = t->verdict;
	log_info("NOQUEUE: reject: DATA from %s: %s; from=<%s>, nrcpt=%zu",
	    s->client, verdict, t->sender, t->nrcpt);
	session_txn_reset(s);
	session_error(s, verdict);
}

size_t
data_input(struct session *s, const char *p, size_t n)
{
	struct session_txn *t = &s->txn;
	enum smtp_data_status st;
	size_t used;

	st = smtp_data_feed(&t->dec, p, n, &t->chunk, &used);
	police(s);
	flush(s, st == SMTP_DATA_END);
	if (st == SMTP_DATA_END)
		finish(s);
	else if (peer_backlog(s->sd->enqueue) > SMTPD_BACKLOG_HIGH) {
		s->throttled = 1;
		smtpd_throttle(s->sd);
	}
	return used;
}
