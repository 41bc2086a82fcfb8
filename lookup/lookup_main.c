/*
 * postern-lookup - the lookup agent: answers table lookups and password
 * checks for the chrooted services.
 *
 * SYNOPSIS
 *	postern-lookup -c CONFIG	(started by postern-master)
 *
 * DESCRIPTION
 *	The only process that reads the tables and the password hashes.  It
 *	runs as lookup_user, chrooted into tables_dir, and accepts channels
 *	(channel.h) on its inherited listener "private": the master connects
 *	them on behalf of smtpd, qmgr, local, pop3d and imapd (service_connect).
 *	Each request frame is answered at once on its channel, with the
 *	request's id; see answer.c for the ops and common/proto.h for the
 *	wire.  It never writes a file.
 *
 *	The users table is opened read-only (table.h) and checked before
 *	every lookup, so `postern user add` takes effect without a reload.
 *
 * SETTINGS
 *	users_table (its .lmdb must live under tables_dir), tables_dir,
 *	lookup_user.
 *
 * DIAGNOSTICS
 *	Fatal at start-up when the listener is missing or the users table
 *	lies outside the jail.  Table errors are logged once when they appear
 *	and answered as temporary failures; authentication failures are
 *	logged with the user name.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/acceptor.h"
#include "common/channel.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/service.h"
#include "common/table.h"
#include "lookup/lookup.h"


struct agent {
	struct event_base *base;
	struct lookup lk;
};

static void
on_client_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	struct agent *a = arg;

	if (fd >= 0) {
		log_warn("lookup request with a descriptor: closing the channel");
		close(fd);
		channel_free(ch);
		return;
	}
	lookup_answer(&a->lk, ch, msg);
}

static void
on_client_close(struct channel *ch, void *arg)
{
	(void)arg;
	channel_free(ch);
}

static void
on_accept(int fd, void *arg)
{
	struct agent *a = arg;

	channel_new(a->base, fd, on_client_message, on_client_close, a);
}

/* If `dir` holds `path` (both resolved), the rest of path, else NULL. */
static const char *
path_under(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) != 0)
		return NULL;
	if (strcmp(dir, "/") == 0)
		return path + 1;
	return path[n] == '/' ? path + n + 1 : NULL;
}

/* The users .lmdb as seen from tables_dir, which becomes our cwd (and our
 * root, when chrooted) after service_drop(). */
static char *
users_lmdb_path(const struct service *svc)
{
	const struct config *cfg = &svc->cfg;
	const char *slash = strrchr(cfg->users_table, '/');
	char *dir = slash ? xstrndup(cfg->users_table,
	    (size_t)(slash - cfg->users_table + 1)) : xstrdup(".");
	const char *base = slash ? slash + 1 : cfg->users_table;
	char rdir[PATH_MAX], rtables[PATH_MAX], *out = NULL;
	const char *rel;

	if (realpath(dir, rdir) == NULL || realpath(cfg->tables_dir, rtables) == NULL)
		fatal("users table %s: %s", cfg->users_table, strerror(errno));
	if (strcmp(rdir, rtables) == 0)
		out = xasprintf("%s.lmdb", base);
	else if ((rel = path_under(rtables, rdir)) != NULL)
		out = xasprintf("%s/%s.lmdb", rel, base);
	else if (!svc->privileged)
		out = xasprintf("%s/%s.lmdb", rdir, base);
	else
		fatal("users_table %s is outside tables_dir %s",
		    cfg->users_table, cfg->tables_dir);
	free(dir);
	return out;
}

static void
agent_run(struct agent *a, struct service *svc, int listen_fd)
{
	struct acceptor *ac;
	struct daemon *d;

	a->base = event_base_new();
	if (a->base == NULL)
		fatal("event_base_new failed");
	ac = accept_start(a->base, listen_fd, on_accept, a);
	/* Tables are checked at every lookup; SIGHUP only re-reads settings. */
	d = daemon_signals(a->base, svc, NULL, NULL, a);
	event_base_dispatch(a->base);
	log_info("stopping");
	daemon_free(d);
	accept_stop(ac);
	event_base_free(a->base);
}

int
main(int argc, char **argv)
{
	static struct agent a;
	struct service svc;
	char err[256];
	char *users_path;
	int listen_fd;

	service_init(&svc, "lookup", argc, argv);
	if ((listen_fd = service_listener(&svc, "private")) < 0)
		fatal("no \"private\" listener was passed");
	users_path = users_lmdb_path(&svc);
	signal(SIGPIPE, SIG_IGN);
	service_drop(&svc, SERVICE_ROLE_LOOKUP);
	/* It holds password hashes: no core dumps, no ptrace by its uid. */
	prctl(PR_SET_DUMPABLE, 0);
	if (users_hash_password("no such user", a.lk.dummy_hash,
	    sizeof a.lk.dummy_hash, err, sizeof err) < 0)
		fatal("%s", err);
	a.lk.users = table_open(users_path, TABLE_FOLD_DOMAIN);
	log_info("answering lookups from %s", users_path);
	agent_run(&a, &svc, listen_fd);
	table_close(a.lk.users);
	free(users_path);
	return 0;
}
