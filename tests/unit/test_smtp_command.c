/*
 * test_smtp_command - smtpd's parsers: the command line splitter, the
 * argument checks of HELO/EHLO, MAIL, RCPT, and the DATA decoder.
 *
 * Each parser of network input is fed its input whole, one byte at a
 * time, in random pieces, and as garbage (STYLE.md lesson 4): the
 * verdicts must not depend on how the bytes arrived, and nothing may
 * crash or be accepted that breaks an invariant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "smtpd/command.h"
#include "smtpd/data.h"

static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* ---- the line reader ---- */

/* Runs input through a reader in pieces of `step` octets (0: random),
 * writing one result per line into out as "L:<line>\n" or "TOOLONG\n". */
static void
split_lines(const char *in, size_t len, size_t step, struct buf *out)
{
	struct smtp_line_reader r;
	uint32_t seed = 12345;
	size_t off = 0, piece_end = 0, used;

	smtp_line_init(&r);
	while (off < len) {
		if (off >= piece_end) {
			size_t n = step ? step : 1 + next_rand(&seed) % 700;
			piece_end = off + n < len ? off + n : len;
		}
		switch (smtp_line_feed(&r, in + off, piece_end - off, &used)) {
		case SMTP_LINE_DONE:
			buf_puts(out, "L:");
			buf_append(out, r.line.data ? r.line.data : "",
			    r.line.len);
			buf_putc(out, '\n');
			break;
		case SMTP_LINE_TOO_LONG:
			buf_puts(out, "TOOLONG\n");
			break;
		case SMTP_LINE_MORE:
			assert_int_equal(used, piece_end - off);
			break;
		}
		assert_true(used > 0 && used <= piece_end - off);
		assert_true(r.line.len < SMTP_LINE_MAX);
		off += used;
	}
	smtp_line_free(&r);
}

/* Whole, one byte at a time and random pieces must agree. */
static void
check_lines(const char *in, size_t len, const char *expect)
{
	struct buf whole = BUF_INIT, bytes = BUF_INIT, pieces = BUF_INIT;

	split_lines(in, len, len ? len : 1, &whole);
	split_lines(in, len, 1, &bytes);
	split_lines(in, len, 0, &pieces);
	assert_string_equal(buf_cstr(&whole), expect);
	assert_int_equal(whole.len, bytes.len);
	assert_memory_equal(buf_cstr(&whole), buf_cstr(&bytes), whole.len);
	assert_int_equal(whole.len, pieces.len);
	assert_memory_equal(buf_cstr(&whole), buf_cstr(&pieces), whole.len);
	buf_free(&whole);
	buf_free(&bytes);
	buf_free(&pieces);
}

static void
test_lines(void **state)
{
	static const char in[] = "EHLO client.example\r\nMAIL FROM:<a@b.org>\r\n"
	    "NOOP\n\r\nRSET\r\n";

	(void)state;
	check_lines(in, sizeof in - 1, "L:EHLO client.example\n"
	    "L:MAIL FROM:<a@b.org>\nL:NOOP\nL:\nL:RSET\n");
	/* a CR is only dropped right before the LF */
	check_lines("a\rb\r\r\n", 6, "L:a\rb\r\n");
	/* no line until its LF arrives */
	check_lines("QUIT", 4, "");
}

static void
test_line_limit(void **state)
{
	char in[1200];

	(void)state;
	/* 510 octets + CRLF = 512: the longest line allowed */
	memset(in, 'x', 510);
	memcpy(in + 510, "\r\nNOOP\r\n", 8);
	{
		struct buf expect = BUF_INIT;

		buf_puts(&expect, "L:");
		buf_append(&expect, in, 510);
		buf_puts(&expect, "\nL:NOOP\n");
		check_lines(in, 518, buf_cstr(&expect));
		buf_free(&expect);
	}
	/* 511 octets + CRLF = 513: too long, and the next line survives */
	memset(in, 'x', 511);
	memcpy(in + 511, "\r\nNOOP\r\n", 8);
	check_lines(in, 519, "TOOLONG\nL:NOOP\n");
}

/* The 100 KB command line of the acceptance test. */
static void
test_huge_line(void **state)
{
	size_t n = 100 * 1024;
	char *in = malloc(n + 16);

	(void)state;
	assert_non_null(in);
	memset(in, 'A', n);
	memcpy(in + n, "\r\nQUIT\r\n", 8);
	check_lines(in, n + 8, "TOOLONG\nL:QUIT\n");
	/* a NUL inside an overlong line is discarded with it */
	in[500] = '\0';
	check_lines(in, n + 8, "TOOLONG\nL:QUIT\n");
	free(in);
}

/* ---- splitting a command ---- */

static void
test_split(void **state)
{
	struct smtp_command cmd;
	const char *reply;

	(void)state;
	assert_int_equal(smtp_command_split("mail FROM:<a@b>", 15, &cmd, &reply), 0);
	assert_string_equal(cmd.verb, "MAIL");
	assert_int_equal(cmd.args_len, 10);
	assert_memory_equal(cmd.args, "FROM:<a@b>", 10);
	assert_int_equal(smtp_command_split("QUIT", 4, &cmd, &reply), 0);
	assert_string_equal(cmd.verb, "QUIT");
	assert_int_equal(cmd.args_len, 0);
	assert_int_equal(smtp_command_split("NOOP   ", 7, &cmd, &reply), 0);
	assert_int_equal(cmd.args_len, 0);
	assert_int_equal(smtp_command_split("HELO   x.org  ", 14, &cmd, &reply), 0);
	assert_int_equal(cmd.args_len, 5);
}

static void
expect_split_error(const char *line, size_t len, const char *code)
{
	struct smtp_command cmd;
	const char *reply = NULL;

	assert_int_equal(smtp_command_split(line, len, &cmd, &reply), -1);
	assert_non_null(reply);
	assert_memory_equal(reply, code, strlen(code));
}

static void
test_split_errors(void **state)
{
	(void)state;
	expect_split_error("", 0, "500 5.5.2");
	expect_split_error(" NOOP", 5, "500 5.5.2");
	expect_split_error("NO-OP", 5, "500 5.5.2");
	expect_split_error("EHLO\tx", 6, "500 5.5.2");
	expect_split_error("ABCDEFGHIJKLMNOPQ", 17, "500 5.5.2");
	expect_split_error("NOOP\0x", 6, "500 5.5.2");
	expect_split_error("\0", 1, "500 5.5.2");
	expect_split_error("NOOP\rQUIT", 9, "500 5.5.2");
	expect_split_error("1234", 4, "500 5.5.2");
}

/* ---- arguments ---- */

static const char *
mail(const char *args, struct smtp_mail_args *m)
{
	const char *reply = NULL;

	if (smtp_parse_mail(args, strlen(args), m, &reply) == 0)
		return "ok";
	assert_non_null(reply);
	return reply;
}

static void
expect_mail(const char *args, const char *code)
{
	struct smtp_mail_args m;
	const char *got = mail(args, &m);

	if (strncmp(got, code, strlen(code)) != 0)
		fail_msg("MAIL %s: got '%s', want '%s'", args, got, code);
}

static void
test_mail(void **state)
{
	struct smtp_mail_args m;

	(void)state;
	assert_string_equal(mail("FROM:<joe@example.org>", &m), "ok");
	assert_string_equal(m.from.mailbox, "joe@example.org");
	assert_false(m.has_size);
	assert_int_equal(m.body, SMTP_BODY_NONE);
	assert_string_equal(mail("from: <joe@example.org>", &m), "ok");
	assert_string_equal(mail("FROM:<>", &m), "ok");
	assert_true(m.from.is_null);
	assert_string_equal(mail("FROM:<a@b.org> SIZE=1000 BODY=8BITMIME", &m),
	    "ok");
	assert_true(m.has_size);
	assert_int_equal(m.size, 1000);
	assert_int_equal(m.body, SMTP_BODY_8BITMIME);
	assert_string_equal(mail("FROM:<a@b.org>  body=7bit  size=0", &m), "ok");
	assert_int_equal(m.body, SMTP_BODY_7BIT);
	assert_string_equal(mail("FROM:<\"a>b\"@x.org> SIZE=5", &m), "ok");
	assert_string_equal(m.from.local, "\"a>b\"");
	assert_string_equal(mail("FROM:<j\xc3\xbc@x.org> SMTPUTF8", &m), "ok");
	assert_true(m.smtputf8);
	assert_string_equal(mail("FROM:<a@b.org> SIZE=18446744073709551615", &m),
	    "ok");
	assert_true(m.size == UINT64_MAX);
}

static void
test_mail_errors(void **state)
{
	(void)state;
	expect_mail("", "501 5.5.4");
	expect_mail("FROM:", "501 5.5.4");
	expect_mail("FROM:joe@example.org", "501 5.5.4");
	expect_mail("TO:<joe@example.org>", "501 5.5.4");
	expect_mail("FROM<joe@example.org>", "501 5.5.4");
	expect_mail("FROM:<joe@example.org", "501 5.5.4");
	expect_mail("FROM:<joe@example.org>SIZE=1", "501 5.5.4");
	expect_mail("FROM:<a@b.org> SIZE=abc", "501 5.5.4");
	expect_mail("FROM:<a@b.org> SIZE=", "501 5.5.4");
	expect_mail("FROM:<a@b.org> SIZE", "501 5.5.4");
	expect_mail("FROM:<a@b.org> SIZE=18446744073709551616", "501 5.5.4");
	expect_mail("FROM:<a@b.org> SIZE=1 SIZE=2", "501 5.5.4");
	expect_mail("FROM:<a@b.org> BODY=BINARYMIME", "501 5.5.4");
	expect_mail("FROM:<a@b.org> SMTPUTF8=yes", "501 5.5.4");
	expect_mail("FROM:<a@b.org> =x", "501 5.5.4");
	expect_mail("FROM:<a@b.org> FOO=bar", "555 5.5.4");
	expect_mail("FROM:<a@b.org> AUTH=<>", "555 5.5.4");
	expect_mail("FROM:<a b@x.org>", "501 5.1.7");
	expect_mail("FROM:<a@>", "501 5.1.7");
	expect_mail("FROM:<j\xc3\xbc@x.org>", "553 5.6.7");
}

static const char *
rcpt(const char *args, int utf8, struct smtp_rcpt_args *r)
{
	const char *reply = NULL;

	if (smtp_parse_rcpt(args, strlen(args), utf8, r, &reply) == 0)
		return "ok";
	assert_non_null(reply);
	return reply;
}

static void
test_rcpt(void **state)
{
	struct smtp_rcpt_args r;

	(void)state;
	assert_string_equal(rcpt("TO:<demo@localhost>", 0, &r), "ok");
	assert_string_equal(r.to.mailbox, "demo@localhost");
	assert_string_equal(r.to.domain, "localhost");
	assert_string_equal(rcpt("to: <@relay.example:demo@localhost>", 0, &r),
	    "ok");
	assert_string_equal(r.to.mailbox, "demo@localhost");
	assert_string_equal(rcpt("TO:<Postmaster>", 0, &r), "ok");
	assert_string_equal(r.to.domain, "");
	assert_string_equal(rcpt("TO:<j\xc3\xbc@x.org>", 1, &r), "ok");
	assert_memory_equal(rcpt("TO:<j\xc3\xbc@x.org>", 0, &r), "553 5.6.7", 9);
	assert_memory_equal(rcpt("TO:<>", 0, &r), "501 5.1.3", 9);
	assert_memory_equal(rcpt("TO:<a@@b>", 0, &r), "501 5.1.3", 9);
	assert_memory_equal(rcpt("TO:demo@localhost", 0, &r), "501 5.5.4", 9);
	assert_memory_equal(rcpt("FROM:<demo@localhost>", 0, &r), "501 5.5.4", 9);
	assert_memory_equal(rcpt("TO:<a@b.org> NOTIFY=NEVER", 0, &r),
	    "555 5.5.4", 9);
	assert_memory_equal(rcpt("TO:<a@b.org> ==", 0, &r), "501 5.5.4", 9);
}

static void
test_helo_and_others(void **state)
{
	char longname[300];
	const char *reply;

	(void)state;
	assert_int_equal(smtp_parse_helo("client.example", 14, &reply), 0);
	assert_int_equal(smtp_parse_helo("[127.0.0.1]", 11, &reply), 0);
	assert_int_equal(smtp_parse_helo("", 0, &reply), -1);
	assert_memory_equal(reply, "501 5.5.4", 9);
	assert_int_equal(smtp_parse_helo("a b", 3, &reply), -1);
	assert_int_equal(smtp_parse_helo("a\x01", 2, &reply), -1);
	memset(longname, 'h', sizeof longname);
	assert_int_equal(smtp_parse_helo(longname, 255, &reply), 0);
	assert_int_equal(smtp_parse_helo(longname, 256, &reply), -1);
	assert_int_equal(smtp_parse_noargs("", 0, &reply), 0);
	assert_int_equal(smtp_parse_noargs("x", 1, &reply), -1);
	assert_memory_equal(reply, "501 5.5.4", 9);
	assert_int_equal(smtp_parse_vrfy("joe", 3, &reply), 0);
	assert_int_equal(smtp_parse_vrfy("", 0, &reply), -1);
	assert_string_equal(smtp_body_name(SMTP_BODY_8BITMIME), "8BITMIME");
	assert_null(smtp_body_name(SMTP_BODY_NONE));
}

/* A reply from the parser is one line: "ddd d.d.d text", no CR or LF. */
static void
assert_reply_shape(const char *reply)
{
	assert_non_null(reply);
	assert_true(strlen(reply) > 10);
	assert_true(reply[0] >= '4' && reply[0] <= '5');
	assert_true(reply[3] == ' ' && reply[5] == '.');
	assert_null(strpbrk(reply, "\r\n"));
}

static void
test_command_garbage(void **state)
{
	static const char alphabet[] = "MAILFROMRCPTTO:<>@. =\"\\SIZEBODY8a0\x01\x80\r";
	uint32_t seed = 0xC0FFEE;
	char line[SMTP_LINE_MAX];
	struct smtp_command cmd;
	struct smtp_mail_args m;
	struct smtp_rcpt_args r;
	const char *reply;
	int i;

	(void)state;
	for (i = 0; i < 300000; i++) {
		size_t len = next_rand(&seed) % sizeof line, k;
		int raw = next_rand(&seed) % 3 == 0;

		for (k = 0; k < len; k++)
			line[k] = raw ? (char)next_rand(&seed) :
			    alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
		if (smtp_command_split(line, len, &cmd, &reply) < 0)
			assert_reply_shape(reply);
		else
			assert_true(cmd.args_len <= len && cmd.verb[0] != '\0');
		if (smtp_parse_mail(line, len, &m, &reply) < 0)
			assert_reply_shape(reply);
		else
			assert_true(strlen(m.from.mailbox) < sizeof m.from.mailbox);
		if (smtp_parse_rcpt(line, len, i & 1, &r, &reply) < 0)
			assert_reply_shape(reply);
		else
			assert_false(r.to.is_null);
		if (smtp_parse_helo(line, len, &reply) < 0)
			assert_reply_shape(reply);
	}
}

/* The line reader and the splitter together, on a random byte stream. */
static void
test_stream_garbage(void **state)
{
	static const char alphabet[] = "EHLO MAIL\r\n\r\n\n\0xyz";
	uint32_t seed = 777;
	size_t n = 1 << 20, k;
	char *in = malloc(n);
	struct buf a = BUF_INIT, b = BUF_INIT;

	(void)state;
	assert_non_null(in);
	for (k = 0; k < n; k++)
		in[k] = next_rand(&seed) % 5 == 0 ? (char)next_rand(&seed) :
		    alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
	/* some long stretches without LF */
	memset(in + 1000, 'Q', 5000);
	memset(in + 70000, 'Q', 100000);
	split_lines(in, n, 0, &a);
	split_lines(in, n, 4096, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_non_null(memmem(a.data, a.len, "TOOLONG\n", 8));
	buf_free(&a);
	buf_free(&b);
	free(in);
}

/* ---- DATA ---- */

struct decoded {
	struct buf out;
	enum smtp_data_status status;
	size_t used;		/* input consumed, the terminator included */
	unsigned received;
};

/* Feeds in pieces of `step` octets (0: random) until the end of data. */
static void
decode(const char *in, size_t len, size_t step, uint32_t seed,
    struct decoded *d)
{
	struct smtp_data_decoder dec;
	size_t used;

	memset(d, 0, sizeof *d);
	smtp_data_init(&dec);
	d->status = SMTP_DATA_MORE;
	while (d->used < len && d->status == SMTP_DATA_MORE) {
		size_t n = step ? step : 1 + next_rand(&seed) % 3000;

		if (n > len - d->used)
			n = len - d->used;
		d->status = smtp_data_feed(&dec, in + d->used, n, &d->out, &used);
		assert_true(used > 0 && used <= n);
		if (d->status == SMTP_DATA_MORE)
			assert_int_equal(used, n);
		d->used += used;
	}
	assert_int_equal(dec.size, d->out.len);
	d->received = dec.received;
}

static void
check_data(const char *in, size_t len, enum smtp_data_status status,
    const char *expect, size_t expect_len, size_t expect_used)
{
	struct decoded whole, bytes, pieces;

	decode(in, len, len, 1, &whole);
	decode(in, len, 1, 1, &bytes);
	decode(in, len, 0, 99, &pieces);
	assert_int_equal(whole.status, status);
	assert_int_equal(whole.out.len, expect_len);
	assert_memory_equal(buf_cstr(&whole.out), expect, expect_len);
	assert_int_equal(whole.used, expect_used);
	assert_int_equal(bytes.status, status);
	assert_int_equal(bytes.used, expect_used);
	assert_int_equal(bytes.out.len, expect_len);
	assert_memory_equal(buf_cstr(&bytes.out), expect, expect_len);
	assert_int_equal(pieces.status, status);
	assert_int_equal(pieces.used, expect_used);
	assert_int_equal(pieces.out.len, expect_len);
	assert_memory_equal(buf_cstr(&pieces.out), expect, expect_len);
	buf_free(&whole.out);
	buf_free(&bytes.out);
	buf_free(&pieces.out);
}

#define CHECK_DATA(in, status, out, used) \
	check_data(in, sizeof in - 1, status, out, sizeof out - 1, used)

static void
test_data_basic(void **state)
{
	static const char in[] = "Subject: hi\r\n\r\nhello\r\n..dot\r\n"
	    ".\r\nQUIT\r\n";

	(void)state;
	CHECK_DATA(in, SMTP_DATA_END, "Subject: hi\r\n\r\nhello\r\n.dot\r\n",
	    sizeof in - 1 - 6);
	/* the 354 counts as the line before: an empty message */
	CHECK_DATA(".\r\n", SMTP_DATA_END, "", 3);
	CHECK_DATA("..\r\n.\r\n", SMTP_DATA_END, ".\r\n", 7);
	CHECK_DATA("...\r\n.\r\n", SMTP_DATA_END, "..\r\n", 8);
	CHECK_DATA("no end yet\r\n", SMTP_DATA_MORE, "no end yet\r\n", 12);
	CHECK_DATA("a\r\n.", SMTP_DATA_MORE, "a\r\n", 4);
	CHECK_DATA("a\r\n.\r", SMTP_DATA_MORE, "a\r\n", 5);
	CHECK_DATA("\r\n\r\n.\r\n", SMTP_DATA_END, "\r\n\r\n", 7);
}

/* SMTP smuggling: only CR LF . CR LF ends the data. */
static void
test_data_smuggling(void **state)
{
	(void)state;
	CHECK_DATA("a\n.\nb\r\n.\r\n", SMTP_DATA_END, "a\n.\nb\r\n", 10);
	CHECK_DATA("a\n.\r\nb\r\n.\r\n", SMTP_DATA_END, "a\n.\r\nb\r\n", 11);
	CHECK_DATA("a\r.\r\nb\r\n.\r\n", SMTP_DATA_END, "a\r.\r\nb\r\n", 11);
	CHECK_DATA("a\r\n.\nb\r\n.\r\n", SMTP_DATA_END, "a\r\n\nb\r\n", 11);
	CHECK_DATA("a\r\n.\rb\r\n.\r\n", SMTP_DATA_END, "a\r\n\rb\r\n", 11);
	CHECK_DATA("a\r\n.\r\r\n.\r\n", SMTP_DATA_END, "a\r\n\r\r\n", 10);
	CHECK_DATA("a\r\r\n.\r\n", SMTP_DATA_END, "a\r\r\n", 7);
	CHECK_DATA("a\n\r\n.\r\n", SMTP_DATA_END, "a\n\r\n", 7);
	CHECK_DATA(".\n.\r\n", SMTP_DATA_MORE, "\n.\r\n", 5);
}

static void
test_data_long_lines(void **state)
{
	size_t n = 300000;
	char *in = malloc(n + 8);

	(void)state;
	assert_non_null(in);
	memset(in, 'x', n);
	in[0] = '.';
	in[1] = '.';
	in[5000] = '\r';	/* a bare CR, kept */
	in[9000] = '\n';	/* a bare LF, kept */
	memcpy(in + n, "\r\n.\r\n", 5);
	check_data(in, n + 5, SMTP_DATA_END, in + 1, n + 1, n + 5);
	free(in);
}

static void
test_data_received_count(void **state)
{
	static const char in[] = "Received: from a\r\nreceived: from b\r\n"
	    "RECEIVED:x\r\nX-Received: no\r\n Received: no\r\nReceived no\r\n"
	    "\r\nReceived: in the body\r\n.\r\n";
	struct decoded d;

	(void)state;
	decode(in, sizeof in - 1, 1, 1, &d);
	assert_int_equal(d.status, SMTP_DATA_END);
	assert_int_equal(d.received, 3);
	buf_free(&d.out);
	decode(in, sizeof in - 1, 0, 5, &d);
	assert_int_equal(d.received, 3);
	buf_free(&d.out);
}

/* Random bytes rich in CR, LF and dots: any split gives the same result,
 * and the output never holds more than the input. */
static void
test_data_garbage(void **state)
{
	static const char alphabet[] = "\r\n.\r\n.ab\r";
	uint32_t seed = 4242;
	char in[4096];
	int round;

	(void)state;
	for (round = 0; round < 3000; round++) {
		size_t len = 1 + next_rand(&seed) % sizeof in, k;
		struct decoded a, b, c;

		for (k = 0; k < len; k++)
			in[k] = next_rand(&seed) % 4 == 0 ? (char)next_rand(&seed) :
			    alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
		decode(in, len, len, 1, &a);
		decode(in, len, 1, 1, &b);
		decode(in, len, 0, (uint32_t)round + 1, &c);
		assert_int_equal(a.status, b.status);
		assert_int_equal(a.status, c.status);
		assert_int_equal(a.used, b.used);
		assert_int_equal(a.used, c.used);
		assert_true(a.out.len <= a.used);
		assert_int_equal(a.out.len, b.out.len);
		assert_int_equal(a.out.len, c.out.len);
		assert_memory_equal(buf_cstr(&a.out), buf_cstr(&b.out), a.out.len);
		assert_memory_equal(buf_cstr(&a.out), buf_cstr(&c.out), a.out.len);
		if (a.status == SMTP_DATA_END)
			assert_memory_equal(in + a.used - 5 + (a.used == 3 ? 2 : 0),
			    a.used == 3 ? ".\r\n" : "\r\n.\r\n", a.used == 3 ? 3 : 5);
		buf_free(&a.out);
		buf_free(&b.out);
		buf_free(&c.out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_mail_errors),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_helo_and_others),
		cmocka_unit_test(test_command_garbage),
		cmocka_unit_test(test_stream_garbage),
		cmocka_unit_test(test_data_basic),
		cmocka_unit_test(test_data_smuggling),
		cmocka_unit_test(test_data_long_lines),
		cmocka_unit_test(test_data_received_count),
		cmocka_unit_test(test_data_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
