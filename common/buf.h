/*
 * buf - a growable byte buffer that always keeps a NUL terminator.
 *
 * SYNOPSIS
 *	struct buf b = BUF_INIT;
 *	buf_printf(&b, "250 %s", text);
 *	use(b.data, b.len);		// b.data is never NULL after a write
 *	buf_free(&b);
 *
 * DESCRIPTION
 *	All protocol text is built in a buf, never in a fixed char array.
 *	buf_cstr() returns "" for a buffer never written to.
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Grows len by n (contents undefined) and returns the new area. */
char *buf_extend(struct buf *b, size_t n);
void buf_reset(struct buf *b);		/* len = 0, storage kept */
void buf_consume(struct buf *b, size_t n);	/* drop n bytes from the front */
const char *buf_cstr(const struct buf *b);
void buf_free(struct buf *b);

#endif
