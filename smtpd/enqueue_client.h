/*
 * enqueue_client - hands one message at a time to the enqueue service.
 *
 * SYNOPSIS
 *	struct enqueue_txn t = ENQUEUE_TXN_INIT;
 *	if (enqueue_begin(peer, &t, &env) < 0) ...451 4.3.0, no 354...
 *	enqueue_data(&t, bytes, n);	// n <= PROTO_DATA_CHUNK, -1: broken
 *	enqueue_end(&t, on_done, s);	// -1: broken, say 451 4.3.0
 *	static void on_done(void *arg, enum enqueue_status st,
 *	    const char *queue_id);
 *	enqueue_abort(&t);		// any time; harmless when idle
 *
 * DESCRIPTION
 *	The conversation is common/proto.h's ENQUEUE: op=begin with the
 *	envelope, op=data frames with the message (Received header first,
 *	already dot-unstuffed), then op=end, whose reply is the only one.
 *	ENQUEUE_OK comes only once enqueue has committed the queue file
 *	(fsync, rename into incoming/, fsync of the directory), which is the
 *	one condition for saying 250.  queue_id is valid during the callback.
 *
 *	A transaction is tied to the connection it began on: if the channel
 *	was lost in between, enqueue has already thrown the partial file
 *	away, so data and end refuse (-1) and the caller answers 451.  A lost
 *	channel or a timeout while waiting for the end reply gives
 *	ENQUEUE_TEMP: the client retries, and at worst a message whose
 *	commit raced the loss is delivered twice, never lost.
 *
 *	enqueue_abort() sends op=abort for a transaction that was begun and
 *	not ended, and forgets the callback of one that was ended.  The
 *	struct must stay in place until the callback runs or it is aborted.
 */
#ifndef POSTERN_SMTPD_ENQUEUE_CLIENT_H
#define POSTERN_SMTPD_ENQUEUE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct peer;

#define ENQUEUE_END_TIMEOUT_MS	60000	/* fsync under load can be slow */

enum enqueue_status {
	ENQUEUE_OK,		/* 250 2.0.0 */
	ENQUEUE_TEMP,		/* 451 4.3.0 */
	ENQUEUE_FULL,		/* 452 4.3.1 */
	ENQUEUE_TOOBIG,		/* 552 5.3.4 */
};

typedef void (*enqueue_done_fn)(void *arg, enum enqueue_status st,
    const char *queue_id);

struct enqueue_envelope {
	const char *sender;	/* "" for the null sender */
	const char *client;	/* "ADDR [NAME]" or "local uid=N" */
	const char *helo;
	const char *protocol;	/* SMTP or ESMTP */
	int smtputf8;
	const char *body;	/* 7BIT, 8BITMIME or NULL */
	char *const *rcpt;
	size_t nrcpt;
};

struct enqueue_txn {
	struct peer *peer;
	uint64_t id;
	unsigned generation;	/* of the connection it began on */
	int open;		/* begun, neither ended nor aborted */
	int waiting;		/* ended, reply not yet in */
	enqueue_done_fn fn;
	void *arg;
};

#define ENQUEUE_TXN_INIT { NULL, 0, 0, 0, 0, NULL, NULL }

int enqueue_begin(struct peer *p, struct enqueue_txn *t,
    const struct enqueue_envelope *env);
int enqueue_data(struct enqueue_txn *t, const char *data, size_t len);
int enqueue_end(struct enqueue_txn *t, enqueue_done_fn fn, void *arg);
void enqueue_abort(struct enqueue_txn *t);

#endif
