/*
 * local - the local delivery agent's own declarations (see local_main.c).
 *
 *	local_lookup_*	the channel to the lookup agent (local_lookup.c):
 *			asynchronous op=user requests matched by id, with a
 *			timeout, reconnecting when the agent restarts.
 *	local_request_*	one op=deliver from qmgr (local_request.c): read
 *			the queue file, look every recipient up, write the
 *			Maildir copies, answer per recipient.
 *	maildir_*	the Maildir write itself (maildir.c).
 */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include <stddef.h>

#include "common/attr.h"
#include "common/buf.h"
#include "common/queue_file.h"

struct event_base;
struct channel;

/* result is "ok", "notfound", "remote", "temp", or NULL when the lookup
 * agent could not be asked or did not answer; mailbox goes with "ok".
 * Both are valid only during the call. */
typedef void (*local_lookup_cb)(const char *result, const char *mailbox,
    void *arg);

void local_lookup_init(struct event_base *base);
/* Calls cb exactly once: later from the event loop, or at once when the
 * lookup agent cannot be reached. */
void local_lookup_user(const char *addr, local_lookup_cb cb, void *arg);
void local_lookup_shutdown(void);

/* A qmgr connection; requests keep it alive until they have answered. */
struct local_client {
	struct channel *ch;	/* NULL once qmgr has gone */
	int refs;
};

void local_client_release(struct local_client *c);
void local_request_start(struct local_client *c, const struct attr_list *msg,
    int fd);

/* What to write: one message for one recipient. */
struct maildir_job {
	const struct queue_envelope *env;
	int qfd;			/* the queue file, read with pread only */
	const char *rcpt;		/* final recipient, as queued */
	const char *mailbox;		/* "DOMAIN/USER", relative to mail_root */
	int maybe_delivered;		/* look for an earlier copy first */
};

void maildir_init(const char *hostname);
/* Returns RCPT_DELIVERED or RCPT_PENDING, with the reply text in reply. */
char maildir_deliver(const struct maildir_job *job, struct buf *reply);
/* 1 when mailbox is "DOMAIN/USER" with no way out of the mail root. */
int maildir_path_ok(const char *mailbox);

#endif
