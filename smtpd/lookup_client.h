/*
 * lookup_client - smtpd's questions to the lookup service.
 *
 * SYNOPSIS
 *	struct lookup_call call = LOOKUP_CALL_INIT;
 *	if (lookup_user(peer, &call, "joe@example.org", on_result, s) < 0)
 *		...lookup is down: 451 4.3.0...
 *	static void on_result(void *arg, enum lookup_result r);
 *	lookup_cancel(&call);		// the session ends first
 *
 * DESCRIPTION
 *	lookup_user() asks op=user (common/proto.h) whether an address is a
 *	local user (LOOKUP_OK), in a local domain but unknown
 *	(LOOKUP_NOTFOUND) or in a domain that is not ours (LOOKUP_REMOTE).
 *	The address goes as the client wrote it: lookup folds the domain's
 *	case.  A lost channel, a timeout, result=temp, or a result this code
 *	does not know all come back as LOOKUP_TEMP, so the client is told to
 *	try again later (451 4.3.0) and no mail is accepted on a guess.
 *
 *	The struct lookup_call belongs to the caller and must stay in place
 *	until the callback runs or lookup_cancel() is called.
 */
#ifndef POSTERN_SMTPD_LOOKUP_CLIENT_H
#define POSTERN_SMTPD_LOOKUP_CLIENT_H

#include <stdint.h>

struct peer;

enum lookup_result {
	LOOKUP_OK,
	LOOKUP_NOTFOUND,
	LOOKUP_REMOTE,
	LOOKUP_TEMP,
};

typedef void (*lookup_user_fn)(void *arg, enum lookup_result r);

struct lookup_call {
	struct peer *peer;
	uint64_t id;
	int active;
	lookup_user_fn fn;
	void *arg;
};

#define LOOKUP_CALL_INIT { NULL, 0, 0, NULL, NULL }

int lookup_user(struct peer *p, struct lookup_call *c, const char *addr,
    lookup_user_fn fn, void *arg);
void lookup_cancel(struct lookup_call *c);

#endif
