/*
 * smtpd - what one smtpd worker process shares among its sessions:
 * listeners, limits, the channels to lookup and enqueue, shutdown.
 *
 * SYNOPSIS
 *	struct smtpd sd;
 *	smtpd_init(&sd, base, &svc.cfg);
 *	smtpd_listen(&sd, fd, SESSION_ORIGIN_SMTP);
 *	sd.lookup = peer_new(...); sd.enqueue = peer_new(...);
 *	event_base_dispatch(base);	// smtpd_stop() ends it
 *
 * DESCRIPTION
 *	Several workers share the listening sockets the master bound; each
 *	accepts from the same non-blocking descriptors and the kernel hands
 *	every connection to one of them (the others see EAGAIN, which the
 *	listener ignores).
 *
 *	A worker serves at most smtpd_max_connections sessions; one more is
 *	answered "421 4.7.0" and closed, so a flood costs a write, not a
 *	session.  smtpd_stop() (SIGTERM) closes the listeners, sends 421 to
 *	idle sessions and lets sessions inside a transaction finish it; the
 *	event loop ends with the last session.  smtpd_reload() (SIGHUP)
 *	re-reads the configuration and takes the limits and the host name,
 *	which are safe to change under running sessions; listeners, users
 *	and paths need a restart.
 *
 *	smtpd_throttle() is how a session in DATA waits for the channel to
 *	enqueue to drain below SMTPD_BACKLOG_LOW: a timer resumes every
 *	throttled session then.
 */
#ifndef POSTERN_SMTPD_SMTPD_H
#define POSTERN_SMTPD_SMTPD_H

#include <sys/queue.h>

#include <stdint.h>

#include "common/config.h"
#include "common/service.h"
#include "smtpd/session.h"

#define SMTPD_BACKLOG_HIGH	(4u * 1024 * 1024)	/* stop reading clients */
#define SMTPD_BACKLOG_LOW	(1u * 1024 * 1024)	/* read again */

struct event_base;
struct evconnlistener;
struct peer;

/* The settings a running worker may take over on SIGHUP. */
struct smtpd_limits {
	char *myhostname;
	unsigned max_connections;
	unsigned recipient_limit;
	unsigned error_limit;
	int timeout;			/* seconds between commands */
	int data_timeout;		/* seconds for the whole DATA phase */
	uint64_t message_size_limit;
	unsigned max_received;		/* Received: fields, ours included */
};

struct smtpd_listener {
	struct smtpd *sd;
	struct evconnlistener *l;
	enum session_origin origin;
	struct event *pause;		/* out of descriptors: wait a bit */
};

struct smtpd {
	struct event_base *base;
	char *config_path;
	const struct service *svc;	/* for service_config_reload() */
	struct smtpd_limits lim;
	struct peer *lookup;
	struct peer *enqueue;
	TAILQ_HEAD(, session) sessions;
	unsigned nsessions;
	int stopping;
	struct smtpd_listener listeners[SERVICE_LISTEN_MAX];
	int nlisteners;
	struct event *drain;		/* resumes throttled sessions */
};

void smtpd_init(struct smtpd *sd, struct event_base *base,
    const struct config *cfg);
void smtpd_listen(struct smtpd *sd, int fd, enum session_origin origin);
void smtpd_stop(struct smtpd *sd);
void smtpd_reload(struct smtpd *sd);
void smtpd_throttle(struct smtpd *sd);
/* A session was freed: the loop ends when stopping and none is left. */
void smtpd_session_gone(struct smtpd *sd);
void smtpd_free(struct smtpd *sd);

#endif
