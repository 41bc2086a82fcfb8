/*
 * session - one SMTP connection.  The manual is in session.h.
 *
 * Reading order: the command table and its actions first (what the
 * server says to what), then the input loop, then the connection's life
 * (creation, event callbacks, closing).
 *
 * Policy in brief: HELO/EHLO is required before MAIL (RFC 5321 4.1.4
 * allows insisting); the recipient is checked with lookup while the
 * client waits, so nothing is accepted that cannot be delivered (no
 * backscatter); a domain that is not ours is relayed only for the local
 * pickup socket, since nothing on the network has authenticated yet.
 */
#include "smtpd/session.h"

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/attr.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "smtpd/peer.h"
#include "smtpd/smtpd.h"

#define ANY_STATE	(SESSION_CONNECTED | SESSION_HELO | SESSION_MAIL | \
			 SESSION_RCPT)
#define IN_TXN		(SESSION_MAIL | SESSION_RCPT)

/* The begin frame carries every recipient; keep it within one frame. */
#define RCPT_HARD_MAX	(ATTR_MAX - 16)

struct verb_args {
	struct smtp_mail_args mail;
	struct smtp_rcpt_args rcpt;
	const char *text;
	size_t len;
};

struct verb {
	const char *name;
	unsigned states;		/* where it may come */
	const char *out_of_sequence;	/* 503 reply elsewhere */
	int (*check)(const struct session *s, const struct smtp_command *cmd,
	    struct verb_args *a, const char **reply);
	void (*run)(struct session *s, const struct verb_args *a);
};

static void settle(struct session *s);

/* ---- argument checks: command.c's parsers fitted to the table ---- */

static int
check_helo(const struct session *s, const struct smtp_command *cmd,
    struct verb_args *a, const char **reply)
{
	(void)s;
	a->text = cmd->args;
	a->len = cmd->args_len;
	return smtp_parse_helo(cmd->args, cmd->args_len, reply);
}

static int
check_mail(const struct session *s, const struct smtp_command *cmd,
    struct verb_args *a, const char **reply)
{
	(void)s;
	return smtp_parse_mail(cmd->args, cmd->args_len, &a->mail, reply);
}

static int
check_rcpt(const struct session *s, const struct smtp_command *cmd,
    struct verb_args *a, const char **reply)
{
	return smtp_parse_rcpt(cmd->args, cmd->args_len, s->txn.smtputf8,
	    &a->rcpt, reply);
}

static int
check_none(const struct session *s, const struct smtp_command *cmd,
    struct verb_args *a, const char **reply)
{
	(void)s, (void)a;
	return smtp_parse_noargs(cmd->args, cmd->args_len, reply);
}

static int
check_vrfy(const struct session *s, const struct smtp_command *cmd,
    struct verb_args *a, const char **reply)
{
	(void)s, (void)a;
	return smtp_parse_vrfy(cmd->args, cmd->args_len, reply);
}

/* ---- actions ---- */

static const char *
hostname(const struct session *s)
{
	return s->sd->lim.myhostname;
}

/* HELO and EHLO start afresh (RFC 5321 4.1.4: like RSET). */
static void
greeted(struct session *s, const struct verb_args *a, int esmtp)
{
	session_txn_reset(s);
	buf_reset(&s->helo);
	buf_append(&s->helo, a->text, a->len);
	s->esmtp = esmtp;
	s->state = SESSION_HELO;
}

static void
do_helo(struct session *s, const struct verb_args *a)
{
	greeted(s, a, 0);
	session_replyf(s, "250 %s", hostname(s));
}

static void
do_ehlo(struct session *s, const struct verb_args *a)
{
	greeted(s, a, 1);
	session_replyf(s, "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n"
	    "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8",
	    hostname(s), (unsigned long long)s->sd->lim.message_size_limit);
}

static void
do_mail(struct session *s, const struct verb_args *a)
{
	const struct smtp_mail_args *m = &a->mail;
	uint64_t limit = s->sd->lim.message_size_limit;
	struct session_txn *t = &s->txn;

	/* RFC 1870: refuse at once what could never be taken. */
	if (m->has_size && limit > 0 && m->size > limit) {
		session_error(s, "552 5.3.4 Error: message size exceeds fixed limit");
		return;
	}
	session_txn_reset(s);
	t->arena = arena_new();
	t->sender = arena_strdup(t->arena, m->from.mailbox);
	t->smtputf8 = m->smtputf8;
	t->body = m->body;
	s->state = SESSION_MAIL;
	session_reply(s, "250 2.1.0 Ok");
}

static size_t
rcpt_limit(const struct session *s)
{
	size_t limit = s->sd->lim.recipient_limit;

	return limit == 0 || limit > RCPT_HARD_MAX ? RCPT_HARD_MAX : limit;
}

static void
rcpt_refuse(struct session *s, const char *code, const char *text)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s <%s>: %s", code, s->txn.asked, text);
	log_info("NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s>",
	    s->client, buf_cstr(&b), s->txn.sender, s->txn.asked);
	session_error(s, buf_cstr(&b));
	buf_free(&b);
}

static void
rcpt_accept(struct session *s)
{
	struct session_txn *t = &s->txn;
	size_t i;

	/* The same address twice would be delivered twice. */
	for (i = 0; i < t->nrcpt; i++)
		if (strcmp(t->rcpt[i], t->asked) == 0)
			break;
	if (i == t->nrcpt) {
		if (t->nrcpt == t->rcpt_cap) {
			t->rcpt_cap = t->rcpt_cap ? t->rcpt_cap * 2 : 4;
			t->rcpt = xrealloc(t->rcpt, t->rcpt_cap * sizeof *t->rcpt);
		}
		t->rcpt[t->nrcpt++] = t->asked;
	}
	s->state = SESSION_RCPT;
	session_reply(s, "250 2.1.5 Ok");
}

static void
rcpt_looked_up(void *arg, enum lookup_result r)
{
	struct session *s = arg;

	switch (r) {
	case LOOKUP_OK:
		rcpt_accept(s);
		break;
	case LOOKUP_REMOTE:
		if (s->origin == SESSION_ORIGIN_PICKUP)
			rcpt_accept(s);
		else
			rcpt_refuse(s, "554 5.7.1", "Relay access denied");
		break;
	case LOOKUP_NOTFOUND:
		rcpt_refuse(s, "550 5.1.1", "User unknown");
		break;
	case LOOKUP_TEMP:
		rcpt_refuse(s, "451 4.3.0", "Temporary lookup failure");
		break;
	}
	session_resume(s);
}

static void
do_rcpt(struct session *s, const struct verb_args *a)
{
	struct session_txn *t = &s->txn;
	const struct address *to = &a->rcpt.to;

	t->rcpt_tried++;
	if (t->nrcpt >= rcpt_limit(s)) {
		session_error(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	/* "<Postmaster>" alone means the postmaster of this host. */
	if (to->domain[0] == '\0')
		t->asked = arena_printf(t->arena, "%s@%s", to->mailbox,
		    hostname(s));
	else
		t->asked = arena_strdup(t->arena, to->mailbox);
	if (lookup_user(s->sd->lookup, &t->lookup, t->asked, rcpt_looked_up,
	    s) < 0) {
		rcpt_refuse(s, "451 4.3.0", "Temporary lookup failure");
		return;
	}
	s->wait = SESSION_WAIT_LOOKUP;
}

static void
do_data(struct session *s, const struct verb_args *a)
{
	(void)a;
	/* RFC 5321 3.3: 503 when no RCPT came, 554 when every one was refused. */
	if (s->state != SESSION_RCPT) {
		session_error(s, s->txn.rcpt_tried ?
		    "554 5.5.1 Error: no valid recipients" :
		    "503 5.5.1 Error: need RCPT command");
		return;
	}
	data_begin(s);
}

static void
do_rset(struct session *s, const struct verb_args *a)
{
	(void)a;
	session_txn_reset(s);
	session_reply(s, "250 2.0.0 Ok");
}

static void
do_noop(struct session *s, const struct verb_args *a)
{
	(void)a;
	session_reply(s, "250 2.0.0 Ok");
}

static void
do_quit(struct session *s, const struct verb_args *a)
{
	(void)a;
	session_close(s, "221 2.0.0 Bye");
}

/* Answering VRFY truthfully would hand out the user list. */
static void
do_vrfy(struct session *s, const struct verb_args *a)
{
	(void)a;
	session_reply(s, "252 2.5.2 Cannot VRFY user, but will accept message "
	    "and attempt delivery");
}

static void
do_help(struct session *s, const struct verb_args *a)
{
	(void)a;
	session_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET "
	    "NOOP QUIT VRFY HELP");
}

static const struct verb verbs[] = {
	{ "HELO", ANY_STATE, NULL, check_helo, do_helo },
	{ "EHLO", ANY_STATE, NULL, check_helo, do_ehlo },
	{ "MAIL", SESSION_HELO, "503 5.5.1 Error: nested MAIL command",
	    check_mail, do_mail },
	{ "RCPT", IN_TXN, "503 5.5.1 Error: need MAIL command",
	    check_rcpt, do_rcpt },
	{ "DATA", IN_TXN, "503 5.5.1 Error: need RCPT command",
	    check_none, do_data },
	{ "RSET", ANY_STATE, NULL, check_none, do_rset },
	{ "NOOP", ANY_STATE, NULL, NULL, do_noop },
	{ "QUIT", ANY_STATE, NULL, check_none, do_quit },
	{ "VRFY", ANY_STATE, NULL, check_vrfy, do_vrfy },
	{ "HELP", ANY_STATE, NULL, NULL, do_help },
};

static const struct verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static const char *
sequence_reply(const struct session *s, const struct verb *v)
{
	if (s->state == SESSION_CONNECTED && (v->states & SESSION_HELO))
		return "503 5.5.1 Error: send HELO/EHLO first";
	return v->out_of_sequence;
}

static void
session_command(struct session *s, const char *line, size_t len)
{
	struct smtp_command cmd;
	struct verb_args a;
	const struct verb *v;
	const char *reply;

	log_debug("%s: > %s", s->client, line);
	if (smtp_command_split(line, len, &cmd, &reply) < 0) {
		session_error(s, reply);
		return;
	}
	if ((v = find_verb(cmd.verb)) == NULL) {
		session_error(s, "500 5.5.2 Error: command not recognized");
		return;
	}
	if (!(v->states & s->state)) {
		session_error(s, sequence_reply(s, v));
		return;
	}
	memset(&a, 0, sizeof a);
	if (v->check != NULL && v->check(s, &cmd, &a, &reply) < 0) {
		session_error(s, reply);
		return;
	}
	v->run(s, &a);
}

/* ---- replies ---- */

void
session_reply(struct session *s, const char *line)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	if (s->closing)
		return;		/* the last word has been said */
	log_debug("%s: < %s", s->client, line);
	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\r\n", 2);
}

void
session_replyf(struct session *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	session_reply(s, buf_cstr(&b));
	buf_free(&b);
}

void
session_close(struct session *s, const char *line)
{
	session_reply(s, line);
	s->closing = 1;
}

static void
session_close_421(struct session *s, const char *status, const char *text)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "421 %s %s %s", status, hostname(s), text);
	session_close(s, buf_cstr(&b));
	buf_free(&b);
}

void
session_error(struct session *s, const char *line)
{
	unsigned limit = s->sd->lim.error_limit;

	session_reply(s, line);
	if (limit > 0 && ++s->errors >= limit && !s->closing) {
		log_info("too many errors from %s", s->client);
		session_close_421(s, "4.7.0", "Error: too many errors");
	}
}

/* ---- the input loop ---- */

/* The clock for the next command starts when the last one is done. */
static void
restart_command_timer(struct session *s)
{
	struct timeval tv = { s->sd->lim.timeout, 0 };

	if (tv.tv_sec > 0)
		evtimer_add(s->cmd_timer, &tv);
}

static size_t
output_len(const struct session *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev));
}

static int
can_proceed(const struct session *s)
{
	return s->wait == SESSION_WAIT_NONE && !s->closing && !s->throttled &&
	    output_len(s) <= SESSION_OUTPUT_MAX;
}

static size_t
input_line(struct session *s, const char *p, size_t n)
{
	size_t used;

	switch (smtp_line_feed(&s->lr, p, n, &used)) {
	case SMTP_LINE_DONE:
		restart_command_timer(s);
		session_command(s, buf_cstr(&s->lr.line), s->lr.line.len);
		break;
	case SMTP_LINE_TOO_LONG:
		restart_command_timer(s);
		session_error(s, "500 5.5.2 Error: line too long");
		break;
	case SMTP_LINE_MORE:
		break;
	}
	return used;
}

void
session_process(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	const char *p;
	size_t n, used;

	while (can_proceed(s) && (n = evbuffer_get_contiguous_space(in)) > 0) {
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		if (s->state != SESSION_DATA)
			used = input_line(s, p, n);
		else if ((used = data_input(s, p, n)) > 0 &&
		    s->state != SESSION_DATA)
			restart_command_timer(s);	/* end of the message */
		evbuffer_drain(in, used);
	}
	settle(s);
}

void
session_resume(struct session *s)
{
	s->wait = SESSION_WAIT_NONE;
	restart_command_timer(s);	/* waiting for us is not the client's time */
	session_process(s);
}

/* After input was handled: close what is over, read only what can be
 * handled.  May free the session. */
static void
settle(struct session *s)
{
	size_t pending = evbuffer_get_length(bufferevent_get_input(s->bev));
	int idle = s->wait == SESSION_WAIT_NONE && !s->throttled;

	/* Stopping: only a message in DATA is worth finishing; a client in
	 * the middle of an envelope has nothing accepted and will retry. */
	if (!s->closing && idle && s->sd->stopping && s->state != SESSION_DATA)
		session_close_421(s, "4.3.2", "Service shutting down");
	if (!s->closing && idle && s->eof && pending == 0) {
		if (s->state == SESSION_DATA)
			log_info("lost connection in DATA from %s", s->client);
		s->closing = 1;
	}
	if (s->closing && output_len(s) == 0) {
		session_free(s);
		return;
	}
	if (!s->closing && !s->eof && can_proceed(s))
		bufferevent_enable(s->bev, EV_READ);
	else
		bufferevent_disable(s->bev, EV_READ);
}

/* ---- the transaction ---- */

void
session_txn_reset(struct session *s)
{
	struct session_txn *t = &s->txn;

	lookup_cancel(&t->lookup);
	enqueue_abort(&t->enq);
	evtimer_del(s->data_timer);
	buf_free(&t->chunk);
	free(t->rcpt);
	if (t->arena != NULL)
		arena_free(t->arena);
	memset(t, 0, sizeof *t);
	if (s->state != SESSION_CONNECTED)
		s->state = SESSION_HELO;
}

const char *
session_protocol(const struct session *s)
{
	return s->esmtp ? "ESMTP" : "SMTP";
}

/* ---- the connection ---- */

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_process(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->closing)
		session_free(s);
	else
		session_process(s);	/* replies drained: read on */
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		s->eof = 1;
		session_process(s);
		return;
	}
	/* A write timeout: the client does not read what we say. */
	if (what & BEV_EVENT_TIMEOUT)
		log_info("timeout writing to %s", s->client);
	else
		log_info("lost connection from %s", s->client);
	session_free(s);
}

/* Ignored while the session waits for another process or reads a
 * message: those have their own clocks (the request's, the DATA one). */
static void
cmd_timer_cb(evutil_socket_t unused, short what, void *arg)
{
	struct session *s = arg;

	(void)unused, (void)what;
	if (s->closing || s->wait != SESSION_WAIT_NONE ||
	    s->state == SESSION_DATA)
		return;
	log_info("timeout after %s from %s",
	    s->state == SESSION_CONNECTED ? "CONNECT" : "command", s->client);
	session_close_421(s, "4.4.2", "Error: timeout exceeded");
	settle(s);
}

static void
data_timer_cb(evutil_socket_t unused, short what, void *arg)
{
	struct session *s = arg;

	(void)unused, (void)what;
	log_info("timeout in DATA from %s", s->client);
	session_txn_reset(s);
	session_close_421(s, "4.4.2", "Error: timeout exceeded");
	settle(s);
}

/* Names the client for the envelope, the logs and Received:.  A local
 * client is named by the uid the kernel vouches for. */
static void
name_client(struct session *s, int fd)
{
	char addr[NET_ADDR_MAX];
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (s->origin == SESSION_ORIGIN_PICKUP) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			s->client = arena_printf(s->arena, "local uid=%u",
			    (unsigned)cred.uid);
		else
			s->client = "local";
		s->client_info = s->client;
		return;
	}
	net_peer_addr(fd, addr, sizeof addr);
	s->client = arena_printf(s->arena, "%s [%s]", addr, addr);
	s->client_info = strchr(addr, ':') == NULL ? s->client :
	    arena_printf(s->arena, "%s [IPv6:%s]", addr, addr);
}

/* A client that speaks before the greeting is not an SMTP client that
 * waits for replies (RFC 5321 4.3.1): usually a spam engine. */
static int
talked_first(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void
start_io(struct session *s, int fd)
{
	struct timeval tv = { s->sd->lim.timeout, 0 };

	s->bev = bufferevent_socket_new(s->sd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->cmd_timer = evtimer_new(s->sd->base, cmd_timer_cb, s);
	s->data_timer = evtimer_new(s->sd->base, data_timer_cb, s);
	if (s->bev == NULL || s->cmd_timer == NULL || s->data_timer == NULL)
		panic("session: out of memory for events");
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SESSION_INPUT_MAX);
	if (tv.tv_sec > 0)
		bufferevent_set_timeouts(s->bev, NULL, &tv);
	bufferevent_enable(s->bev, EV_WRITE);
	restart_command_timer(s);
}

void
session_new(struct smtpd *sd, int fd, enum session_origin origin)
{
	struct session *s = xcalloc(1, sizeof *s);
	int early;

	s->sd = sd;
	s->arena = arena_new();
	s->origin = origin;
	s->state = SESSION_CONNECTED;
	smtp_line_init(&s->lr);
	name_client(s, fd);
	early = talked_first(fd);
	start_io(s, fd);
	TAILQ_INSERT_TAIL(&sd->sessions, s, entry);
	sd->nsessions++;
	log_info("connect from %s", s->client);
	if (early) {
		log_info("pregreet from %s", s->client);
		session_close(s, "554 5.5.0 Error: talking before the greeting");
	} else
		session_replyf(s, "220 %s ESMTP Postern", hostname(s));
	settle(s);
}

void
session_free(struct session *s)
{
	struct smtpd *sd = s->sd;

	log_info("disconnect from %s", s->client);
	session_txn_reset(s);
	TAILQ_REMOVE(&sd->sessions, s, entry);
	sd->nsessions--;
	bufferevent_free(s->bev);
	event_free(s->cmd_timer);
	event_free(s->data_timer);
	smtp_line_free(&s->lr);
	buf_free(&s->helo);
	arena_free(s->arena);
	free(s);
	smtpd_session_gone(sd);
}
