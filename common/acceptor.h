/*
 * acceptor - take connections on a listening socket the master handed us.
 *
 * SYNOPSIS
 *	ac = accept_start(base, service_listener(&svc, "private"), on_conn, arg);
 *	static void on_conn(int fd, void *arg);	// a new connected socket
 *	accept_stop(ac);			// at exit
 *
 * DESCRIPTION
 *	Every service with a private socket (enqueue, qmgr, lookup, local)
 *	takes its peers this way: the master connects
 *	to the service's "private" socket for each service_connect() and the
 *	new connection becomes one channel.  The socket given to on_conn is
 *	non-blocking and close-on-exec; on_conn owns it.
 *
 * DIAGNOSTICS
 *	When the process runs out of descriptors, accepting pauses for a
 *	second (logged) instead of spinning on a socket that stays readable.
 */
#ifndef POSTERN_ACCEPTOR_H
#define POSTERN_ACCEPTOR_H

struct event_base;

typedef void (*accept_cb)(int fd, void *arg);
struct acceptor;

struct acceptor *accept_start(struct event_base *base, int listen_fd,
    accept_cb on_conn, void *arg);
void accept_stop(struct acceptor *ac);	/* the listening socket stays open */

#endif
