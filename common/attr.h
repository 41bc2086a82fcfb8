/*
 * attr - the attribute codec every internal socket speaks.
 *
 * SYNOPSIS
 *	struct buf body = BUF_INIT;
 *	attr_put(&body, "op", "deliver");
 *	attr_put_u64(&body, "id", req_id);
 *	attr_putn(&body, "data", chunk, chunk_len);	// binary safe
 *	channel_send(ch, &body, -1);
 *
 *	struct attr_list msg;
 *	if (attr_decode(frame, frame_len, &msg, &err) < 0) ...disconnect...
 *	const char *op = attr_get(&msg, "op");
 *
 * DESCRIPTION
 *	A frame on the wire is a 4-byte big-endian length N followed by N bytes
 *	of body.  The body is a sequence of attributes, each written as
 *
 *		key=LEN:VALUE\n
 *
 *	where key is 1..ATTR_KEY_MAX characters of [a-z0-9_], LEN is the
 *	decimal length of VALUE and VALUE is any bytes.  So a frame is readable
 *	in strace and binary safe.  A key may repeat (one "rcpt" per
 *	recipient); attr_get() returns the first, iterate msg.a[] for all.
 *
 *	attr_decode() works in place: it replaces the '\n' after each value by
 *	'\0', so every value is also a C string (binary values carry len).
 *	Values point into the frame, which must outlive the list.
 *
 * DIAGNOSTICS
 *	attr_decode() returns -1 and sets *err on a malformed body, more than
 *	ATTR_MAX attributes, or a bad key.  A peer that sends such a frame is
 *	logged and disconnected, never trusted.
 */
#ifndef POSTERN_ATTR_H
#define POSTERN_ATTR_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define ATTR_MAX	1200		/* attributes in one frame */
#define ATTR_KEY_MAX	32
#define ATTR_FRAME_MAX	(1024 * 1024)	/* bytes in one frame body */

struct attr {
	const char *key;
	const char *value;	/* NUL-terminated */
	size_t len;
};

struct attr_list {
	size_t n;
	struct attr a[ATTR_MAX];
};

void attr_put(struct buf *body, const char *key, const char *value);
void attr_putn(struct buf *body, const char *key, const void *value, size_t len);
void attr_put_u64(struct buf *body, const char *key, uint64_t value);
void attr_putf(struct buf *body, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int attr_decode(char *body, size_t len, struct attr_list *out, const char **err);
const char *attr_get(const struct attr_list *l, const char *key);
const struct attr *attr_find(const struct attr_list *l, const char *key);
/* -1 if absent or not a decimal number that fits */
int attr_get_u64(const struct attr_list *l, const char *key, uint64_t *out);

#endif
