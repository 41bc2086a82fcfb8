/*
 * control - the control socket, public/control, that the `postern` command
 * talks to.  Anyone may ask for status; reload, stop and queue_notify (qmgr
 * looks at the queue now) are for root, the
 * user the master runs as, and the mail_owner user (checked with
 * SO_PEERCRED, which the peer cannot forge).
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "master/master.h"

struct control_client {
	struct master *m;
	uid_t uid;
};

static int
control_may_change(const struct control_client *cc)
{
	const struct passwd *pw;

	if (cc->uid == 0 || cc->uid == geteuid())
		return 1;
	pw = getpwnam(cc->m->cfg.mail_owner);
	return pw != NULL && pw->pw_uid == cc->uid;
}

/* Tells qmgr to look at the queue now, through its private socket. */
static int
control_notify_qmgr(struct master *m)
{
	struct buf note = BUF_INIT;
	char *path = spool_path(&m->cfg, "private/qmgr");
	int fd = net_connect_unix(path), rc = -1;

	free(path);
	if (fd < 0)
		return -1;
	attr_put(&note, "op", "queue_notify");
	rc = channel_write_frame(fd, &note, -1);
	close(fd);
	buf_free(&note);
	return rc;
}

static void
control_on_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct control_client *cc = arg;
	const char *op = attr_get(msg, "op");
	struct buf reply = BUF_INIT;

	if (fd >= 0)
		close(fd);
	op = op ? op : "";
	if (strcmp(op, "status") == 0) {
		attr_put(&reply, "status", "ok");
		attr_putf(&reply, "service", "master %d", (int)getpid());
		children_status(cc->m, &reply);
	} else if (strcmp(op, "reload") != 0 && strcmp(op, "stop") != 0 &&
	    strcmp(op, "queue_notify") != 0) {
		attr_put(&reply, "status", "error");
		attr_put(&reply, "reason", "unknown request");
	} else if (!control_may_change(cc)) {
		log_warn("control: uid %u may not %s", (unsigned)cc->uid, op);
		attr_put(&reply, "status", "error");
		attr_put(&reply, "reason", "permission denied");
	} else {
		log_info("control: %s requested by uid %u", op, (unsigned)cc->uid);
		if (strcmp(op, "queue_notify") == 0 && control_notify_qmgr(cc->m) < 0) {
			attr_put(&reply, "status", "error");
			attr_put(&reply, "reason", "qmgr is not running");
		} else {
			attr_put(&reply, "status", "ok");
		}
		if (strcmp(op, "stop") == 0 || strcmp(op, "reload") == 0)
			raise(strcmp(op, "stop") == 0 ? SIGTERM : SIGHUP);
	}
	channel_send(ch, &reply, -1);
	buf_free(&reply);
}

static void
control_on_close(struct channel *ch, void *arg)
{
	channel_free(ch);
	free(arg);
}

static void
control_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct master *m = arg;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd;

	(void)what;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		struct control_client *cc = xcalloc(1, sizeof *cc);
		cc->m = m;
		cc->uid = cred.uid;
		channel_new(m->base, fd, control_on_message, control_on_close, cc);
	}
}

int
control_open(struct master *m)
{
	char *path = spool_path(&m->cfg, "public/control");
	char err[256];
	int fd = net_listen_unix(path, 0666, err, sizeof err);

	m->control_path = path;	/* removed at exit */
	if (fd < 0) {
		log_warn("%s", err);
		return -1;
	}
	struct event *ev = event_new(m->base, fd, EV_READ | EV_PERSIST,
	    control_on_accept, m);
	event_add(ev, NULL);
	master_keep_event(m, ev);
	return 0;
}
