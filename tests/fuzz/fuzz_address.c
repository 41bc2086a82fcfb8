/*
 * fuzz_address - RFC 5321 path and mailbox parsing: no crash, and what is
 * accepted fits its documented bounds and holds no control character.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/address.h"

static void
check(const struct address *a)
{
	if (strlen(a->mailbox) > ADDRESS_PATH_MAX ||
	    strlen(a->local) > ADDRESS_LOCAL_MAX ||
	    strlen(a->domain) > ADDRESS_DOMAIN_MAX)
		abort();
	for (const char *c = a->mailbox; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct address a;
	const char *why;

	for (int flags = 0; flags < 4; flags++) {
		if (address_parse_path(p, size, flags, &a, &why) == 0)
			check(&a);
		if (address_parse_mailbox(p, size, flags, &a, &why) == 0)
			check(&a);
	}
	return 0;
}
