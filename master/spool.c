/*
 * spool - the on-disk layout the master creates before anything starts.
 *
 * DESCRIPTION
 *	spool_prepare() makes the directories of DESIGN.md section 3 and the
 *	mail root, jail and tables directories, with the owners and modes of
 *	PRIVSEP.md when run as root (creating the system users first if they
 *	are missing), or owned by the invoking user otherwise.  It repairs
 *	owners and modes of existing directories, so an instance created by
 *	one user and started by root still works.
 *
 *	The jails are root-owned and not writable by their role.  private/ is
 *	root-only: only the master connects to the services' sockets there.
 *	Because the mail root is such a jail, local (vmail) cannot create a
 *	domain's folder in it: mail_domain_prepare() does, as root, for every
 *	domain of the users table at start and for each new domain from
 *	`postern user add`.  local then creates the users' Maildirs inside.
 *
 *	spool_lock_pid() takes pid/master.pid with an exclusive lock, so two
 *	masters never share a spool.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "master/master.h"

char *
spool_path(const struct config *cfg, const char *rel)
{
	return xasprintf("%s/%s", cfg->spool_dir, rel);
}

/* Creates the system user NAME when it is missing (root only). */
static int
ensure_system_user(const char *name)
{
	pid_t pid;
	int status;

	if (getpwnam(name) != NULL)
		return 0;
	log_info("creating system user %s", name);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execl("/usr/sbin/useradd", "useradd", "--system", "--no-create-home",
		    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
		    "--user-group", name, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || getpwnam(name) == NULL) {
		log_warn("useradd %s failed", name);
		return -1;
	}
	return 0;
}

/* mkdir -p PATH, then set owner (root when user is NULL) and mode. */
static int
ensure_dir(const char *path, const char *user, mode_t mode, int privileged)
{
	char *copy = xstrdup(path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		goto fail;
	if (privileged) {
		struct passwd *pw = user ? getpwnam(user) : NULL;
		uid_t uid = pw ? pw->pw_uid : 0;
		gid_t gid = pw ? pw->pw_gid : 0;
		if ((user && pw == NULL) || chown(copy, uid, gid) < 0)
			goto fail;
	}
	if (chmod(copy, mode) < 0)
		goto fail;
	free(copy);
	return 0;
fail:
	log_warn("cannot prepare directory %s: %s", copy, strerror(errno));
	free(copy);
	return -1;
}

int
mail_domain_prepare(const struct config *cfg, const char *domain, int privileged)
{
	char *path;
	int rc;

	if (*domain == '\0' || *domain == '.' || strchr(domain, '/') != NULL)
		return -1;
	path = xasprintf("%s/%s", cfg->mail_root, domain);
	for (char *p = path + strlen(cfg->mail_root) + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	rc = ensure_dir(path, privileged ? cfg->vmail_user : NULL, 0700, privileged);
	free(path);
	return rc;
}

/* A folder for every domain that has a user in the users table. */
static int
prepare_user_domains(const struct config *cfg, int privileged)
{
	FILE *f = fopen(cfg->users_table, "r");
	char line[1024];
	int rc = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof line, f)) {
		char *at, *end;
		if (line[0] == '#' || isspace((unsigned char)line[0]))
			continue;
		end = line + strcspn(line, " \t\r\n");
		*end = '\0';
		if ((at = strrchr(line, '@')) != NULL && at[1])
			rc |= mail_domain_prepare(cfg, at + 1, privileged);
	}
	fclose(f);
	return rc;
}

int
spool_prepare(const struct config *cfg, int privileged)
{
	static const char *queue_dirs[] = {
		"incoming", "active", "deferred", "hold", "corrupt",
	};
	const char *users[] = {
		cfg->mail_owner, cfg->smtpd_user, cfg->lookup_user, cfg->vmail_user,
	};
	int rc = 0;

	if (privileged)
		for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
			if (ensure_system_user(users[i]) < 0)
				return -1;
	rc |= ensure_dir(cfg->spool_dir, NULL, 0755, privileged);
	for (size_t i = 0; i < sizeof queue_dirs / sizeof queue_dirs[0]; i++) {
		char *p = spool_path(cfg, queue_dirs[i]);
		rc |= ensure_dir(p, cfg->mail_owner, 0700, privileged);
		free(p);
	}
	char *priv = spool_path(cfg, "private"), *pub = spool_path(cfg, "public");
	char *pid = spool_path(cfg, "pid");
	rc |= ensure_dir(priv, NULL, 0700, privileged);
	rc |= ensure_dir(pub, NULL, 0755, privileged);
	rc |= ensure_dir(pid, NULL, 0755, privileged);
	free(priv);
	free(pub);
	free(pid);
	rc |= ensure_dir(cfg->mail_root, NULL, 0755, privileged);
	rc |= ensure_dir(cfg->empty_dir, NULL, 0555, privileged);
	rc |= ensure_dir(cfg->tables_dir, NULL, 0755, privileged);
	rc |= prepare_user_domains(cfg, privileged);
	return rc ? -1 : 0;
}

int
spool_lock_pid(const struct config *cfg)
{
	char *path = spool_path(cfg, "pid/master.pid");
	char line[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_warn("cannot lock %s: %s%s", path, strerror(errno),
		    errno == EWOULDBLOCK ? " (is another master running?)" : "");
		free(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(line, sizeof line, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, strlen(line), 0) < 0)
		log_warn("cannot write %s: %s", path, strerror(errno));
	free(path);
	return fd;	/* kept open for the master's life: the lock */
}

void
spool_remove_pid(const struct config *cfg)
{
	char *path = spool_path(cfg, "pid/master.pid");

	unlink(path);
	free(path);
}

/* The running master's pid, or 0 when none holds the lock. */
pid_t
spool_read_pid(const struct config *cfg)
{
	char *path = spool_path(cfg, "pid/master.pid");
	char line[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	pid_t pid = 0;

	free(path);
	if (fd < 0)
		return 0;
	/* Unlocked means stale: the master died without cleaning up. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	if (read(fd, line, sizeof line - 1) > 0)
		pid = (pid_t)atoi(line);
	close(fd);
	return pid;
}
