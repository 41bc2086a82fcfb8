/*
 * address - RFC 5321 paths and mailboxes.  The manual is in address.h.
 *
 * The parser walks the text once with a cursor; each grammar rule of
 * RFC 5321 section 4.1.2 is one small function that either advances the
 * cursor or returns an error code with a reason.  Nothing is allocated.
 */
#include "common/address.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

struct scan {
	const unsigned char *p;
	const unsigned char *end;
	int flags;
	int utf8;	/* set when a non-ASCII sequence was taken */
	const char **why;
};

static int
fail(struct scan *sc, int code, const char *why)
{
	*sc->why = why;
	return code;
}

/* Length of one well-formed UTF-8 sequence at p (RFC 3629), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t avail)
{
	size_t len, i;
	unsigned long cp;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2, cp = p[0] & 0x1F;
	else if ((p[0] & 0xF0) == 0xE0)
		len = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (avail < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	/* Overlong forms and surrogates would let two spellings of one
	 * address slip past a comparison. */
	if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
		return 0;
	return len;
}

/* Takes one non-ASCII character where RFC 6531 allows one. */
static int
take_utf8(struct scan *sc)
{
	size_t n;

	if (!(sc->flags & ADDRESS_ALLOW_UTF8))
		return fail(sc, ADDRESS_EUTF8, "non-ASCII address without SMTPUTF8");
	n = utf8_len(sc->p, (size_t)(sc->end - sc->p));
	if (n == 0)
		return fail(sc, ADDRESS_ESYNTAX, "malformed UTF-8 in address");
	sc->p += n;
	sc->utf8 = 1;
	return 0;
}

static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Dot-string = Atom *("." Atom): no empty atom, so no leading, trailing
 * or doubled dot. */
static int
scan_dot_string(struct scan *sc)
{
	int need_atom = 1;
	int r;

	while (sc->p < sc->end) {
		if (*sc->p == '.') {
			if (need_atom)
				break;
			need_atom = 1;
			sc->p++;
		} else if (*sc->p >= 0x80) {
			if ((r = take_utf8(sc)) < 0)
				return r;
			need_atom = 0;
		} else if (is_atext(*sc->p)) {
			sc->p++;
			need_atom = 0;
		} else
			break;
	}
	if (need_atom)
		return fail(sc, ADDRESS_ESYNTAX, "bad local part");
	return 0;
}

/* Quoted-string with qtextSMTP and quoted-pairSMTP (RFC 5321 4.1.2). */
static int
scan_quoted(struct scan *sc)
{
	int r;

	sc->p++;
	while (sc->p < sc->end) {
		unsigned char c = *sc->p;

		if (c == '"') {
			sc->p++;
			return 0;
		}
		if (c == '\\') {
			if (sc->end - sc->p < 2 || sc->p[1] < 32 || sc->p[1] > 126)
				return fail(sc, ADDRESS_ESYNTAX, "bad quoted pair");
			sc->p += 2;
		} else if (c >= 0x80) {
			if ((r = take_utf8(sc)) < 0)
				return r;
		} else if (c >= 32 && c <= 126)
			sc->p++;
		else
			return fail(sc, ADDRESS_ESYNTAX, "bad quoted local part");
	}
	return fail(sc, ADDRESS_ESYNTAX, "unterminated quoted local part");
}

/* address-literal: IPv4 or "IPv6:" forms.  General literals name no
 * standardised tag we could route to, so they are refused. */
static int
check_literal(struct scan *sc, const unsigned char *p, size_t len)
{
	char text[64];
	unsigned char addr[16];
	int af = AF_INET;

	if (len < 3 || p[len - 1] != ']')
		return fail(sc, ADDRESS_ESYNTAX, "bad address literal");
	p++, len -= 2;
	if (len > 5 && strncasecmp((const char *)p, "IPv6:", 5) == 0)
		af = AF_INET6, p += 5, len -= 5;
	if (len >= sizeof text)
		return fail(sc, ADDRESS_ESYNTAX, "bad address literal");
	memcpy(text, p, len);
	text[len] = '\0';
	if (inet_pton(af, text, addr) != 1)
		return fail(sc, ADDRESS_ESYNTAX, "bad address literal");
	return 0;
}

/* sub-domain = Let-dig [Ldh-str]: no hyphen at either end; U-labels may
 * carry UTF-8 under SMTPUTF8. */
static int
check_label(struct scan *sc, const unsigned char *p, size_t len)
{
	struct scan lab = *sc;
	int r;

	if (len == 0)
		return fail(sc, ADDRESS_ESYNTAX, "empty label in domain");
	if (len > ADDRESS_LABEL_MAX)
		return fail(sc, ADDRESS_ETOOLONG, "domain label too long");
	if (p[0] == '-' || p[len - 1] == '-')
		return fail(sc, ADDRESS_ESYNTAX, "bad domain");
	lab.p = p;
	lab.end = p + len;
	while (lab.p < lab.end) {
		if (*lab.p >= 0x80) {
			if ((r = take_utf8(&lab)) < 0)
				return r;
			sc->utf8 = 1;
		} else if (is_let_dig(*lab.p) || *lab.p == '-')
			lab.p++;
		else
			return fail(sc, ADDRESS_ESYNTAX, "bad character in domain");
	}
	return 0;
}

static int
check_domain(struct scan *sc, const unsigned char *p, size_t len)
{
	const unsigned char *dot;
	int r;

	if (len == 0)
		return fail(sc, ADDRESS_ESYNTAX, "missing domain");
	if (len > ADDRESS_DOMAIN_MAX)
		return fail(sc, ADDRESS_ETOOLONG, "domain too long");
	if (p[0] == '[')
		return check_literal(sc, p, len);
	while ((dot = memchr(p, '.', len)) != NULL) {
		if ((r = check_label(sc, p, (size_t)(dot - p))) < 0)
			return r;
		len -= (size_t)(dot - p) + 1;
		p = dot + 1;
	}
	return check_label(sc, p, len);
}

/* A source route "@a,@b:" is obsolete; we check it and drop it. */
static int
skip_route(struct scan *sc)
{
	const unsigned char *d;
	int r;

	if (sc->p == sc->end || *sc->p != '@')
		return 0;
	while (sc->p < sc->end && *sc->p == '@') {
		d = ++sc->p;
		while (sc->p < sc->end && *sc->p != ',' && *sc->p != ':')
			sc->p++;
		if (sc->p == sc->end)
			return fail(sc, ADDRESS_ESYNTAX, "bad source route");
		if ((r = check_domain(sc, d, (size_t)(sc->p - d))) < 0)
			return r;
		if (*sc->p++ == ':')
			return 0;
	}
	return fail(sc, ADDRESS_ESYNTAX, "bad source route");
}

static int
check_controls(struct scan *sc)
{
	const unsigned char *q;

	for (q = sc->p; q < sc->end; q++)
		if (*q < 32 || *q == 127)
			return fail(sc, ADDRESS_ESYNTAX, "control character in address");
	return 0;
}

static int
is_postmaster(const struct scan *sc)
{
	return sc->end - sc->p == 10 &&
	    strncasecmp((const char *)sc->p, "postmaster", 10) == 0;
}

static void
fill(struct address *out, const unsigned char *local, size_t llen,
    const unsigned char *domain, size_t dlen)
{
	memcpy(out->local, local, llen);
	out->local[llen] = '\0';
	memcpy(out->domain, domain, dlen);
	out->domain[dlen] = '\0';
	memcpy(out->mailbox, local, llen);
	if (dlen > 0) {
		out->mailbox[llen] = '@';
		memcpy(out->mailbox + llen + 1, domain, dlen);
		llen += dlen + 1;
	}
	out->mailbox[llen] = '\0';
}

static int
scan_mailbox(struct scan *sc, struct address *out)
{
	const unsigned char *local = sc->p;
	size_t llen;
	int r;

	if ((r = check_controls(sc)) < 0)
		return r;
	if ((sc->flags & ADDRESS_ALLOW_POSTMASTER) && is_postmaster(sc)) {
		fill(out, local, 10, local, 0);
		return 0;
	}
	r = (sc->p < sc->end && *sc->p == '"') ? scan_quoted(sc) :
	    scan_dot_string(sc);
	if (r < 0)
		return r;
	llen = (size_t)(sc->p - local);
	if (llen > ADDRESS_LOCAL_MAX)
		return fail(sc, ADDRESS_ETOOLONG, "local part too long");
	if (sc->p == sc->end || *sc->p != '@')
		return fail(sc, ADDRESS_ESYNTAX, "bad address syntax");
	sc->p++;
	if ((r = check_domain(sc, sc->p, (size_t)(sc->end - sc->p))) < 0)
		return r;
	fill(out, local, llen, sc->p, (size_t)(sc->end - sc->p));
	out->is_utf8 = sc->utf8;
	return 0;
}

int
address_parse_mailbox(const char *s, size_t len, int flags,
    struct address *out, const char **why)
{
	struct scan sc = { (const unsigned char *)s,
	    (const unsigned char *)s + len, flags, 0, why };

	memset(out, 0, sizeof *out);
	if (len > ADDRESS_PATH_MAX - 2)
		return fail(&sc, ADDRESS_ETOOLONG, "address too long");
	return scan_mailbox(&sc, out);
}

int
address_parse_path(const char *s, size_t len, int flags,
    struct address *out, const char **why)
{
	struct scan sc = { NULL, NULL, flags, 0, why };
	int r;

	memset(out, 0, sizeof *out);
	if (len > ADDRESS_PATH_MAX)
		return fail(&sc, ADDRESS_ETOOLONG, "address too long");
	if (len < 2 || s[0] != '<' || s[len - 1] != '>')
		return fail(&sc, ADDRESS_ESYNTAX, "address not enclosed in <>");
	if (len == 2) {
		if (!(flags & ADDRESS_ALLOW_NULL))
			return fail(&sc, ADDRESS_ENULL, "null address not allowed");
		out->is_null = 1;
		return 0;
	}
	sc.p = (const unsigned char *)s + 1;
	sc.end = (const unsigned char *)s + len - 1;
	if ((r = check_controls(&sc)) < 0 || (r = skip_route(&sc)) < 0)
		return r;
	return scan_mailbox(&sc, out);
}

int
address_domain_equal(const char *a, const char *b)
{
	unsigned char ca, cb;

	do {
		ca = (unsigned char)*a++;
		cb = (unsigned char)*b++;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
	} while (ca != '\0');
	return 1;
}
