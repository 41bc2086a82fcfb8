/*
 * children - the services table, and spawning, watching and restarting
 * the services; also the connect broker of the master channel.
 *
 * DESCRIPTION
 *	Each service is exec'ed as `postern-NAME -c CONFIG` with exactly these
 *	descriptors: 0-2 (stdin on /dev/null), 3 its end of a socketpair to
 *	the master (the master channel), 4.. its listening sockets, named in
 *	POSTERN_LISTEN.  Everything else is closed before exec.
 *
 *	A service that exits is restarted: at once if it had run for a while,
 *	else after a delay that doubles up to a minute, so a service that
 *	crashes at start does not spin.
 *
 *	On the master channel a service may ask op=connect service=NAME; the
 *	master checks the requester's row (may_connect), connects to NAME's
 *	private socket and passes the connection back.  That is how chrooted
 *	services reach each other, and reach a restarted peer again.  A
 *	service may also ask op=config for the config file's text, which is
 *	how a jailed service re-reads it on SIGHUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "master/master.h"

#define RESTART_BACKOFF_MAX	60	/* seconds */
#define RESTART_STABLE		10	/* seconds up that count as a good run */

/* Order matters: servers before their clients, so a client's first
 * connect finds the server's socket already accepting. */
static const struct service_spec services[] = {
	{ "lookup", "postern-lookup", 1, { NULL }, { NULL } },
	{ "local", "postern-local", 1, { NULL }, { "lookup", NULL } },
	{ "smtp", "postern-smtp", 1, { NULL }, { "lookup", NULL } },
	{ "qmgr", "postern-qmgr", 1, { NULL },
	    { "local", "smtp", "lookup", "enqueue", NULL } },
	{ "enqueue", "postern-enqueue", 1, { NULL }, { "qmgr", NULL } },
	{ "smtpd", "postern-smtpd", 0, { "smtp", "submission", "smtps", "pickup", NULL },
	    { "enqueue", "lookup", NULL } },
	{ "pop3d", "postern-pop3d", 0, { "pop3", "pop3s", NULL }, { "lookup", NULL } },
	{ "imapd", "postern-imapd", 0, { "imap", "imaps", NULL }, { "lookup", NULL } },
};

/* A row whose program is not built is left out, and so are its ports. */
int
service_built(const struct master *m, const struct service_spec *spec)
{
	char *path = xasprintf("%s/%s", m->libexec_dir, spec->program);
	int ok = access(path, X_OK) == 0;

	free(path);
	return ok;
}

static int
service_count(const struct master *m, const struct service_spec *spec)
{
	if (!service_built(m, spec))
		return 0;
	return !strcmp(spec->name, "smtpd") ? m->cfg.smtpd_workers : 1;
}

const struct service_spec *
services_table(size_t *n)
{
	*n = sizeof services / sizeof services[0];
	return services;
}

static void child_spawn(struct child *c);

static void
broker_reply_error(struct child *c, const char *id, const char *reason)
{
	struct buf reply = BUF_INIT;

	attr_put(&reply, "id", id);
	attr_put(&reply, "status", "error");
	attr_put(&reply, "reason", reason);
	channel_send(c->channel, &reply, -1);
	buf_free(&reply);
}

static const struct listener *
private_listener(const struct master *m, const char *service)
{
	for (int i = 0; i < m->nlisteners; i++)
		if (!strcmp(m->listeners[i].name, "private") &&
		    !strcmp(m->listeners[i].owner, service))
			return &m->listeners[i];
	return NULL;
}

static int
may_connect(const struct service_spec *spec, const char *service)
{
	for (int i = 0; spec->may_connect[i]; i++)
		if (strcmp(spec->may_connect[i], service) == 0)
			return 1;
	return 0;
}

static void
broker_connect(struct child *c, const char *id, const char *service)
{
	const struct listener *l;
	struct buf reply = BUF_INIT;
	int fd;

	if (service == NULL || !may_connect(c->spec, service)) {
		log_warn("%s[%d] asked for '%s', which it may not reach",
		    c->spec->name, (int)c->pid, service ? service : "");
		broker_reply_error(c, id, "not allowed");
		return;
	}
	if ((l = private_listener(c->master, service)) == NULL ||
	    (fd = net_connect_unix(l->path)) < 0) {
		broker_reply_error(c, id, "service unavailable");
		return;
	}
	attr_put(&reply, "id", id);
	attr_put(&reply, "status", "ok");
	channel_send(c->channel, &reply, fd);
	close(fd);
	buf_free(&reply);
}

/* A jailed service cannot read the config file: it asks for the text. */
static void
broker_config(struct child *c, const char *id)
{
	struct buf reply = BUF_INIT, text = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(c->master->config_path, "r");

	if (f == NULL) {
		broker_reply_error(c, id, strerror(errno));
		return;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 &&
	    text.len < ATTR_FRAME_MAX / 2)
		buf_append(&text, chunk, n);
	fclose(f);
	attr_put(&reply, "id", id);
	attr_put(&reply, "status", "ok");
	attr_putn(&reply, "text", text.data ? text.data : "", text.len);
	channel_send(c->channel, &reply, -1);
	buf_free(&reply);
	buf_free(&text);
}

static void
child_on_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct child *c = arg;
	const char *op = attr_get(msg, "op"), *id = attr_get(msg, "id");

	(void)ch;
	if (fd >= 0)
		close(fd);	/* services never hand the master descriptors */
	if (op && id && strcmp(op, "connect") == 0)
		broker_connect(c, id, attr_get(msg, "service"));
	else if (op && id && strcmp(op, "config") == 0)
		broker_config(c, id);
	else
		broker_reply_error(c, id ? id : "0", "unknown request");
}

static void
child_on_close(struct channel *ch, void *arg)
{
	struct child *c = arg;

	/* The process is going away; SIGCHLD does the rest. */
	channel_free(ch);
	c->channel = NULL;
}

static void
child_restart_due(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	(void)fd;
	(void)what;
	if (!c->master->stopping && c->pid == 0)
		child_spawn(c);
}

static void
child_schedule_restart(struct child *c)
{
	time_t up = time(NULL) - c->started;
	struct timeval tv = { 0, 0 };

	if (up >= RESTART_STABLE)
		c->backoff = 0;
	else
		c->backoff = c->backoff ? c->backoff * 2 : 1;
	if (c->backoff > RESTART_BACKOFF_MAX)
		c->backoff = RESTART_BACKOFF_MAX;
	tv.tv_sec = c->backoff;
	if (c->backoff)
		log_info("restarting %s in %d s", c->spec->name, c->backoff);
	if (c->restart_timer == NULL)
		c->restart_timer = evtimer_new(c->master->base, child_restart_due, c);
	evtimer_add(c->restart_timer, &tv);
}

/* Moves fd out of the way of the low numbers it is about to be given. */
static int
fd_high(int fd)
{
	int high = fcntl(fd, F_DUPFD, 64);

	if (high < 0)
		_exit(126);
	return high;
}

/* In the child: put the descriptors in place and exec.  Never returns. */
static void
child_exec(struct child *c, int master_end)
{
	struct master *m = c->master;
	int keep[1 + MASTER_LISTEN_MAX], nkeep = 0;
	char env[512] = "", *argv[4];
	sigset_t none;

	keep[nkeep++] = fd_high(master_end);
	for (int i = 0; i < m->nlisteners; i++) {
		const struct listener *l = &m->listeners[i];
		int mine = 0;
		if (strcmp(l->name, "private") == 0)
			mine = !strcmp(l->owner, c->spec->name);
		else
			for (int j = 0; c->spec->listen_names[j]; j++)
				mine |= !strcmp(c->spec->listen_names[j], l->name);
		if (!mine)
			continue;
		size_t len = strlen(env);
		snprintf(env + len, sizeof env - len, "%s%s=%d", len ? "," : "",
		    l->name, 3 + nkeep);
		keep[nkeep++] = fd_high(l->fd);
	}
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0)
		_exit(126);
	for (int i = 0; i < nkeep; i++)
		if (dup2(keep[i], 3 + i) < 0)
			_exit(126);
	close_range(3 + nkeep, ~0U, 0);
	setenv("POSTERN_LISTEN", env, 1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	char *path = xasprintf("%s/%s", m->libexec_dir, c->spec->program);
	argv[0] = (char *)c->spec->program;
	argv[1] = "-c";
	argv[2] = m->config_path;
	argv[3] = NULL;
	execv(path, argv);
	fprintf(stderr, "postern-master: cannot exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

static void
child_spawn(struct child *c)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("socketpair: %s", strerror(errno));
		child_schedule_restart(c);
		return;
	}
	if ((pid = fork()) < 0) {
		log_warn("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		child_schedule_restart(c);
		return;
	}
	if (pid == 0)
		child_exec(c, sv[1]);
	close(sv[1]);
	c->pid = pid;
	c->started = time(NULL);
	c->channel = channel_new(c->master->base, sv[0], child_on_message,
	    child_on_close, c);
	log_debug("started %s[%d]", c->spec->name, (int)pid);
}

void
children_start(struct master *m)
{
	int n = 0;

	m->nchildren = 0;
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
		m->nchildren += service_count(m, &services[i]);
	m->children = xcalloc((size_t)m->nchildren + 1, sizeof *m->children);
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
		int count = service_count(m, &services[i]);
		for (int k = 0; k < count; k++, n++) {
			m->children[n].master = m;
			m->children[n].spec = &services[i];
			m->children[n].index = k;
			child_spawn(&m->children[n]);
		}
	}
}

static void
child_log_exit(const struct child *c, int status)
{
	if (WIFEXITED(status))
		log_info("%s[%d] exited with status %d", c->spec->name,
		    (int)c->pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("%s[%d] killed by signal %d", c->spec->name,
		    (int)c->pid, WTERMSIG(status));
}

void
children_reap(struct master *m)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < m->nchildren; i++) {
			struct child *c = &m->children[i];
			if (c->pid != pid)
				continue;
			if (!m->stopping || !WIFEXITED(status) || WEXITSTATUS(status))
				child_log_exit(c, status);
			if (c->channel) {
				channel_free(c->channel);
				c->channel = NULL;
			}
			c->pid = 0;
			if (!m->stopping)
				child_schedule_restart(c);
		}
	}
}

void
children_signal(struct master *m, int sig)
{
	for (int i = 0; i < m->nchildren; i++)
		if (m->children[i].pid > 0)
			kill(m->children[i].pid, sig);
}

int
children_running(const struct master *m)
{
	int n = 0;

	for (int i = 0; i < m->nchildren; i++)
		n += m->children[i].pid > 0;
	return n;
}

void
children_status(const struct master *m, struct buf *reply)
{
	for (int i = 0; i < m->nchildren; i++) {
		const struct child *c = &m->children[i];
		if (c->pid > 0)
			attr_putf(reply, "service", "%s %d", c->spec->name, (int)c->pid);
		else
			attr_putf(reply, "service", "%s - restarting", c->spec->name);
	}
}

void
children_free(struct master *m)
{
	for (int i = 0; i < m->nchildren; i++) {
		struct child *c = &m->children[i];
		if (c->channel)
			channel_free(c->channel);
		if (c->restart_timer)
			event_free(c->restart_timer);
	}
	free(m->children);
	m->children = NULL;
	m->nchildren = 0;
}
