/*
 * attr - see attr.h.  The decoder trusts nothing: every length is bounded
 * by what is left of the frame, every key is checked character by character.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/attr.h"
#include "common/log.h"

static void
attr_check_key(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > ATTR_KEY_MAX || strspn(key,
	    "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		panic("attr: bad key '%s'", key);
}

void
attr_putn(struct buf *body, const char *key, const void *value, size_t len)
{
	attr_check_key(key);
	buf_printf(body, "%s=%zu:", key, len);
	buf_append(body, value, len);
	buf_putc(body, '\n');
}

void
attr_put(struct buf *body, const char *key, const char *value)
{
	attr_putn(body, key, value, strlen(value));
}

void
attr_put_u64(struct buf *body, const char *key, uint64_t value)
{
	attr_putf(body, key, "%" PRIu64, value);
}

void
attr_putf(struct buf *body, const char *key, const char *fmt, ...)
{
	struct buf v = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&v, fmt, ap);
	va_end(ap);
	attr_putn(body, key, buf_cstr(&v), v.len);
	buf_free(&v);
}

/* Parses "key=" at p; returns the position after '=' or NULL. */
static char *
attr_decode_key(char *p, char *end)
{
	char *k = p;

	while (p < end && *p != '=') {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return NULL;
		p++;
	}
	if (p == end || p == k || p - k > ATTR_KEY_MAX)
		return NULL;
	*p = '\0';
	return p + 1;
}

/* Parses "LEN:" at p into *len; returns the position after ':' or NULL. */
static char *
attr_decode_len(char *p, char *end, size_t *len)
{
	size_t n = 0;
	int digits = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (++digits > 9)
			return NULL;
		n = n * 10 + (size_t)(*p - '0');
		p++;
	}
	if (digits == 0 || p == end || *p != ':')
		return NULL;
	*len = n;
	return p + 1;
}

int
attr_decode(char *body, size_t len, struct attr_list *out, const char **err)
{
	char *p = body, *end = body + len;

	out->n = 0;
	while (p < end) {
		char *key = p, *value;
		size_t vlen;

		if (out->n == ATTR_MAX) {
			*err = "too many attributes";
			return -1;
		}
		if ((value = attr_decode_key(p, end)) == NULL) {
			*err = "bad attribute name";
			return -1;
		}
		if ((value = attr_decode_len(value, end, &vlen)) == NULL) {
			*err = "bad attribute length";
			return -1;
		}
		if ((size_t)(end - value) < vlen + 1 || value[vlen] != '\n') {
			*err = "attribute value overruns the frame";
			return -1;
		}
		value[vlen] = '\0';
		out->a[out->n].key = key;
		out->a[out->n].value = value;
		out->a[out->n].len = vlen;
		out->n++;
		p = value + vlen + 1;
	}
	return 0;
}

const struct attr *
attr_find(const struct attr_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->a[i].key, key) == 0)
			return &l->a[i];
	return NULL;
}

const char *
attr_get(const struct attr_list *l, const char *key)
{
	const struct attr *a = attr_find(l, key);

	return a ? a->value : NULL;
}

int
attr_get_u64(const struct attr_list *l, const char *key, uint64_t *out)
{
	const char *v = attr_get(l, key);
	char *end;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = n;
	return 0;
}
