/*
 * listeners - the master binds every listening socket before any service
 * starts, so no service ever needs to bind (or the privilege to bind a
 * low port), and a restarted service inherits the same socket: clients
 * queue in its backlog instead of being refused.
 *
 * Network listeners come from the *_listen settings; a service gets the
 * ones its row of the services table names.  A setting whose service is
 * not built is not bound, and the master says so once.  Each service that
 * answers other services gets private/NAME, bound here and reached only
 * through the master's connect broker (children.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "master/master.h"

struct listen_setting {
	const char *name;
	size_t offset;
};

static const struct listen_setting listen_settings[] = {
	{ "smtp", offsetof(struct config, smtp_listen) },
	{ "submission", offsetof(struct config, submission_listen) },
	{ "smtps", offsetof(struct config, smtps_listen) },
	{ "pop3", offsetof(struct config, pop3_listen) },
	{ "pop3s", offsetof(struct config, pop3s_listen) },
	{ "imap", offsetof(struct config, imap_listen) },
	{ "imaps", offsetof(struct config, imaps_listen) },
};

static const char *
listen_address(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < sizeof listen_settings / sizeof listen_settings[0]; i++)
		if (strcmp(listen_settings[i].name, name) == 0)
			return *(char *const *)((const char *)cfg +
			    listen_settings[i].offset);
	return NULL;
}

/* Is there a built service in the table that takes listener NAME? */
static int
listener_wanted(const struct master *m, const char *name)
{
	size_t n;
	const struct service_spec *t = services_table(&n);

	for (size_t i = 0; i < n; i++)
		for (int j = 0; t[i].listen_names[j] && service_built(m, &t[i]); j++)
			if (strcmp(t[i].listen_names[j], name) == 0)
				return 1;
	return 0;
}

static int
listener_add(struct master *m, const char *name, const char *owner, int fd,
    char *path)
{
	struct listener *l;

	if (m->nlisteners == MASTER_LISTEN_MAX)
		panic("too many listeners");
	l = &m->listeners[m->nlisteners++];
	snprintf(l->name, sizeof l->name, "%s", name);
	snprintf(l->owner, sizeof l->owner, "%s", owner ? owner : "");
	l->fd = fd;
	l->path = path;
	return 0;
}

static int
open_network_listeners(struct master *m)
{
	char err[256];

	for (size_t i = 0; i < sizeof listen_settings / sizeof listen_settings[0]; i++) {
		const char *name = listen_settings[i].name;
		const char *addr = listen_address(&m->cfg, name);
		int fd;

		if (addr == NULL || *addr == '\0')
			continue;
		if (!listener_wanted(m, name)) {
			log_info("%s_listen = %s: no service for it is built yet; "
			    "the port stays closed", name, addr);
			continue;
		}
		if ((fd = net_listen_tcp(addr, err, sizeof err)) < 0) {
			log_warn("%s", err);
			return -1;
		}
		listener_add(m, name, NULL, fd, NULL);
		log_info("listening on %s (%s)", addr, name);
	}
	return 0;
}

static int
open_private_listeners(struct master *m)
{
	size_t n;
	const struct service_spec *t = services_table(&n);
	char err[256];

	for (size_t i = 0; i < n; i++) {
		if (!t[i].has_private || !service_built(m, &t[i]))
			continue;
		char *rel = xasprintf("private/%s", t[i].name);
		char *path = spool_path(&m->cfg, rel);
		int fd = net_listen_unix(path, 0600, err, sizeof err);
		free(rel);
		if (fd < 0) {
			log_warn("%s", err);
			free(path);
			return -1;
		}
		listener_add(m, "private", t[i].name, fd, path);
	}
	return 0;
}

/* public/pickup: the sendmail command speaks SMTP to smtpd here; smtpd
 * learns the submitting uid with SO_PEERCRED. */
static int
open_pickup_listener(struct master *m)
{
	char *path = spool_path(&m->cfg, "public/pickup");
	char err[256];
	int fd;

	if (!listener_wanted(m, "pickup")) {
		free(path);
		return 0;
	}
	if ((fd = net_listen_unix(path, 0666, err, sizeof err)) < 0) {
		log_warn("%s", err);
		free(path);
		return -1;
	}
	/* Listed with its path so it is removed at exit, but owned by no
	 * service's private socket (its name is not "private"). */
	return listener_add(m, "pickup", NULL, fd, path);
}

int
listeners_open(struct master *m)
{
	if (open_private_listeners(m) < 0 || open_network_listeners(m) < 0 ||
	    open_pickup_listener(m) < 0)
		return -1;
	return 0;
}

void
listeners_close(struct master *m)
{
	for (int i = 0; i < m->nlisteners; i++) {
		close(m->listeners[i].fd);
		if (m->listeners[i].path)
			unlink(m->listeners[i].path);
		free(m->listeners[i].path);
	}
	m->nlisteners = 0;
}
