/*
 * master.h - what the master's files share.  Not used outside master/.
 */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <sys/types.h>
#include <time.h>

#include "common/buf.h"
#include "common/config.h"

struct event_base;
struct channel;

#define MASTER_LISTEN_MAX 16

/* One row of the services table (children.c). */
struct service_spec {
	const char *name;		/* "smtpd" */
	const char *program;		/* "postern-smtpd" */
	int has_private;		/* the master binds private/NAME for it */
	const char *listen_names[6];	/* listeners it inherits; NULL-ended */
	const char *may_connect[6];	/* services it may reach; NULL-ended */
};

struct listener {
	char name[32];			/* "smtp", "submission" ... */
	char owner[32];			/* for "private": the service it serves */
	char *path;			/* for "private": the socket file */
	int fd;
};

struct master;

struct child {
	struct master *master;
	const struct service_spec *spec;
	int index;			/* worker number, for several smtpd */
	pid_t pid;			/* 0 while waiting to be restarted */
	time_t started;
	int backoff;			/* seconds before the next restart */
	struct channel *channel;	/* master side of fd 3 */
	struct event *restart_timer;
};

struct master {
	struct config cfg;
	char *config_path;		/* absolute */
	char *libexec_dir;
	struct event_base *base;
	int privileged;
	int stopping;

	struct listener listeners[MASTER_LISTEN_MAX];
	int nlisteners;

	struct child *children;
	int nchildren;

	char *control_path;		/* public/control */
	struct event *events[8];	/* signals, control: freed at exit */
	size_t nevents;
};

void master_keep_event(struct master *m, struct event *ev);

/* spool.c */
int spool_prepare(const struct config *cfg, int privileged);
int mail_domain_prepare(const struct config *cfg, const char *domain,
    int privileged);
int spool_lock_pid(const struct config *cfg);
void spool_remove_pid(const struct config *cfg);
pid_t spool_read_pid(const struct config *cfg);
char *spool_path(const struct config *cfg, const char *rel);

/* listeners.c */
int listeners_open(struct master *m);
void listeners_close(struct master *m);

/* children.c */
const struct service_spec *services_table(size_t *n);
int service_built(const struct master *m, const struct service_spec *spec);
void children_start(struct master *m);
void children_reap(struct master *m);
void children_signal(struct master *m, int sig);
int children_running(const struct master *m);
void children_status(const struct master *m, struct buf *reply);
void children_free(struct master *m);

/* control.c */
int control_open(struct master *m);

#endif
