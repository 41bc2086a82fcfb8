/*
 * postern-master - the root supervisor.
 *
 * SYNOPSIS
 *	postern-master -c CONFIG [-f]
 *
 * DESCRIPTION
 *	Reads the config, creates the spool layout (and, as root, the system
 *	users), binds every listening socket, starts each service with its
 *	own user and privileges (children.c) and restarts the ones that die.
 *	SIGHUP re-reads the config and passes the signal on, so each service
 *	re-reads it too; SIGTERM or SIGINT stops every service and exits.
 *	The control socket (control.c) lets `postern` ask for status, reload
 *	and stop.
 *
 *	-f keeps it in the foreground, logging to stderr (`postern dev`);
 *	otherwise it detaches and logs to syslog.
 *
 *	Started by a non-root user, every service runs as that user without
 *	chroot, and the master says so in one log line.  Started by root, it
 *	keeps only cap_kill, cap_setgid, cap_setuid, cap_net_bind_service and
 *	cap_sys_chroot once the spool is prepared and the ports are bound.
 *
 * SETTINGS
 *	Every setting of postern.conf; the listeners and spool_dir are read
 *	once at start (a change of those needs a restart).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/mem.h"
#include "master/master.h"

#define STOP_GRACE 10	/* seconds the services get to exit on SIGTERM */

static void
usage(void)
{
	fprintf(stderr, "usage: postern-master -c CONFIG [-f]\n");
	exit(2);
}

static char *
self_dir(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);

	if (n < 0)
		fatal("readlink /proc/self/exe: %s", strerror(errno));
	path[n] = '\0';
	*strrchr(path, '/') = '\0';
	return xstrdup(path);
}

void
master_keep_event(struct master *m, struct event *ev)
{
	if (m->nevents == sizeof m->events / sizeof m->events[0])
		panic("too many master events");
	m->events[m->nevents++] = ev;
}

static void
on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	(void)fd;
	(void)what;
	log_warn("services still running after %d s; killing them", STOP_GRACE);
	children_signal(m, SIGKILL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	struct config fresh;
	char err[512];

	(void)what;
	if (sig == SIGCHLD) {
		children_reap(m);
		if (m->stopping && children_running(m) == 0)
			event_base_loopexit(m->base, NULL);
	} else if (sig == SIGHUP) {
		if (config_load(&fresh, m->config_path, err, sizeof err) < 0) {
			log_warn("reload refused, keeping the old config: %s", err);
			return;
		}
		config_free(&m->cfg);
		m->cfg = fresh;
		log_info("reloading");
		children_signal(m, SIGHUP);
	} else if (!m->stopping) {
		static struct timeval grace = { STOP_GRACE, 0 };
		log_info("stopping");
		m->stopping = 1;
		children_signal(m, SIGTERM);
		event_base_once(m->base, -1, EV_TIMEOUT, on_stop_deadline, m, &grace);
		if (children_running(m) == 0)
			event_base_loopexit(m->base, NULL);
	}
}

static void
watch_signals(struct master *m)
{
	static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };

	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct event *ev = evsignal_new(m->base, sigs[i], on_signal, m);
		evsignal_add(ev, NULL);
		master_keep_event(m, ev);
	}
	signal(SIGPIPE, SIG_IGN);
}

/* PRIVSEP.md: once the spool is prepared and the ports are bound, the
 * master needs only to spawn (setuid, setgid, chroot for the children it
 * execs, which inherit this bounding set), signal them and bind again.
 * CAP_DAC_OVERRIDE and CAP_CHOWN go: the directories already have their
 * owners. */
static void
master_limit_capabilities(void)
{
	static const cap_value_t keep[] = {
		CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_NET_BIND_SERVICE,
		CAP_SYS_CHROOT,
	};
	const int nkeep = sizeof keep / sizeof keep[0];
	cap_t caps = cap_init();

	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		int wanted = 0;
		for (int i = 0; i < nkeep; i++)
			wanted |= keep[i] == c;
		if (!wanted && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			fatal("cannot drop capability %d from the bounding set: %s",
			    (int)c, strerror(errno));
	}
	if (cap_set_flag(caps, CAP_PERMITTED, nkeep, keep, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, nkeep, keep, CAP_SET) < 0 ||
	    cap_set_proc(caps) < 0)
		fatal("cannot limit the master's capabilities: %s", strerror(errno));
	cap_free(caps);
}

static void
detach(void)
{
	pid_t pid = fork();

	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if (freopen("/dev/null", "r", stdin) == NULL ||
	    freopen("/dev/null", "w", stdout) == NULL ||
	    freopen("/dev/null", "w", stderr) == NULL)
		fatal("cannot redirect to /dev/null");
}

/* Everything the master holds, released at exit so that leak checkers
 * see real leaks only. */
static void
master_free(struct master *m)
{
	children_free(m);
	listeners_close(m);
	for (size_t i = 0; i < m->nevents; i++)
		event_free(m->events[i]);
	event_base_free(m->base);
	if (m->control_path)
		unlink(m->control_path);
	free(m->control_path);
	config_free(&m->cfg);
	free(m->config_path);
	free(m->libexec_dir);
}

int
main(int argc, char **argv)
{
	struct master m = { 0 };
	const char *config = NULL;
	char err[512], *abs;
	int c, foreground = 0;

	while ((c = getopt(argc, argv, "c:f")) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'f')
			foreground = 1;
		else
			usage();
	}
	if (config == NULL)
		usage();
	if (foreground)
		setenv("POSTERN_LOG_STDERR", "1", 1);
	log_init("master");
	if ((abs = realpath(config, NULL)) == NULL)
		fatal("%s: %s", config, strerror(errno));
	m.config_path = abs;
	if (config_load(&m.cfg, m.config_path, err, sizeof err) < 0)
		fatal("%s", err);
	if (m.cfg.log_debug)
		setenv("POSTERN_LOG_DEBUG", "1", 1), log_init("master");
	m.libexec_dir = self_dir();
	m.privileged = geteuid() == 0;
	if (!m.privileged)
		log_info("running as uid %u, not root: every service runs as "
		    "this user, without chroot", (unsigned)geteuid());
	if (spool_prepare(&m.cfg, m.privileged) < 0)
		fatal("cannot prepare the spool and mail directories");
	if (!foreground)
		detach();
	if (spool_lock_pid(&m.cfg) < 0)
		fatal("cannot take the master lock");
	m.base = event_base_new();
	if (listeners_open(&m) < 0 || control_open(&m) < 0)
		fatal("cannot open the listening sockets");
	if (m.privileged)
		master_limit_capabilities();
	watch_signals(&m);
	children_start(&m);
	log_info("started (config %s)", m.config_path);
	event_base_dispatch(m.base);
	spool_remove_pid(&m.cfg);
	log_info("stopped");
	master_free(&m);
	return 0;
}
