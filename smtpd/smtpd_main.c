/*
 * postern-smtpd - the SMTP server.
 *
 * SYNOPSIS
 *	postern-smtpd -c CONFIG		(started by postern-master only)
 *
 * DESCRIPTION
 *	Receives mail over SMTP (RFC 5321) on the listening sockets the master
 *	passes: "smtp" (port 25), "submission" (port 587) and "pickup" (the
 *	local UNIX socket the sendmail command speaks SMTP to).  One process
 *	serves many connections on libevent; the master runs smtpd_workers of
 *	them on the same sockets.
 *
 *	It talks to two services over channels it asks the master for before
 *	giving up its privileges: lookup (is this recipient ours, does this
 *	user exist) at RCPT time, and enqueue, which receives the envelope
 *	and the message as a stream and answers once the queue file is on
 *	disk.  smtpd never opens the queue or a table itself; it runs as
 *	smtpd_user, chrooted into empty_dir, without capabilities
 *	(PRIVSEP.md).  When lookup or enqueue restarts, smtpd reconnects and
 *	meanwhile answers 451 4.3.0.
 *
 *	Extensions: PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
 *	SMTPUTF8.
 *
 *	Signals: SIGTERM (and SIGINT) stop accepting, let transactions in
 *	progress finish, and exit; SIGHUP re-reads the limits below.
 *
 * SETTINGS
 *	myhostname, smtpd_max_connections, smtpd_recipient_limit,
 *	smtpd_error_limit, smtpd_timeout, smtpd_data_timeout,
 *	message_size_limit, max_received_headers (reloadable);
 *	smtpd_user, empty_dir (at start).
 *
 * SEE ALSO
 *	session.h (the protocol), data.h (DATA and the durability rule),
 *	smtpd.h (workers, limits, shutdown), common/proto.h (ENQUEUE, LOOKUP)
 */
#include <event2/event.h>
#include <signal.h>
#include <time.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/service.h"
#include "smtpd/peer.h"
#include "smtpd/smtpd.h"

static const struct {
	const char *name;
	enum session_origin origin;
} listeners[] = {
	{ "smtp", SESSION_ORIGIN_SMTP },
	{ "submission", SESSION_ORIGIN_SUBMISSION },
	{ "pickup", SESSION_ORIGIN_PICKUP },
};

static void
take_listeners(struct smtpd *sd, const struct service *svc)
{
	size_t i;
	int fd;

	for (i = 0; i < sizeof listeners / sizeof listeners[0]; i++)
		if ((fd = service_listener(svc, listeners[i].name)) >= 0)
			smtpd_listen(sd, fd, listeners[i].origin);
	if (sd->nlisteners == 0)
		fatal("no listening socket passed (smtp, submission, pickup)");
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what;
	smtpd_stop(arg);
}

static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what;
	smtpd_reload(arg);
}

int
main(int argc, char **argv)
{
	struct service svc;
	struct smtpd sd;
	struct event_base *base;
	struct event *sig[3];
	int lookup_fd, enqueue_fd, i;

	service_init(&svc, "smtpd", argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	smtpd_init(&sd, base, &svc.cfg);
	take_listeners(&sd, &svc);
	sd.svc = &svc;
	/* -1 (logged by service_connect) makes the peer retry later. */
	lookup_fd = service_connect("lookup");
	enqueue_fd = service_connect("enqueue");
	tzset();	/* Received: dates, once the zone files are out of reach */
	service_drop(&svc, SERVICE_ROLE_SMTPD);
	sd.lookup = peer_new(base, "lookup", lookup_fd);
	sd.enqueue = peer_new(base, "enqueue", enqueue_fd);
	sig[0] = evsignal_new(base, SIGTERM, on_stop, &sd);
	sig[1] = evsignal_new(base, SIGINT, on_stop, &sd);
	sig[2] = evsignal_new(base, SIGHUP, on_reload, &sd);
	for (i = 0; i < 3; i++)
		if (sig[i] == NULL || evsignal_add(sig[i], NULL) < 0)
			fatal("cannot watch signals");
	log_info("ready, %d listener(s)", sd.nlisteners);
	event_base_dispatch(base);
	log_info("stopped");
	smtpd_free(&sd);
	for (i = 0; i < 3; i++)
		event_free(sig[i]);
	event_base_free(base);
	config_free(&svc.cfg);
	return 0;
}
