/*
 * config - postern.conf: `key = value` lines, `#` comments.
 *	(`#` starts a comment only at the start of a line, as in Postfix, so
 *	a value may contain it.)
 *
 * SYNOPSIS
 *	struct config cfg;
 *	char err[256];
 *	if (config_load(&cfg, "/etc/postern/postern.conf", err, sizeof err) < 0)
 *		fatal("%s", err);	// "FILE:LINE: unknown setting 'foo'"
 *	config_print(&cfg, stdout, 0);	// `postern config`
 *
 * DESCRIPTION
 *	Every setting has a documented default (the table in config.c is the
 *	reference, and `postern config --defaults` prints it).  Values are
 *	strings, integers, booleans (yes/no), sizes (bytes, or with k/m/g) or
 *	durations (seconds, or with s/m/h/d units: "5m", "4h", "5d").
 *	Unknown keys, repeated keys, and bad values are refused with FILE:LINE.
 *	Relative paths are taken relative to the config file's directory, so
 *	an instance directory can be moved as a whole.
 *
 *	A listen setting is one "HOST:PORT" (IPv6 as "[::1]:25"), or empty to
 *	leave that service closed.  (One address per service for now: a host
 *	that needs both families binds the wildcard "[::]:25" with
 *	IPV6_V6ONLY off -- not yet offered.)
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stdint.h>
#include <stdio.h>

struct config {
	char *path;			/* the file this came from */
	char *config_dir;		/* its directory */

	char *myhostname;		/* HELO name, Received headers */
	char *spool_dir;		/* the queue; see DESIGN.md section 3 */
	char *mail_root;		/* mail_root/DOMAIN/USER/ Maildirs */
	char *tables_dir;		/* where lookup finds its tables */
	char *users_table;		/* text table managed by `postern user` */
	char *empty_dir;		/* root-owned empty jail for smtpd/smtp */

	char *smtp_listen;		/* port 25 */
	char *submission_listen;	/* port 587 */
	char *smtps_listen;		/* port 465 */
	char *pop3_listen;
	char *pop3s_listen;
	char *imap_listen;
	char *imaps_listen;

	char *tls_cert_file;
	char *tls_key_file;

	char *mail_owner;		/* user owning the queue: enqueue, qmgr */
	char *smtpd_user;		/* smtpd, smtp */
	char *lookup_user;		/* lookup */
	char *vmail_user;		/* local, pop3d, imapd */

	int smtpd_workers;		/* smtpd processes sharing the listeners */
	int smtpd_max_connections;	/* per worker */
	int smtpd_recipient_limit;
	int smtpd_error_limit;
	int smtpd_timeout;		/* seconds, per command */
	int smtpd_data_timeout;		/* seconds, whole DATA phase */
	uint64_t message_size_limit;	/* bytes */
	int max_received_headers;

	int local_concurrency;		/* deliveries in flight to local */
	int retry_min;			/* seconds */
	int retry_max;
	int queue_lifetime;
	int delay_warning_time;		/* 0: no warning */

	int dev_mode;			/* plaintext AUTH on loopback allowed */
	int log_debug;
};

/* Both return 0, or -1 with err set and nothing left to free. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
/* The same from text already read (a jailed service gets it from the
 * master); path is what the text was read from. */
int config_load_text(struct config *cfg, const char *path, const char *text,
    size_t len, char *err, size_t errlen);
void config_defaults(struct config *cfg);
void config_free(struct config *cfg);
/* Prints every setting as `key = value`; with_docs adds each one's doc. */
void config_print(const struct config *cfg, FILE *out, int with_docs);

/* Shared value parsers, also used on the command line. */
int config_parse_duration(const char *s, int *seconds);
int config_parse_size(const char *s, uint64_t *bytes);

#define POSTERN_DEFAULT_CONFIG "/etc/postern/postern.conf"

#endif
