/*
 * fuzz_attr - the internal attribute codec: no crash, every decoded value
 * is terminated, and re-encoding what was decoded decodes to the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/attr.h"
#include "common/mem.h"

static struct attr_list first, second;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = xmalloc(size + 1);
	struct buf again = BUF_INIT;
	const char *err;

	memcpy(copy, data, size);
	if (attr_decode(copy, size, &first, &err) == 0) {
		for (size_t i = 0; i < first.n; i++) {
			if (first.a[i].value[first.a[i].len] != '\0')
				abort();
			attr_putn(&again, first.a[i].key, first.a[i].value,
			    first.a[i].len);
		}
		if (attr_decode(again.data ? again.data : copy, again.len, &second,
		    &err) != 0 || second.n != first.n)
			abort();
	}
	buf_free(&again);
	free(copy);
	return 0;
}
