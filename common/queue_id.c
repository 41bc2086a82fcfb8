/*
 * queue_id - see queue_id.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/queue_id.h"

static uint64_t last_id;

void
queue_id_from_u64(uint64_t v, char out[QUEUE_ID_LEN + 1])
{
	snprintf(out, QUEUE_ID_LEN + 1, "%014llX", (unsigned long long)v);
}

void
queue_id_new(char out[QUEUE_ID_LEN + 1])
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	/* Strictly increasing even when the clock steps back. */
	if (now <= last_id)
		now = last_id + 1;
	last_id = now;
	queue_id_from_u64(now, out);
}

int
queue_id_valid(const char *s)
{
	if (strlen(s) != QUEUE_ID_LEN)
		return 0;
	return strspn(s, "0123456789ABCDEF") == QUEUE_ID_LEN;
}

long long
queue_id_arrival(const char *id)
{
	unsigned long long v = 0;

	if (!queue_id_valid(id))
		return 0;
	sscanf(id, "%llx", &v);
	return (long long)(v / 1000000u);
}
