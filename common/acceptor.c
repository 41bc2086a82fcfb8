/*
 * accept - see accept.h.  A thin layer over libevent's evconnlistener,
 * which already accepts in a loop with SOCK_NONBLOCK | SOCK_CLOEXEC.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/acceptor.h"

#define ACCEPT_PAUSE_SEC 1

struct acceptor {
	struct evconnlistener *lev;
	struct event *resume;
	accept_cb on_conn;
	void *arg;
};

static void
accept_on_conn(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct acceptor *ac = arg;

	(void)lev;
	(void)sa;
	(void)salen;
	ac->on_conn(fd, ac->arg);
}

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct acceptor *ac = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(ac->lev);
}

/* EMFILE and friends: the socket stays readable, so stop looking at it
 * for a moment rather than burn the CPU; the peers wait in the backlog. */
static void
accept_on_error(struct evconnlistener *lev, void *arg)
{
	struct acceptor *ac = arg;
	struct timeval pause = { ACCEPT_PAUSE_SEC, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	if (err == EAGAIN || err == EINTR || err == ECONNABORTED)
		return;
	log_warn("accept: %s; pausing for %d s", strerror(err), ACCEPT_PAUSE_SEC);
	evconnlistener_disable(lev);
	evtimer_add(ac->resume, &pause);
}

struct acceptor *
accept_start(struct event_base *base, int listen_fd, accept_cb on_conn,
    void *arg)
{
	struct acceptor *ac = xcalloc(1, sizeof *ac);

	ac->on_conn = on_conn;
	ac->arg = arg;
	ac->resume = evtimer_new(base, accept_resume, ac);
	/* backlog 0: the master has already called listen() */
	ac->lev = evconnlistener_new(base, accept_on_conn, ac,
	    LEV_OPT_CLOSE_ON_EXEC, 0, listen_fd);
	if (ac->lev == NULL)
		fatal("cannot watch the listening socket %d", listen_fd);
	evconnlistener_set_error_cb(ac->lev, accept_on_error);
	return ac;
}

void
accept_stop(struct acceptor *ac)
{
	evconnlistener_free(ac->lev);
	event_free(ac->resume);
	free(ac);
}
