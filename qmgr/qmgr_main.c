/*
 * postern-qmgr - the queue manager.
 *
 * SYNOPSIS
 *	postern-qmgr -c CONFIG	(started by postern-master)
 *
 * DESCRIPTION
 *	qmgr owns the queue once enqueue has committed a message.  At start
 *	it recovers everything in active/ (flagged maybe_delivered: its
 *	outcome may be unrecorded) and incoming/, then takes new messages
 *	from incoming/ when enqueue says so on the "private" socket, and in
 *	any case every SCAN_INTERVAL_SEC.  It hands each message to local
 *	with the queue file as a descriptor, at most local_concurrency at
 *	once, records every recipient's result in the file in place, and
 *	removes the file when nothing is pending.  Deferred messages wait in
 *	deferred/ until their retry time (retry_min doubling up to
 *	retry_max); after queue_lifetime they bounce.
 *
 *	Talks to: enqueue (its notes, on the private socket), local (through
 *	service_connect("local"), reconnecting when local restarts).  Never
 *	parses network input and never reads a message body.
 *
 *	Runs as mail_owner, chrooted into spool_dir, working directory the
 *	spool: it uses incoming/, active/, deferred/ and corrupt/.
 *
 *	NOT YET: delivery status notifications for bounced recipients, delay
 *	warnings, transports other than local (see dispatch.c).
 *
 * SETTINGS
 *	local_concurrency, retry_min, retry_max, queue_lifetime.
 *
 * SIGNALS
 *	SIGHUP re-reads the configuration.  SIGUSR1 scans incoming/ and
 *	deferred/ now.  SIGTERM and SIGINT exit; messages in flight stay in
 *	active/ and are retried by the next qmgr.
 *
 * SEE ALSO
 *	qmgr/qmgr.h (the files), common/queue_file.h, common/proto.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/service.h"
#include "common/acceptor.h"
#include "common/daemon.h"
#include "qmgr/qmgr.h"

#define SCAN_INTERVAL_SEC 5
#define WATCHDOG_INTERVAL_SEC 30

void
qmgr_flush(void *arg)
{
	struct qmgr *q = arg;

	recover_scan_incoming(q);
	schedule_scan_deferred(q);
	dispatch_run(q);
}

static void
on_reload(void *arg)
{
	dispatch_run(arg);	/* local_concurrency may have grown */
}

static void
on_scan(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	recover_scan_incoming(arg);
	dispatch_run(arg);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dispatch_watchdog(arg);
}

static void
check_spool(void)
{
	const char *dirs[] = { "incoming", "active", "deferred", "corrupt" };

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (access(dirs[i], R_OK | W_OK | X_OK) < 0)
			fatal("spool directory %s/: %s", dirs[i], strerror(errno));
}

static struct event *
start_timer(struct qmgr *q, int seconds, event_callback_fn fn)
{
	struct timeval tv = { seconds, 0 };
	struct event *ev = event_new(q->base, -1, EV_PERSIST, fn, q);

	event_add(ev, &tv);
	return ev;
}

int
main(int argc, char **argv)
{
	struct service svc;
	struct qmgr q;
	struct acceptor *ac;
	struct daemon *d;
	int listen_fd;

	service_init(&svc, "qmgr", argc, argv);
	if ((listen_fd = service_listener(&svc, "private")) < 0)
		fatal("no 'private' socket from the master");
	service_drop(&svc, SERVICE_ROLE_QUEUE);
	check_spool();
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));

	memset(&q, 0, sizeof q);
	if ((q.base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	q.cfg = &svc.cfg;
	schedule_init(&q);
	dispatch_init(&q);
	ac = accept_start(q.base, listen_fd, listen_on_connection, &q);
	d = daemon_signals(q.base, &svc, on_reload, qmgr_flush, &q);
	q.scan_timer = start_timer(&q, SCAN_INTERVAL_SEC, on_scan);
	q.watchdog = start_timer(&q, WATCHDOG_INTERVAL_SEC, on_watchdog);
	recover_all(&q);
	dispatch_connect(&q);
	log_info("ready");
	event_base_dispatch(q.base);

	dispatch_shutdown(&q);
	listen_shutdown();
	schedule_shutdown(&q);
	event_free(q.scan_timer);
	event_free(q.watchdog);
	daemon_free(d);
	accept_stop(ac);
	event_base_free(q.base);
	config_free(&svc.cfg);
	return 0;
}
