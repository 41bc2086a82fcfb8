/*
 * service - what every daemon does first: arguments, config, inherited
 * sockets, and the privilege drop of PRIVSEP.md.
 *
 * SYNOPSIS
 *	int main(int argc, char **argv) {
 *		struct service svc;
 *		service_init(&svc, "smtpd", argc, argv);	// -c FILE
 *		int fd = service_listener(&svc, "smtp");	// -1 if closed
 *		...read certificates, open what is needed...
 *		service_drop(&svc, SERVICE_ROLE_SMTPD);
 *		...event loop...
 *	}
 *
 * DESCRIPTION
 *	The master starts each service as `postern-NAME -c CONFIG`, with the
 *	master channel on fd 3 (see channel.h) and its listening sockets from
 *	fd 4 on, named in the environment as POSTERN_LISTEN="smtp=4,
 *	submission=5".  service_init() loads the config (fatal on error),
 *	opens the log and reads that list.  Listening sockets are non-blocking.
 *
 *	service_drop() performs PRIVSEP.md's order for the role: rlimits,
 *	chroot into the role's directory, setgroups/setresgid/setresuid,
 *	clear every capability, check that setuid(0) fails, NO_NEW_PRIVS.
 *	Started by a non-root user it changes no user and does no chroot (the
 *	master has said so in one log line), and still sets the rest.
 *	Either way it leaves the process with its working directory at the
 *	role's directory, so services use relative paths ("incoming/ID",
 *	"example.org/joe/new") that mean the same inside and outside a jail.
 *	Any failure is fatal: a service never runs with more than its due.
 */
#ifndef POSTERN_SERVICE_H
#define POSTERN_SERVICE_H

#include "common/config.h"

#define SERVICE_LISTEN_MAX 16

enum service_role {
	SERVICE_ROLE_SMTPD,	/* smtpd_user, chroot empty_dir */
	SERVICE_ROLE_SMTP,	/* smtpd_user, chroot empty_dir */
	SERVICE_ROLE_QUEUE,	/* mail_owner, chroot spool_dir: enqueue, qmgr */
	SERVICE_ROLE_MAILBOX,	/* vmail_user, chroot mail_root: local, pop3d, imapd */
	SERVICE_ROLE_LOOKUP,	/* lookup_user, chroot tables_dir */
};

struct service {
	const char *name;
	struct config cfg;
	int nlisten;
	struct {
		char name[32];
		int fd;
	} listen[SERVICE_LISTEN_MAX];
	int privileged;		/* started as root */
	int chrooted;		/* paths are now relative to the jail */
};

void service_init(struct service *svc, const char *name, int argc, char **argv);
int service_listener(const struct service *svc, const char *name);
void service_drop(struct service *svc, enum service_role role);
/* Reads the config again into *fresh (for SIGHUP).  Inside a jail the
 * file is out of reach, so the text comes from the master over the master
 * channel (op=config).  Returns 0, or -1 with err set. */
int service_config_reload(const struct service *svc, struct config *fresh,
    char *err, size_t errlen);

#endif
