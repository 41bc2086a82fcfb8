/*
 * command - the SMTP command parser.  The manual is in command.h.
 *
 * These functions see only bytes and return verdicts; what a verdict
 * means for a session (state, policy, replies to other processes) is
 * session.c's business.  That split is what lets the unit tests feed them
 * whole lines, single bytes and garbage without a network.
 *
 * Leniency is chosen where it costs nothing in safety: spaces after
 * "FROM:" and "TO:" and trailing spaces are tolerated, as many clients
 * send them; anything that could make two programs disagree about where
 * a line or an address ends (NUL, bare CR, unbalanced quotes) is not.
 */
#include "smtpd/command.h"

#include <string.h>
#include <strings.h>

#define PARAM_KEY_MAX	32

struct smtp_param {
	const char *key;
	size_t klen;
	const char *val;	/* NULL when the keyword has no value */
	size_t vlen;
};

static int
refuse(const char **reply, const char *text)
{
	*reply = text;
	return -1;
}

void
smtp_line_init(struct smtp_line_reader *r)
{
	struct buf empty = BUF_INIT;

	r->line = empty;
	r->discarding = 0;
	r->complete = 0;
}

void
smtp_line_free(struct smtp_line_reader *r)
{
	buf_free(&r->line);
}

/* Content up to SMTP_LINE_MAX - 1 octets is kept so that a line of
 * exactly the limit, CR included, still fits; the LF is the last octet. */
enum smtp_line_status
smtp_line_feed(struct smtp_line_reader *r, const char *p, size_t n,
    size_t *used)
{
	const char *lf = memchr(p, '\n', n);
	size_t take = lf != NULL ? (size_t)(lf - p) : n;

	if (r->complete) {
		buf_reset(&r->line);
		r->complete = 0;
	}
	*used = lf != NULL ? take + 1 : n;
	if (!r->discarding && r->line.len + take > SMTP_LINE_MAX - 1) {
		r->discarding = 1;
		buf_reset(&r->line);
	}
	if (!r->discarding)
		buf_append(&r->line, p, take);
	if (lf == NULL)
		return SMTP_LINE_MORE;
	if (r->discarding) {
		r->discarding = 0;
		return SMTP_LINE_TOO_LONG;
	}
	if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r')
		r->line.data[--r->line.len] = '\0';
	r->complete = 1;
	return SMTP_LINE_DONE;
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static char
to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int
smtp_command_split(const char *line, size_t len, struct smtp_command *cmd,
    const char **reply)
{
	size_t i = 0;

	memset(cmd, 0, sizeof *cmd);
	cmd->args = "";
	/* A NUL or a bare CR lets two parsers disagree on what was said. */
	if (memchr(line, '\0', len) != NULL)
		return refuse(reply, "500 5.5.2 Error: NUL character in command");
	if (memchr(line, '\r', len) != NULL)
		return refuse(reply, "500 5.5.2 Error: bare CR in command");
	while (i < len && i < SMTP_VERB_MAX && is_alpha(line[i])) {
		cmd->verb[i] = to_upper(line[i]);
		i++;
	}
	if (i == 0 || (i < len && line[i] != ' '))
		return refuse(reply, "500 5.5.2 Error: command not recognized");
	while (i < len && line[i] == ' ')
		i++;
	cmd->args = line + i;
	cmd->args_len = len - i;
	while (cmd->args_len > 0 && cmd->args[cmd->args_len - 1] == ' ')
		cmd->args_len--;
	return 0;
}

int
smtp_parse_helo(const char *args, size_t len, const char **reply)
{
	size_t i;

	if (len == 0)
		return refuse(reply, "501 5.5.4 Syntax: EHLO hostname");
	if (len > SMTP_HELO_MAX)
		return refuse(reply, "501 5.5.4 Error: hostname too long");
	for (i = 0; i < len; i++)
		if ((unsigned char)args[i] <= ' ' || (unsigned char)args[i] >= 127)
			return refuse(reply, "501 5.5.4 Error: bad hostname");
	return 0;
}

int
smtp_parse_noargs(const char *args, size_t len, const char **reply)
{
	(void)args;
	if (len > 0)
		return refuse(reply, "501 5.5.4 Syntax error: no arguments allowed");
	return 0;
}

int
smtp_parse_vrfy(const char *args, size_t len, const char **reply)
{
	(void)args;
	if (len == 0)
		return refuse(reply, "501 5.5.4 Syntax: VRFY address");
	return 0;
}

/* "FROM:" or "TO:", any case, then optional spaces (a common slip). */
static int
take_keyword(const char **p, const char *end, const char *kw)
{
	size_t n = strlen(kw);

	if ((size_t)(end - *p) < n || strncasecmp(*p, kw, n) != 0)
		return -1;
	*p += n;
	while (*p < end && **p == ' ')
		(*p)++;
	return 0;
}

/* Length of "<...>" at p, honouring quoted local parts that may hold
 * '>' or '\"'; 0 when there is no well-formed bracketed path. */
static size_t
path_span(const char *p, const char *end)
{
	const char *q = p + 1;
	int quoted = 0;

	if (p == end || *p != '<')
		return 0;
	for (; q < end; q++) {
		if (quoted && *q == '\\' && q + 1 < end)
			q++;
		else if (*q == '"')
			quoted = !quoted;
		else if (!quoted && *q == '>')
			break;
	}
	if (q == end)
		return 0;
	q++;
	if (q < end && *q != ' ')
		return 0;
	return (size_t)(q - p);
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value] (RFC 5321 4.1.2).
 * Returns 1 with a parameter, 0 at the end, -1 on bad syntax. */
static int
next_param(const char **pp, const char *end, struct smtp_param *prm)
{
	const char *p = *pp;

	while (p < end && *p == ' ')
		p++;
	if (p == end)
		return 0;
	memset(prm, 0, sizeof *prm);
	prm->key = p;
	if (!is_alnum(*p))
		return -1;
	while (p < end && (is_alnum(*p) || *p == '-'))
		p++;
	prm->klen = (size_t)(p - prm->key);
	if (prm->klen > PARAM_KEY_MAX)
		return -1;
	if (p < end && *p == '=') {
		prm->val = ++p;
		while (p < end && (unsigned char)*p > ' ' &&
		    (unsigned char)*p < 127 && *p != '=')
			p++;
		prm->vlen = (size_t)(p - prm->val);
		if (prm->vlen == 0)
			return -1;
	}
	if (p < end && *p != ' ')
		return -1;
	*pp = p;
	return 1;
}

static int
param_is(const struct smtp_param *prm, const char *name)
{
	return prm->klen == strlen(name) &&
	    strncasecmp(prm->key, name, prm->klen) == 0;
}

static int
value_is(const struct smtp_param *prm, const char *value)
{
	return prm->val != NULL && prm->vlen == strlen(value) &&
	    strncasecmp(prm->val, value, prm->vlen) == 0;
}

/* SIZE=1*20DIGIT (RFC 1870); more than fits in 64 bits is refused. */
static int
parse_size(const struct smtp_param *prm, uint64_t *size)
{
	uint64_t v = 0;
	size_t i;

	if (prm->val == NULL || prm->vlen > 20)
		return -1;
	for (i = 0; i < prm->vlen; i++) {
		unsigned d = (unsigned)(prm->val[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*size = v;
	return 0;
}

static int
apply_mail_param(const struct smtp_param *prm, struct smtp_mail_args *out,
    const char **reply)
{
	if (param_is(prm, "SIZE")) {
		if (out->has_size || parse_size(prm, &out->size) < 0)
			return refuse(reply, "501 5.5.4 Bad SIZE parameter");
		out->has_size = 1;
	} else if (param_is(prm, "BODY")) {
		if (out->body != SMTP_BODY_NONE)
			return refuse(reply, "501 5.5.4 Bad BODY parameter");
		if (value_is(prm, "7BIT"))
			out->body = SMTP_BODY_7BIT;
		else if (value_is(prm, "8BITMIME"))
			out->body = SMTP_BODY_8BITMIME;
		else
			return refuse(reply, "501 5.5.4 Bad BODY parameter");
	} else if (param_is(prm, "SMTPUTF8")) {
		if (prm->val != NULL || out->smtputf8)
			return refuse(reply, "501 5.5.4 Bad SMTPUTF8 parameter");
		out->smtputf8 = 1;
	} else
		return refuse(reply, "555 5.5.4 Unsupported parameter");
	return 0;
}

static int
address_refusal(int r, const char *syntax_reply, const char **reply)
{
	if (r == ADDRESS_EUTF8)
		return refuse(reply,
		    "553 5.6.7 Non-ASCII address requires SMTPUTF8");
	return refuse(reply, syntax_reply);
}

int
smtp_parse_mail(const char *args, size_t len, struct smtp_mail_args *out,
    const char **reply)
{
	const char *p = args, *end = args + len, *params;
	struct smtp_param prm;
	const char *why;
	size_t plen;
	int r;

	memset(out, 0, sizeof *out);
	if (take_keyword(&p, end, "FROM:") < 0 || (plen = path_span(p, end)) == 0)
		return refuse(reply, "501 5.5.4 Syntax: MAIL FROM:<address>");
	/* Parameters first: SMTPUTF8 decides what the address may hold. */
	params = p + plen;
	while ((r = next_param(&params, end, &prm)) > 0)
		if (apply_mail_param(&prm, out, reply) < 0)
			return -1;
	if (r < 0)
		return refuse(reply, "501 5.5.4 Syntax error in parameters");
	r = address_parse_path(p, plen, ADDRESS_ALLOW_NULL |
	    (out->smtputf8 ? ADDRESS_ALLOW_UTF8 : 0), &out->from, &why);
	if (r < 0)
		return address_refusal(r, "501 5.1.7 Bad sender address syntax",
		    reply);
	return 0;
}

int
smtp_parse_rcpt(const char *args, size_t len, int smtputf8,
    struct smtp_rcpt_args *out, const char **reply)
{
	const char *p = args, *end = args + len, *params;
	struct smtp_param prm;
	const char *why;
	size_t plen;
	int r;

	memset(out, 0, sizeof *out);
	if (take_keyword(&p, end, "TO:") < 0 || (plen = path_span(p, end)) == 0)
		return refuse(reply, "501 5.5.4 Syntax: RCPT TO:<address>");
	/* No RCPT extension (DSN's NOTIFY, ORCPT) is advertised yet. */
	params = p + plen;
	if ((r = next_param(&params, end, &prm)) < 0)
		return refuse(reply, "501 5.5.4 Syntax error in parameters");
	if (r > 0)
		return refuse(reply, "555 5.5.4 Unsupported parameter");
	r = address_parse_path(p, plen, ADDRESS_ALLOW_POSTMASTER |
	    (smtputf8 ? ADDRESS_ALLOW_UTF8 : 0), &out->to, &why);
	if (r < 0)
		return address_refusal(r, "501 5.1.3 Bad recipient address syntax",
		    reply);
	return 0;
}

const char *
smtp_body_name(enum smtp_body body)
{
	switch (body) {
	case SMTP_BODY_7BIT:
		return "7BIT";
	case SMTP_BODY_8BITMIME:
		return "8BITMIME";
	case SMTP_BODY_NONE:
		break;
	}
	return NULL;
}
