/*
 * fuzz_smtp_command - the SMTP command line reader and argument parsers,
 * and the DATA decoder.  Besides not crashing, the DATA decoder must give
 * the same octets and the same end whether its input arrives whole or one
 * octet at a time, and may only stop right after CRLF.CRLF (smuggling).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd/command.h"
#include "smtpd/data.h"

static void
parse_commands(const char *p, size_t n)
{
	struct smtp_line_reader r;
	size_t used;

	smtp_line_init(&r);
	while (n > 0) {
		if (smtp_line_feed(&r, p, n, &used) == SMTP_LINE_DONE) {
			struct smtp_command cmd;
			const char *reply;
			if (smtp_command_split(r.line.data, r.line.len, &cmd, &reply) == 0) {
				struct smtp_mail_args m;
				struct smtp_rcpt_args rc;
				if (!strcmp(cmd.verb, "MAIL"))
					smtp_parse_mail(cmd.args, cmd.args_len, &m, &reply);
				else if (!strcmp(cmd.verb, "RCPT"))
					smtp_parse_rcpt(cmd.args, cmd.args_len, 1, &rc, &reply);
				else if (!strcmp(cmd.verb, "HELO") || !strcmp(cmd.verb, "EHLO"))
					smtp_parse_helo(cmd.args, cmd.args_len, &reply);
			}
		}
		p += used;
		n -= used;
	}
	smtp_line_free(&r);
}

/* Decodes p[0..n) fed `step` octets at a time (0: whole). */
static int
decode(const char *p, size_t n, size_t step, struct buf *out, size_t *taken)
{
	struct smtp_data_decoder d;
	size_t off = 0, used;
	int end = 0;

	smtp_data_init(&d);
	while (off < n && !end) {
		size_t len = step && n - off > step ? step : n - off;
		end = smtp_data_feed(&d, p + off, len, out, &used) == SMTP_DATA_END;
		off += used;
	}
	smtp_data_flush(&d, out);
	*taken = off;
	return end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct buf whole = BUF_INIT, bytes = BUF_INIT;
	size_t taken_whole, taken_bytes;

	parse_commands(p, size);
	int end_whole = decode(p, size, 0, &whole, &taken_whole);
	int end_bytes = decode(p, size, 1, &bytes, &taken_bytes);
	if (end_whole != end_bytes || taken_whole != taken_bytes ||
	    whole.len != bytes.len ||
	    (whole.len && memcmp(whole.data, bytes.data, whole.len) != 0))
		abort();
	/* The end of data is a line holding a lone dot, CRLF on both sides. */
	if (end_whole && !(taken_whole >= 3 &&
	    memcmp(p + taken_whole - 3, ".\r\n", 3) == 0 &&
	    (taken_whole == 3 || (taken_whole >= 5 &&
	    memcmp(p + taken_whole - 5, "\r\n", 2) == 0))))
		abort();
	buf_free(&whole);
	buf_free(&bytes);
	return 0;
}
