/*
 * service - see service.h.  The privilege drop follows PRIVSEP.md step by
 * step; each step that fails is fatal, because a service that cannot shed
 * a privilege must not run with it.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/proto.h"
#include "common/net.h"
#include "common/service.h"

static void
service_usage(const char *name)
{
	fprintf(stderr, "usage: postern-%s -c CONFIG\n", name);
	exit(2);
}

/* Reads POSTERN_LISTEN="name=fd,name=fd". */
static void
service_read_listeners(struct service *svc)
{
	const char *env = getenv("POSTERN_LISTEN");
	char copy[1024], *save = NULL;

	if (env == NULL)
		return;
	snprintf(copy, sizeof copy, "%s", env);
	for (char *item = strtok_r(copy, ",", &save); item;
	    item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (eq == NULL || svc->nlisten == SERVICE_LISTEN_MAX)
			fatal("bad POSTERN_LISTEN '%s'", env);
		*eq = '\0';
		snprintf(svc->listen[svc->nlisten].name,
		    sizeof svc->listen[0].name, "%s", item);
		svc->listen[svc->nlisten].fd = atoi(eq + 1);
		net_set_nonblock(svc->listen[svc->nlisten].fd);
		svc->nlisten++;
	}
}

void
service_init(struct service *svc, const char *name, int argc, char **argv)
{
	const char *config_path = POSTERN_DEFAULT_CONFIG;
	char err[512];
	int c;

	memset(svc, 0, sizeof *svc);
	svc->name = name;
	log_init(name);
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c == 'c')
			config_path = optarg;
		else
			service_usage(name);
	}
	if (config_load(&svc->cfg, config_path, err, sizeof err) < 0)
		fatal("%s", err);
	service_read_listeners(svc);
	svc->privileged = geteuid() == 0;
	/* A peer that goes away must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
}

int
service_listener(const struct service *svc, const char *name)
{
	for (int i = 0; i < svc->nlisten; i++)
		if (strcmp(svc->listen[i].name, name) == 0)
			return svc->listen[i].fd;
	return -1;
}

struct role_facts {
	const char *user;
	const char *dir;
	rlim_t nofile;
	int dumpable;
};

static struct role_facts
role_facts(const struct config *cfg, enum service_role role)
{
	struct role_facts f = { NULL, NULL, 1024, 1 };

	switch (role) {
	case SERVICE_ROLE_SMTPD:
		f = (struct role_facts){ cfg->smtpd_user, cfg->empty_dir,
		    (rlim_t)cfg->smtpd_max_connections + 64, 1 };
		break;
	case SERVICE_ROLE_SMTP:
		f = (struct role_facts){ cfg->smtpd_user, cfg->empty_dir, 1024, 1 };
		break;
	case SERVICE_ROLE_QUEUE:
		f = (struct role_facts){ cfg->mail_owner, cfg->spool_dir, 4096, 1 };
		break;
	case SERVICE_ROLE_MAILBOX:
		f = (struct role_facts){ cfg->vmail_user, cfg->mail_root,
		    (rlim_t)cfg->smtpd_max_connections + 64, 1 };
		break;
	case SERVICE_ROLE_LOOKUP:
		f = (struct role_facts){ cfg->lookup_user, cfg->tables_dir, 256, 0 };
		break;
	}
	return f;
}

static void
set_limit(int resource, rlim_t value, const char *what)
{
	struct rlimit rl = { value, value };
	struct rlimit cur;

	/* Never raise a hard limit we were not given. */
	if (getrlimit(resource, &cur) == 0 && cur.rlim_max < value)
		rl.rlim_cur = rl.rlim_max = cur.rlim_max;
	if (setrlimit(resource, &rl) < 0)
		fatal("setrlimit %s: %s", what, strerror(errno));
}

static void
drop_capabilities(void)
{
	cap_t none = cap_init(), now;
	int empty;

	if (none == NULL || cap_set_proc(none) < 0)
		fatal("cannot clear capabilities: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		fatal("cannot clear ambient capabilities: %s", strerror(errno));
	if ((now = cap_get_proc()) == NULL)
		fatal("cap_get_proc: %s", strerror(errno));
	empty = cap_compare(now, none) == 0;
	cap_free(now);
	cap_free(none);
	if (!empty)
		fatal("capabilities still held after clearing them");
}

static void
become_user(const struct passwd *pw)
{
	if (setgroups(0, NULL) < 0)
		fatal("setgroups: %s", strerror(errno));
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
		fatal("setresgid %u: %s", (unsigned)pw->pw_gid, strerror(errno));
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		fatal("setresuid %u: %s", (unsigned)pw->pw_uid, strerror(errno));
}

void
service_drop(struct service *svc, enum service_role role)
{
	struct role_facts f = role_facts(&svc->cfg, role);
	struct passwd *pw = NULL;

	set_limit(RLIMIT_CORE, 0, "core");
	set_limit(RLIMIT_NOFILE, f.nofile, "nofile");
	tzset();
	if (svc->privileged && (pw = getpwnam(f.user)) == NULL)
		fatal("no such user '%s'", f.user);
	if (pw && pw->pw_uid == 0)
		fatal("user '%s' is root; a service never runs as root", f.user);
	if (svc->privileged) {
		if (chroot(f.dir) < 0 || chdir("/") < 0)
			fatal("chroot %s: %s", f.dir, strerror(errno));
		svc->chrooted = 1;
		become_user(pw);
	} else if (chdir(f.dir) < 0) {
		fatal("chdir %s: %s", f.dir, strerror(errno));
	}
	drop_capabilities();
	if (svc->privileged && (setuid(0) == 0 || setgid(0) == 0))
		fatal("could regain root after dropping it");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (!f.dumpable)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
service_config_reload(const struct service *svc, struct config *fresh,
    char *err, size_t errlen)
{
	struct buf req = BUF_INIT, frame = BUF_INIT;
	struct attr_list *reply;
	const struct attr *text;
	int fd = -1, rc = -1;

	if (!svc->chrooted)
		return config_load(fresh, svc->cfg.path, err, errlen);
	reply = xmalloc(sizeof *reply);
	attr_put(&req, "op", "config");
	if (service_call_master(&req, &frame, reply, &fd) < 0) {
		snprintf(err, errlen, "cannot ask the master for the config: %s",
		    strerror(errno));
	} else if ((text = attr_find(reply, "text")) == NULL) {
		const char *why = attr_get(reply, "reason");
		snprintf(err, errlen, "%s", why ? why : "the master sent no config");
	} else {
		rc = config_load_text(fresh, svc->cfg.path, text->value, text->len,
		    err, errlen);
	}
	if (fd >= 0)
		close(fd);
	free(reply);
	buf_free(&req);
	buf_free(&frame);
	return rc;
}
