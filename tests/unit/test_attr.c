/*
 * test_attr - the internal attribute codec: round trips, binary values,
 * repeated keys, and refusal of every malformed body (fed whole, cut at
 * every length, and as random garbage).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/attr.h"

static struct attr_list list;

static void
round_trip_with_binary_and_repeats(void **state)
{
	struct buf b = BUF_INIT;
	const char bin[] = { 'a', '\0', '\n', 'z', '=' };
	const char *err;

	(void)state;
	attr_put(&b, "op", "begin");
	attr_put_u64(&b, "id", 18446744073709551615ull);
	attr_putn(&b, "data", bin, sizeof bin);
	attr_put(&b, "rcpt", "a@example.org");
	attr_put(&b, "rcpt", "b@example.org");
	attr_putf(&b, "note", "%d-%s", 7, "x");
	attr_put(&b, "empty", "");
	assert_int_equal(attr_decode(b.data, b.len, &list, &err), 0);
	assert_int_equal(list.n, 7);
	assert_string_equal(attr_get(&list, "op"), "begin");
	uint64_t id;
	assert_int_equal(attr_get_u64(&list, "id", &id), 0);
	assert_true(id == 18446744073709551615ull);
	const struct attr *d = attr_find(&list, "data");
	assert_int_equal(d->len, sizeof bin);
	assert_memory_equal(d->value, bin, sizeof bin);
	assert_string_equal(attr_get(&list, "rcpt"), "a@example.org");
	assert_string_equal(list.a[4].value, "b@example.org");
	assert_string_equal(attr_get(&list, "note"), "7-x");
	assert_string_equal(attr_get(&list, "empty"), "");
	assert_null(attr_get(&list, "missing"));
	assert_int_equal(attr_get_u64(&list, "op", &id), -1);
	buf_free(&b);
}

static void
malformed_bodies_are_refused(void **state)
{
	static const char *bad[] = {
		"op", "op=", "op=3", "op=3:ab", "op=3:abc", "op=3:abcX",
		"Op=1:a\n", "=1:a\n", "op=x:a\n", "op=-1:a\n", "op=1a:a\n",
		"op=9999999999:a\n", "o p=1:a\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1:a\n",	/* 33-char key */
		"op=1:a\nid",
	};
	const char *err;
	char copy[128];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		strcpy(copy, bad[i]);
		assert_int_equal(attr_decode(copy, strlen(copy), &list, &err), -1);
	}
}

static void
every_truncation_is_refused(void **state)
{
	struct buf b = BUF_INIT;
	const char *err;

	(void)state;
	attr_put(&b, "op", "deliver");
	attr_put(&b, "queue_id", "0006271A2B3C4D");
	for (size_t cut = 1; cut < b.len; cut++) {
		char *copy = malloc(b.len);
		memcpy(copy, b.data, b.len);
		int rc = attr_decode(copy, cut, &list, &err);
		/* A cut exactly after an attribute is a shorter valid body. */
		if (cut == strlen("op=7:deliver\n"))
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -1);
		free(copy);
	}
	buf_free(&b);
}

static void
too_many_attributes_are_refused(void **state)
{
	struct buf b = BUF_INIT;
	const char *err;

	(void)state;
	for (int i = 0; i <= ATTR_MAX; i++)
		attr_put(&b, "k", "v");
	assert_int_equal(attr_decode(b.data, b.len, &list, &err), -1);
	assert_string_equal(err, "too many attributes");
	buf_free(&b);
}

static void
garbage_never_crashes(void **state)
{
	char junk[512];
	const char *err;

	(void)state;
	srand(42);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)rand() % sizeof junk;
		for (size_t i = 0; i < n; i++)
			junk[i] = (char)(rand() % 4 == 0 ? "op=1:\n"[rand() % 6] : rand());
		if (attr_decode(junk, n, &list, &err) == 0)
			for (size_t i = 0; i < list.n; i++)
				assert_true(list.a[i].value[list.a[i].len] == '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_with_binary_and_repeats),
		cmocka_unit_test(malformed_bodies_are_refused),
		cmocka_unit_test(every_truncation_is_refused),
		cmocka_unit_test(too_many_attributes_are_refused),
		cmocka_unit_test(garbage_never_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
