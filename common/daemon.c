/*
 * daemon - see daemon.h.  Signals arrive as libevent signal events, so the
 * handlers run in the loop like everything else and may touch any state.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/config.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/service.h"
#include "common/daemon.h"

#define DAEMON_NSIGNALS 4

struct daemon {
	struct event *ev[DAEMON_NSIGNALS];
	struct event_base *base;
	struct service *svc;
	daemon_cb on_reload, on_flush;
	void *arg;
};

static void
daemon_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_info("stopping on signal %d", (int)sig);
	event_base_loopexit(d->base, NULL);
}

/* Only the tunables change; the paths and users were used at start-up
 * and the process lives inside them, so they keep their old values. */
static void
daemon_keep_fixed(struct config *fresh, struct config *old)
{
	char **keep[] = { &fresh->spool_dir, &fresh->mail_root,
	    &fresh->tables_dir, &fresh->mail_owner };
	char **from[] = { &old->spool_dir, &old->mail_root, &old->tables_dir,
	    &old->mail_owner };

	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		char *t = *keep[i];
		*keep[i] = *from[i];
		*from[i] = t;
	}
}

static void
daemon_on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct config fresh;
	char err[512];

	(void)sig;
	(void)what;
	memset(&fresh, 0, sizeof fresh);
	if (service_config_reload(d->svc, &fresh, err, sizeof err) < 0) {
		log_warn("reload: %s; keeping the running settings", err);
		config_free(&fresh);
		return;
	}
	daemon_keep_fixed(&fresh, &d->svc->cfg);
	config_free(&d->svc->cfg);
	d->svc->cfg = fresh;
	log_info("reloaded %s", d->svc->cfg.path);
	if (d->on_reload)
		d->on_reload(d->arg);
}

static void
daemon_on_flush(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)sig;
	(void)what;
	if (d->on_flush)
		d->on_flush(d->arg);
}

struct daemon *
daemon_signals(struct event_base *base, struct service *svc,
    daemon_cb on_reload, daemon_cb on_flush, void *arg)
{
	struct daemon *d = xcalloc(1, sizeof *d);
	struct {
		int sig;
		event_callback_fn fn;
	} table[DAEMON_NSIGNALS] = {
		{ SIGTERM, daemon_on_stop },
		{ SIGINT, daemon_on_stop },
		{ SIGHUP, daemon_on_reload },
		{ SIGUSR1, daemon_on_flush },
	};

	d->base = base;
	d->svc = svc;
	d->on_reload = on_reload;
	d->on_flush = on_flush;
	d->arg = arg;
	for (size_t i = 0; i < DAEMON_NSIGNALS; i++) {
		d->ev[i] = evsignal_new(base, table[i].sig, table[i].fn, d);
		if (d->ev[i] == NULL || evsignal_add(d->ev[i], NULL) < 0)
			fatal("cannot watch signal %d", table[i].sig);
	}
	return d;
}

void
daemon_free(struct daemon *d)
{
	for (size_t i = 0; i < DAEMON_NSIGNALS; i++)
		event_free(d->ev[i]);
	free(d);
}
