/*
 * daemon - what every internal daemon does around its event loop.
 *
 * SYNOPSIS
 *	d = daemon_signals(base, &svc, on_reload, on_flush, arg);
 *	event_base_dispatch(base);	// returns after SIGTERM or SIGINT
 *	daemon_free(d);
 *
 * DESCRIPTION
 *	SIGTERM and SIGINT end the event loop, so main() can clean up and
 *	exit 0.  SIGHUP re-reads the configuration file into svc->cfg (same
 *	address, so pointers to it stay valid) and then calls on_reload.
 *	SIGUSR1 calls on_flush ("look at the queue now"), when given.
 *	Settings that need a restart (paths, users) keep their old values.
 *
 * DIAGNOSTICS
 *	A configuration that no longer loads (a typo, or a file outside the
 *	chroot) is logged and the running settings are kept.
 */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

struct event_base;
struct service;

typedef void (*daemon_cb)(void *arg);
struct daemon;

struct daemon *daemon_signals(struct event_base *base, struct service *svc,
    daemon_cb on_reload, daemon_cb on_flush, void *arg);
void daemon_free(struct daemon *d);

#endif
