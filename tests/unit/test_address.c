/*
 * test_address - common/address.c: RFC 5321 paths, limits, SMTPUTF8,
 * source routes, and garbage that must never crash the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/address.h"

static int
parse(const char *text, int flags, struct address *a)
{
	const char *why = NULL;
	int r = address_parse_path(text, strlen(text), flags, a, &why);

	if (r < 0)
		assert_non_null(why);
	return r;
}

static void
test_plain(void **state)
{
	struct address a;

	(void)state;
	assert_int_equal(parse("<joe@example.org>", 0, &a), 0);
	assert_string_equal(a.local, "joe");
	assert_string_equal(a.domain, "example.org");
	assert_string_equal(a.mailbox, "joe@example.org");
	assert_false(a.is_null);
	assert_int_equal(parse("<first.last+tag@sub.a-b.example>", 0, &a), 0);
	assert_string_equal(a.local, "first.last+tag");
	assert_string_equal(a.domain, "sub.a-b.example");
	assert_int_equal(parse("<Joe@Example.ORG>", 0, &a), 0);
	assert_string_equal(a.mailbox, "Joe@Example.ORG");	/* as written */
	assert_int_equal(parse("<!#$%&'*+-/=?^_`{|}~@x.org>", 0, &a), 0);
}

static void
test_null_path(void **state)
{
	struct address a;

	(void)state;
	assert_int_equal(parse("<>", ADDRESS_ALLOW_NULL, &a), 0);
	assert_true(a.is_null);
	assert_string_equal(a.mailbox, "");
	assert_int_equal(parse("<>", 0, &a), ADDRESS_ENULL);
}

static void
test_quoted(void **state)
{
	struct address a;

	(void)state;
	assert_int_equal(parse("<\"john doe\"@example.org>", 0, &a), 0);
	assert_string_equal(a.local, "\"john doe\"");
	assert_int_equal(parse("<\"a>b\"@x.org>", 0, &a), 0);
	assert_string_equal(a.local, "\"a>b\"");
	assert_int_equal(parse("<\"a\\\"b\"@x.org>", 0, &a), 0);
	assert_int_equal(parse("<\"\"@x.org>", 0, &a), 0);
	assert_int_equal(parse("<\"unterminated@x.org>", 0, &a),
	    ADDRESS_ESYNTAX);
	assert_int_equal(parse("<\"a\\\"@x.org>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<\"a\"b@x.org>", 0, &a), ADDRESS_ESYNTAX);
}

static void
test_literals(void **state)
{
	struct address a;

	(void)state;
	assert_int_equal(parse("<joe@[192.0.2.1]>", 0, &a), 0);
	assert_string_equal(a.domain, "[192.0.2.1]");
	assert_int_equal(parse("<joe@[IPv6:2001:db8::1]>", 0, &a), 0);
	assert_int_equal(parse("<joe@[300.1.1.1]>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<joe@[1.2.3]>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<joe@[IPv6:zz::1]>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<joe@[tag:content]>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<joe@[192.0.2.1>", 0, &a), ADDRESS_ESYNTAX);
}

static void
test_source_route(void **state)
{
	struct address a;

	(void)state;
	assert_int_equal(parse("<@a.example,@b.example:joe@c.example>", 0, &a), 0);
	assert_string_equal(a.mailbox, "joe@c.example");
	assert_int_equal(parse("<@a.example:joe@c.example>", 0, &a), 0);
	assert_string_equal(a.mailbox, "joe@c.example");
	assert_int_equal(parse("<@a.example:>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<@a.example,joe@c.example>", 0, &a),
	    ADDRESS_ESYNTAX);
	assert_int_equal(parse("<@:joe@c.example>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<@a..b:joe@c.example>", 0, &a), ADDRESS_ESYNTAX);
}

static void
test_postmaster(void **state)
{
	struct address a;

	(void)state;
	assert_int_equal(parse("<Postmaster>", ADDRESS_ALLOW_POSTMASTER, &a), 0);
	assert_string_equal(a.local, "Postmaster");
	assert_string_equal(a.domain, "");
	assert_string_equal(a.mailbox, "Postmaster");
	assert_int_equal(parse("<postmaster>", 0, &a), ADDRESS_ESYNTAX);
	assert_int_equal(parse("<postmasters>", ADDRESS_ALLOW_POSTMASTER, &a),
	    ADDRESS_ESYNTAX);
}

static void
test_bad_syntax(void **state)
{
	static const char *const bad[] = {
		"joe@example.org", "<joe@example.org", "joe@example.org>",
		"<joe>", "<@example.org>", "<joe@>", "<.joe@x.org>",
		"<joe.@x.org>", "<jo..e@x.org>", "<joe@-x.org>", "<joe@x-.org>",
		"<joe@x..org>", "<joe@x.org.>", "<joe@.x.org>", "<jo e@x.org>",
		"<joe@x\x01y.org>", "<joe@x_y.org>", "<a@b@c.org>", "<joe@x.org >",
		"< joe@x.org>", "<joe@x\x7f.org>", "<jo\te@x.org>", "", "<", ">",
		"<<joe@x.org>>", "<joe@x.org\r\n>", "<(comment)joe@x.org>",
	};
	struct address a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], ADDRESS_ALLOW_NULL | ADDRESS_ALLOW_UTF8, &a) == 0)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void
test_nul_refused(void **state)
{
	static const char text[] = "<joe\0x@example.org>";
	struct address a;
	const char *why;

	(void)state;
	assert_int_equal(address_parse_path(text, sizeof text - 1, 0, &a, &why),
	    ADDRESS_ESYNTAX);
}

static void
repeat(char *p, char c, size_t n)
{
	memset(p, c, n);
	p[n] = '\0';
}

static void
test_limits(void **state)
{
	char local[80], label[80], text[600];
	struct address a;

	(void)state;
	repeat(local, 'l', 64);
	snprintf(text, sizeof text, "<%s@x.org>", local);
	assert_int_equal(parse(text, 0, &a), 0);
	repeat(local, 'l', 65);
	snprintf(text, sizeof text, "<%s@x.org>", local);
	assert_int_equal(parse(text, 0, &a), ADDRESS_ETOOLONG);
	repeat(label, 'd', 64);
	snprintf(text, sizeof text, "<joe@%s.org>", label);
	assert_int_equal(parse(text, 0, &a), ADDRESS_ETOOLONG);
	/* 1 + 64 + 1 + (63+1+63+1+61) + 1 = 256, the most a path may be */
	repeat(local, 'l', 64);
	repeat(label, 'd', 63);
	snprintf(text, sizeof text, "<%s@%s.%s.%.61s>", local, label, label,
	    label);
	assert_int_equal(strlen(text), 256);
	assert_int_equal(parse(text, 0, &a), 0);
	snprintf(text, sizeof text, "<%s@%s.%s.%.62s>", local, label, label,
	    label);
	assert_int_equal(parse(text, 0, &a), ADDRESS_ETOOLONG);
}

static void
test_utf8(void **state)
{
	struct address a;

	(void)state;
	assert_int_equal(parse("<j\xc3\xbcrgen@b\xc3\xbc" "cher.example>",
	    ADDRESS_ALLOW_UTF8, &a), 0);
	assert_true(a.is_utf8);
	assert_int_equal(parse("<j\xc3\xbcrgen@x.org>", 0, &a), ADDRESS_EUTF8);
	assert_int_equal(parse("<joe@b\xc3\xbc" "cher.example>", 0, &a),
	    ADDRESS_EUTF8);
	/* malformed: lone continuation, overlong '/', surrogate, truncated */
	assert_int_equal(parse("<a\x80@x.org>", ADDRESS_ALLOW_UTF8, &a),
	    ADDRESS_ESYNTAX);
	assert_int_equal(parse("<a\xc0\xaf@x.org>", ADDRESS_ALLOW_UTF8, &a),
	    ADDRESS_ESYNTAX);
	assert_int_equal(parse("<a\xed\xa0\x80@x.org>", ADDRESS_ALLOW_UTF8, &a),
	    ADDRESS_ESYNTAX);
	assert_int_equal(parse("<a\xe2\x82@x.org>", ADDRESS_ALLOW_UTF8, &a),
	    ADDRESS_ESYNTAX);
	assert_int_equal(parse("<\"\xc3\xa9t\xc3\xa9\"@x.org>",
	    ADDRESS_ALLOW_UTF8, &a), 0);
	assert_false(parse("<joe@x.org>", ADDRESS_ALLOW_UTF8, &a) != 0);
	assert_false(a.is_utf8);
}

static void
test_mailbox(void **state)
{
	struct address a;
	const char *why;

	(void)state;
	assert_int_equal(address_parse_mailbox("joe@x.org", 9, 0, &a, &why), 0);
	assert_string_equal(a.domain, "x.org");
	assert_int_equal(address_parse_mailbox("joe", 3, 0, &a, &why),
	    ADDRESS_ESYNTAX);
	assert_int_equal(address_parse_mailbox("<joe@x.org>", 11, 0, &a, &why),
	    ADDRESS_ESYNTAX);
}

static void
test_domain_equal(void **state)
{
	(void)state;
	assert_true(address_domain_equal("Example.ORG", "example.org"));
	assert_true(address_domain_equal("", ""));
	assert_false(address_domain_equal("example.org", "example.com"));
	assert_false(address_domain_equal("a", "ab"));
	assert_false(address_domain_equal("ab", "a"));
	/* only ASCII folds: UTF-8 octets compare exactly */
	assert_false(address_domain_equal("\xc3\xbc", "\xc3\x9c"));
}

static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Whatever comes in, the parser answers, and what it accepts is sane. */
static void
test_garbage(void **state)
{
	static const char alphabet[] = "<>@.\"\\:,[]aZ0-_ \t\r\n\x01\x80\xc3\xbc\xff";
	uint32_t seed = 0x2545F491;
	char text[400];
	struct address a;
	const char *why;
	int i, r;

	(void)state;
	for (i = 0; i < 200000; i++) {
		size_t len = next_rand(&seed) % sizeof text, k;
		int raw = next_rand(&seed) % 4 == 0;

		for (k = 0; k < len; k++)
			text[k] = raw ? (char)next_rand(&seed) :
			    alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
		if (len > 0 && next_rand(&seed) % 2)
			text[0] = '<', text[len - 1] = '>';
		why = NULL;
		r = address_parse_path(text, len, (int)(next_rand(&seed) % 8),
		    &a, &why);
		if (r < 0) {
			assert_non_null(why);
			continue;
		}
		assert_true(strlen(a.local) <= ADDRESS_LOCAL_MAX);
		assert_true(strlen(a.domain) <= ADDRESS_DOMAIN_MAX);
		for (k = 0; a.mailbox[k] != '\0'; k++)
			assert_true((unsigned char)a.mailbox[k] >= 32 &&
			    a.mailbox[k] != 127);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_null_path),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_source_route),
		cmocka_unit_test(test_postmaster),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_nul_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_mailbox),
		cmocka_unit_test(test_domain_equal),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
