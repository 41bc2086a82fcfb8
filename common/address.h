/*
 * address - RFC 5321 paths and mailboxes: "<joe@example.org>", "<>",
 * "<@relay.example,@hop.example:joe@example.org>".
 *
 * SYNOPSIS
 *	struct address a;
 *	const char *why;
 *	int r = address_parse_path(text, len, ADDRESS_ALLOW_NULL, &a, &why);
 *	if (r == ADDRESS_EUTF8) reply("553 5.6.7 %s", why);
 *	else if (r < 0) reply("501 5.1.7 %s", why);
 *	use(a.mailbox, a.local, a.domain);	// "" for the null path
 *
 *	if (address_domain_equal(a.domain, "Example.ORG")) ...
 *
 * DESCRIPTION
 *	address_parse_path() takes a Path or Reverse-path exactly as it
 *	appears in MAIL FROM or RCPT TO, angle brackets included, and checks it
 *	against the grammar of RFC 5321 section 4.1.2: a local part that is a
 *	Dot-string or a Quoted-string, then "@", then a domain (letters, digits
 *	and hyphens in labels of at most 63 octets) or an address literal
 *	("[192.0.2.1]", "[IPv6:2001:db8::1]").  A source route ("@a,@b:") is
 *	checked and then dropped, as section 4.1.1.3 and Appendix C require.
 *	address_parse_mailbox() does the same for a bare "local@domain".
 *
 *	The parts are kept as written (quotes and case preserved): only the
 *	domain is case-insensitive, and address_domain_equal() compares it so.
 *	Whether a local part is case-sensitive is for the final destination
 *	to decide, so nothing here folds it.
 *
 *	Flags widen what is accepted:
 *	ADDRESS_ALLOW_NULL	"<>" (the null reverse-path of bounces)
 *	ADDRESS_ALLOW_POSTMASTER "<Postmaster>" without a domain, which every
 *				SMTP server must accept as a recipient
 *	ADDRESS_ALLOW_UTF8	UTF-8 in local part and domain (SMTPUTF8,
 *				RFC 6531); the bytes must be well-formed UTF-8
 *
 *	Limits (RFC 5321 section 4.5.3.1): a path is at most ADDRESS_PATH_MAX
 *	octets with its punctuation, a local part ADDRESS_LOCAL_MAX, a domain
 *	ADDRESS_DOMAIN_MAX.  The struct holds copies, so it needs no memory
 *	management and outlives the input.
 *
 * DIAGNOSTICS
 *	The parsers return 0, or a negative enum address_error and set *why to
 *	a short static English reason fit for an SMTP reply.  Control
 *	characters and NUL anywhere are refused.
 */
#ifndef POSTERN_ADDRESS_H
#define POSTERN_ADDRESS_H

#include <stddef.h>

#define ADDRESS_PATH_MAX	256	/* "<...>" with route and brackets */
#define ADDRESS_LOCAL_MAX	64
#define ADDRESS_DOMAIN_MAX	255
#define ADDRESS_LABEL_MAX	63

enum address_flags {
	ADDRESS_ALLOW_NULL = 1 << 0,
	ADDRESS_ALLOW_POSTMASTER = 1 << 1,
	ADDRESS_ALLOW_UTF8 = 1 << 2,
};

enum address_error {
	ADDRESS_OK = 0,
	ADDRESS_ESYNTAX = -1,	/* does not follow the grammar */
	ADDRESS_ETOOLONG = -2,	/* path, local part or domain too long */
	ADDRESS_EUTF8 = -3,	/* non-ASCII without ADDRESS_ALLOW_UTF8 */
	ADDRESS_ENULL = -4,	/* "<>" without ADDRESS_ALLOW_NULL */
};

struct address {
	int is_null;				/* "<>" */
	int is_utf8;				/* has non-ASCII octets */
	char local[ADDRESS_LOCAL_MAX + 1];	/* as written, quotes kept */
	char domain[ADDRESS_DOMAIN_MAX + 1];	/* "" for <> and <Postmaster> */
	char mailbox[ADDRESS_PATH_MAX + 1];	/* local@domain, route dropped */
};

int address_parse_path(const char *s, size_t len, int flags,
    struct address *out, const char **why);
int address_parse_mailbox(const char *s, size_t len, int flags,
    struct address *out, const char **why);

/* 1 when the domains are the same, ASCII letters compared without case. */
int address_domain_equal(const char *a, const char *b);

#endif
