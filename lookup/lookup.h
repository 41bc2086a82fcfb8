/*
 * lookup - the lookup agent's own declarations (see lookup_main.c).
 *
 *	lookup_answer() answers one request frame from a client channel
 *	(op=domain, op=user, op=auth of common/proto.h) and queues the reply
 *	on that channel.  It never blocks on another process; the one slow
 *	thing it does is the password hash of op=auth, which is the point.
 */
#ifndef POSTERN_LOOKUP_H
#define POSTERN_LOOKUP_H

#include "common/attr.h"
#include "common/users.h"

struct channel;
struct table;

struct lookup {
	struct table *users;		/* users.lmdb, relative to the jail */
	char dummy_hash[USERS_HASH_MAX];	/* for unknown users: same cost */
	char last_error[256];		/* logged once until it changes */
};

void lookup_answer(struct lookup *lk, struct channel *ch,
    const struct attr_list *req);

#endif
