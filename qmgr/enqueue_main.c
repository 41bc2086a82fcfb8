/*
 * postern-enqueue - the only writer of new queue files.
 *
 * SYNOPSIS
 *	postern-enqueue -c CONFIG	(started by postern-master)
 *
 * DESCRIPTION
 *	smtpd streams each accepted message here (envelope, then the bytes,
 *	Received header first); enqueue writes it as a temporary file in
 *	incoming/, and at the end of the message makes it durable with the
 *	single commit of common/queue_file.c (fsync the file, rename it to
 *	its queue id, fsync the directory) before it answers with the id.
 *	smtpd says 250 only on that answer.  Then qmgr is told the id.
 *
 *	It takes its peers on the "private" socket inherited from the master
 *	(one connection per smtpd process, many messages on each), and
 *	reaches qmgr through service_connect("qmgr").  It never parses a
 *	message: it stores bytes, checking only the size.
 *
 *	Runs as mail_owner, chrooted into spool_dir, working directory the
 *	spool, so "incoming" is the only path it opens.  At start it removes
 *	temporary files a predecessor left behind: no 250 was ever said for
 *	them, so their clients are still trying.
 *
 * SETTINGS
 *	message_size_limit	bigger messages are refused (status=toobig)
 *	smtpd_data_timeout	a message silent longer than this (plus a
 *				minute) is given up and its file removed
 *
 * SIGNALS
 *	SIGHUP re-reads the configuration; SIGTERM and SIGINT abort the
 *	messages in progress (their clients never saw a 250) and exit.
 *
 * SEE ALSO
 *	qmgr/enqueue.c (the conversation), common/queue_file.h (the file),
 *	common/proto.h (ENQUEUE).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/service.h"
#include "common/acceptor.h"
#include "common/daemon.h"
#include "qmgr/enqueue.h"

#define SWEEP_INTERVAL_SEC 30

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	enqueue_sweep(arg);
}

int
main(int argc, char **argv)
{
	struct service svc;
	struct enqueue eq;
	struct event_base *base;
	struct event *sweep_timer;
	struct timeval sweep = { SWEEP_INTERVAL_SEC, 0 };
	struct acceptor *ac;
	struct daemon *d;
	int listen_fd, incoming;

	service_init(&svc, "enqueue", argc, argv);
	if ((listen_fd = service_listener(&svc, "private")) < 0)
		fatal("no 'private' socket from the master");
	/* A file over RLIMIT_FSIZE must fail its write (EFBIG: a temporary
	 * error for that one message), not kill every session with us. */
	signal(SIGXFSZ, SIG_IGN);
	service_drop(&svc, SERVICE_ROLE_QUEUE);
	if ((incoming = open("incoming", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatal("cannot open incoming/: %s", strerror(errno));
	enqueue_remove_stale(incoming);

	if ((base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	enqueue_init(&eq, base, &svc.cfg, incoming);
	ac = accept_start(base, listen_fd, enqueue_on_connection, &eq);
	d = daemon_signals(base, &svc, NULL, NULL, &eq);
	sweep_timer = event_new(base, -1, EV_PERSIST, on_sweep, &eq);
	event_add(sweep_timer, &sweep);
	log_info("ready");
	event_base_dispatch(base);

	enqueue_shutdown(&eq);
	event_free(sweep_timer);
	daemon_free(d);
	accept_stop(ac);
	event_base_free(base);
	close(incoming);
	config_free(&svc.cfg);
	return 0;
}
