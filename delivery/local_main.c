/*
 * postern-local - the local delivery agent: queued mail into Maildirs.
 *
 * SYNOPSIS
 *	postern-local -c CONFIG		(started by postern-master)
 *
 * DESCRIPTION
 *	Runs as vmail_user, chrooted into mail_root, which is also its
 *	working directory: a mailbox is the relative path DOMAIN/USER.
 *	qmgr connects through the inherited listener "private" and sends
 *	op=deliver requests, each with the queue file's descriptor
 *	(common/proto.h, LOCAL); local_request.c handles one, asking the
 *	lookup agent (local_lookup.c) for each recipient's mailbox and
 *	writing the copies (maildir.c).  Several requests and connections are
 *	served at once from one event loop; nothing waits on another process.
 *
 *	SIGXFSZ is ignored so that a write past RLIMIT_FSIZE fails with EFBIG
 *	(a deferral) instead of killing the process.  SIGTERM stops the loop
 *	between deliveries; a delivery interrupted any other way leaves at
 *	most a file in tmp/, never a partial message in new/.
 *
 * SETTINGS
 *	mail_root, vmail_user, myhostname (in Maildir file names).
 *
 * DIAGNOSTICS
 *	Fatal when the listener is missing.  Delivery failures are logged
 *	per recipient (maildir.c) and reported to qmgr as deferrals.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/acceptor.h"
#include "common/channel.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/service.h"
#include "delivery/local.h"

struct agent {
	struct event_base *base;
};

void
local_client_release(struct local_client *c)
{
	if (--c->refs == 0)
		free(c);
}

static void
on_qmgr_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	const char *op = attr_get(msg, "op");
	const char *id = attr_get(msg, "id");
	struct buf reply = BUF_INIT;

	if (op != NULL && strcmp(op, "deliver") == 0) {
		local_request_start(arg, msg, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	log_warn("unknown request op=%.32s", op ? op : "(none)");
	if (id != NULL)
		attr_put(&reply, "id", id);
	attr_put(&reply, "status", "error");
	attr_put(&reply, "reason", "unknown op");
	channel_send(ch, &reply, -1);
	buf_free(&reply);
}

static void
on_qmgr_close(struct channel *ch, void *arg)
{
	struct local_client *c = arg;

	channel_free(ch);
	c->ch = NULL;
	local_client_release(c);
}

static void
on_accept(int fd, void *arg)
{
	struct agent *a = arg;
	struct local_client *c = xcalloc(1, sizeof *c);

	c->refs = 1;	/* the channel's own reference */
	c->ch = channel_new(a->base, fd, on_qmgr_message, on_qmgr_close, c);
}

static void
agent_run(struct agent *a, struct service *svc, int listen_fd)
{
	struct acceptor *ac;
	struct daemon *d;

	if ((a->base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	ac = accept_start(a->base, listen_fd, on_accept, a);
	d = daemon_signals(a->base, svc, NULL, NULL, a);
	local_lookup_init(a->base);
	event_base_dispatch(a->base);
	log_info("stopping");
	local_lookup_shutdown();
	daemon_free(d);
	accept_stop(ac);
	event_base_free(a->base);
}

int
main(int argc, char **argv)
{
	static struct agent a;
	struct service svc;
	int listen_fd;

	service_init(&svc, "local", argc, argv);
	if ((listen_fd = service_listener(&svc, "private")) < 0)
		fatal("no \"private\" listener was passed");
	maildir_init(svc.cfg.myhostname);
	signal(SIGXFSZ, SIG_IGN);
	service_drop(&svc, SERVICE_ROLE_MAILBOX);
	umask(077);
	agent_run(&a, &svc, listen_fd);
	return 0;
}
