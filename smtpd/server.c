/*
 * server - one smtpd worker's shared state.  The manual is in smtpd.h.
 *
 * A limit of 0 in the configuration means "no limit" for every count
 * and timeout here, except the recipient limit, which is always bounded
 * by what one enqueue frame can carry (session.c).
 */
#include "smtpd/smtpd.h"

#include <sys/socket.h>

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/service.h"
#include "common/mem.h"
#include "smtpd/peer.h"

#define DRAIN_CHECK_MS	10

static unsigned
count(int v)
{
	return v > 0 ? (unsigned)v : 0;
}

static void
limits_set(struct smtpd_limits *lim, const struct config *cfg)
{
	free(lim->myhostname);
	lim->myhostname = xstrdup(cfg->myhostname != NULL &&
	    cfg->myhostname[0] != '\0' ? cfg->myhostname : "localhost");
	lim->max_connections = count(cfg->smtpd_max_connections);
	lim->recipient_limit = count(cfg->smtpd_recipient_limit);
	lim->error_limit = count(cfg->smtpd_error_limit);
	lim->timeout = cfg->smtpd_timeout > 0 ? cfg->smtpd_timeout : 0;
	lim->data_timeout = cfg->smtpd_data_timeout > 0 ?
	    cfg->smtpd_data_timeout : 0;
	lim->message_size_limit = cfg->message_size_limit;
	lim->max_received = count(cfg->max_received_headers);
}

static void
drain_cb(evutil_socket_t unused, short what, void *arg)
{
	struct smtpd *sd = arg;
	struct timeval tv = { 0, DRAIN_CHECK_MS * 1000 };
	struct session *s, *next;

	(void)unused, (void)what;
	if (peer_backlog(sd->enqueue) > SMTPD_BACKLOG_LOW) {
		evtimer_add(sd->drain, &tv);
		return;
	}
	for (s = TAILQ_FIRST(&sd->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->throttled) {
			s->throttled = 0;
			session_process(s);	/* may free s, never next */
		}
	}
}

void
smtpd_init(struct smtpd *sd, struct event_base *base,
    const struct config *cfg)
{
	memset(sd, 0, sizeof *sd);
	sd->base = base;
	sd->config_path = xstrdup(cfg->path != NULL ? cfg->path :
	    POSTERN_DEFAULT_CONFIG);
	limits_set(&sd->lim, cfg);
	TAILQ_INIT(&sd->sessions);
	if ((sd->drain = evtimer_new(base, drain_cb, sd)) == NULL)
		panic("smtpd: out of memory for a timer");
}

/* Over the limit: one write and a close, so a flood costs no session. */
static void
turn_away(struct smtpd *sd, int fd)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "421 4.7.0 %s Error: too many connections, try again "
	    "later\r\n", sd->lim.myhostname);
	if (send(fd, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("421 to a turned-away client: %s", strerror(errno));
	close(fd);
	buf_free(&b);
	log_warn("too many connections (%u): client turned away",
	    sd->nsessions);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct smtpd_listener *sl = arg;
	struct smtpd *sd = sl->sd;

	(void)l, (void)sa, (void)salen;
	if (sd->lim.max_connections > 0 &&
	    sd->nsessions >= sd->lim.max_connections) {
		turn_away(sd, fd);
		return;
	}
	session_new(sd, fd, sl->origin);
}

static void
resume_cb(evutil_socket_t unused, short what, void *arg)
{
	struct smtpd_listener *sl = arg;

	(void)unused, (void)what;
	if (!sl->sd->stopping)
		evconnlistener_enable(sl->l);
}

/* EAGAIN and ECONNABORTED never get here (libevent retries them); what
 * does is usually EMFILE, which would spin if we kept listening. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct smtpd_listener *sl = arg;
	struct timeval tv = { 1, 0 };

	log_warn("accept: %s; pausing for a second",
	    strerror(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(l);
	evtimer_add(sl->pause, &tv);
}

void
smtpd_listen(struct smtpd *sd, int fd, enum session_origin origin)
{
	struct smtpd_listener *sl;

	if (sd->nlisteners == SERVICE_LISTEN_MAX)
		panic("smtpd: more listeners than SERVICE_LISTEN_MAX");
	sl = &sd->listeners[sd->nlisteners++];
	sl->sd = sd;
	sl->origin = origin;
	/* backlog 0: the master has called listen() already. */
	sl->l = evconnlistener_new(sd->base, accept_cb, sl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	sl->pause = evtimer_new(sd->base, resume_cb, sl);
	if (sl->l == NULL || sl->pause == NULL)
		fatal("smtpd: cannot listen on descriptor %d", fd);
	evconnlistener_set_error_cb(sl->l, accept_error_cb);
}

static void
close_listeners(struct smtpd *sd)
{
	int i;

	for (i = 0; i < sd->nlisteners; i++) {
		evconnlistener_free(sd->listeners[i].l);
		event_free(sd->listeners[i].pause);
	}
	sd->nlisteners = 0;
}

void
smtpd_stop(struct smtpd *sd)
{
	struct session *s, *next;

	if (sd->stopping)
		return;
	sd->stopping = 1;
	close_listeners(sd);
	log_info("stopping; %u session(s) to finish", sd->nsessions);
	/* Idle sessions are told 421 now; the others after their message. */
	for (s = TAILQ_FIRST(&sd->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		session_process(s);
	}
	smtpd_session_gone(sd);
}

void
smtpd_reload(struct smtpd *sd)
{
	struct config cfg;
	char err[512];

	/* Inside the jail the text comes from the master. */
	if (service_config_reload(sd->svc, &cfg, err, sizeof err) < 0) {
		log_warn("reload: %s; keeping the current settings", err);
		return;
	}
	limits_set(&sd->lim, &cfg);
	config_free(&cfg);
	log_info("reloaded %s", sd->config_path);
}

void
smtpd_throttle(struct smtpd *sd)
{
	struct timeval tv = { 0, DRAIN_CHECK_MS * 1000 };

	if (!evtimer_pending(sd->drain, NULL))
		evtimer_add(sd->drain, &tv);
}

void
smtpd_session_gone(struct smtpd *sd)
{
	if (sd->stopping && sd->nsessions == 0)
		event_base_loopexit(sd->base, NULL);
}

void
smtpd_free(struct smtpd *sd)
{
	struct session *s;

	while ((s = TAILQ_FIRST(&sd->sessions)) != NULL)
		session_free(s);
	close_listeners(sd);
	if (sd->lookup != NULL)
		peer_free(sd->lookup);
	if (sd->enqueue != NULL)
		peer_free(sd->enqueue);
	event_free(sd->drain);
	free(sd->lim.myhostname);
	free(sd->config_path);
}
