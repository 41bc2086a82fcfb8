/*
 * postern - the administrator's command.
 *
 * SYNOPSIS
 *	postern [-c CONFIG] start | stop | status | reload
 *	postern [-c CONFIG] check | config [--defaults]
 *	postern dev DIR [--port-base N]
 *	postern [-c CONFIG] user add|passwd|del|list ...
 *	postern [-c CONFIG] queue list | cat ID
 *
 * DESCRIPTION
 *	CONFIG defaults to $POSTERN_CONFIG, else /etc/postern/postern.conf.
 *	start runs postern-master in the background; stop, status and reload
 *	talk to it over public/control in the spool.  check validates the
 *	config (errors name FILE:LINE); config prints the effective settings.
 *	dev creates and runs a development instance in the foreground
 *	(dev.c).  The daemons are found beside this program or in
 *	../libexec/ beside it.
 *
 * EXIT STATUS
 *	0 success, 1 failure, 2 usage error; status exits 1 when the master
 *	is not running.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "common/proto.h"
#include "master/cli.h"
#include "master/cli_internal.h"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: postern [-c CONFIG] start|stop|status|reload|check|config\n"
	    "       postern dev DIR [--port-base N]\n"
	    "       postern [-c CONFIG] user add|passwd|del|list [ADDRESS]\n"
	    "       postern [-c CONFIG] queue list|cat ID\n");
	return 2;
}

char *
cli_libexec_dir(void)
{
	char self[PATH_MAX], *dir, *try;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	struct stat st;

	if (n < 0)
		return xstrdup("/usr/libexec/postern");
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	try = xasprintf("%s/postern-master", self);
	if (stat(try, &st) == 0) {
		free(try);
		return xstrdup(self);
	}
	free(try);
	dir = xasprintf("%s/../libexec", self);
	try = xasprintf("%s/postern-master", dir);
	if (stat(try, &st) == 0) {
		free(try);
		return dir;
	}
	free(try);
	free(dir);
	return xstrdup("/usr/libexec/postern");
}

/* One request to the running master; prints the reason on failure. */
int
cli_control(const struct config *cfg, const char *op, struct buf *frame,
    struct attr_list *reply)
{
	char *path = xasprintf("%s/public/control", cfg->spool_dir);
	struct buf req = BUF_INIT;
	int fd = net_connect_unix(path), passed = -1, rc = -1;

	if (fd < 0) {
		fprintf(stderr, "postern: the master is not running (%s: %s)\n",
		    path, strerror(errno));
		goto out;
	}
	attr_put(&req, "op", op);
	if (channel_call(fd, &req, frame, reply, &passed, PROTO_TIMEOUT_MS) < 0) {
		fprintf(stderr, "postern: no answer from the master: %s\n",
		    strerror(errno));
		goto out;
	}
	if (passed >= 0)
		close(passed);
	const char *status = attr_get(reply, "status");
	if (status == NULL || strcmp(status, "ok") != 0) {
		const char *why = attr_get(reply, "reason");
		fprintf(stderr, "postern: %s refused: %s\n", op, why ? why : "?");
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_free(&req);
	free(path);
	return rc;
}

static int
cmd_simple(const struct config *cfg, const char *op)
{
	struct buf frame = BUF_INIT;
	struct attr_list *reply = xmalloc(sizeof *reply);
	int rc = cli_control(cfg, op, &frame, reply);

	if (rc == 0 && strcmp(op, "status") == 0)
		for (size_t i = 0; i < reply->n; i++)
			if (strcmp(reply->a[i].key, "service") == 0)
				printf("%s\n", reply->a[i].value);
	free(reply);
	buf_free(&frame);
	return rc == 0 ? 0 : 1;
}

static int
cmd_stop(const struct config *cfg)
{
	char *pidpath = xasprintf("%s/pid/master.pid", cfg->spool_dir);
	FILE *f = fopen(pidpath, "r");
	int pid = 0;

	free(pidpath);
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	if (cmd_simple(cfg, "stop") != 0)
		return 1;
	/* Wait for the master to finish, so a following start finds the
	 * ports free. */
	for (int i = 0; pid > 0 && i < 300 && kill(pid, 0) == 0; i++)
		usleep(50 * 1000);
	return 0;
}

static int
cmd_start(const struct config *cfg)
{
	char *libexec = cli_libexec_dir();
	char *master = xasprintf("%s/postern-master", libexec);
	char *argv[] = { "postern-master", "-c", cfg->path, NULL };

	free(libexec);
	execv(master, argv);
	fprintf(stderr, "postern: cannot run %s: %s\n", master, strerror(errno));
	return 1;
}

static int
cmd_check(const char *path)
{
	struct config cfg;
	char err[512];

	if (config_load(&cfg, path, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s\n", err);
		return 1;
	}
	config_free(&cfg);
	return 0;
}

/* The verbs that need a loaded config; argv starts after the verb. */
static int
cli_dispatch(struct config *cfg, const char *verb, int argc, char **argv)
{
	if (strcmp(verb, "config") == 0) {
		if (argc > 0 && strcmp(argv[0], "--defaults") == 0)
			config_defaults(cfg);
		config_print(cfg, stdout, argc > 0);
		return 0;
	}
	if (strcmp(verb, "start") == 0)
		return cmd_start(cfg);
	if (strcmp(verb, "stop") == 0)
		return cmd_stop(cfg);
	if (strcmp(verb, "status") == 0 || strcmp(verb, "reload") == 0)
		return cmd_simple(cfg, verb);
	if (strcmp(verb, "flush") == 0)
		return cmd_simple(cfg, "queue_notify");
	if (strcmp(verb, "user") == 0 && argc > 0)
		return cli_user(cfg, argc, argv);
	if (strcmp(verb, "queue") == 0 && argc > 0)
		return cli_queue(cfg, argc, argv);
	return usage();
}

int
main(int argc, char **argv)
{
	const char *config = getenv("POSTERN_CONFIG");
	struct config cfg;
	char err[512];
	int i = 1;

	setenv("POSTERN_LOG_STDERR", "1", 1);
	log_init("postern");
	if (config == NULL)
		config = POSTERN_DEFAULT_CONFIG;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		config = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	const char *verb = argv[i];
	if (strcmp(verb, "dev") == 0)
		return cli_dev(argc - i, argv + i);
	if (strcmp(verb, "check") == 0)
		return cmd_check(config);
	if (config_load(&cfg, config, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s\n", err);
		return 1;
	}
	int rc = cli_dispatch(&cfg, verb, argc - i - 1, argv + i + 1);
	config_free(&cfg);
	return rc;
}
