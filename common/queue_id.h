/*
 * queue_id - names for queued messages.
 *
 * DESCRIPTION
 *	A queue id is QUEUE_ID_LEN upper-case hex digits: the arrival time in
 *	microseconds since the epoch, made strictly increasing within the
 *	process.  So ids sort by arrival, are safe as file names, and stay
 *	unique across restarts (the writer also refuses to replace an existing
 *	file, and takes the next id if one exists).
 */
#ifndef POSTERN_QUEUE_ID_H
#define POSTERN_QUEUE_ID_H

#include <stdint.h>

#define QUEUE_ID_LEN 14

void queue_id_new(char out[QUEUE_ID_LEN + 1]);
void queue_id_from_u64(uint64_t v, char out[QUEUE_ID_LEN + 1]);
int queue_id_valid(const char *s);	/* 1 if s is a well-formed id */
/* Arrival time (seconds) encoded in a valid id. */
long long queue_id_arrival(const char *id);

#endif
