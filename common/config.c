/*
 * config - see config.h.  The settings table below is the reference for
 * every key: its type, its default and what it means.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/mem.h"

enum setting_type { T_STRING, T_PATH, T_INT, T_BOOL, T_SIZE, T_DURATION };

struct setting {
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *def;
	const char *doc;
};

#define S(name, type, def, doc) { #name, type, offsetof(struct config, name), def, doc }

static const struct setting settings[] = {
	S(myhostname, T_STRING, "", "host name for greetings and Received headers (empty: the system's)"),
	S(spool_dir, T_PATH, "/var/spool/postern", "the queue: incoming, active, deferred, hold, corrupt"),
	S(mail_root, T_PATH, "/var/mail/postern", "Maildirs live in mail_root/DOMAIN/USER/"),
	S(tables_dir, T_PATH, "/etc/postern", "directory of the lookup tables; lookup's jail"),
	S(users_table, T_PATH, "/etc/postern/users", "users table managed by `postern user` (inside tables_dir)"),
	S(empty_dir, T_PATH, "/var/empty/postern", "empty root-owned directory: jail of smtpd and smtp"),
	S(smtp_listen, T_STRING, "0.0.0.0:25", "SMTP (MX) listeners, HOST:PORT list; empty: closed"),
	S(submission_listen, T_STRING, "0.0.0.0:587", "submission listeners (STARTTLS)"),
	S(smtps_listen, T_STRING, "", "implicit-TLS submission listeners (port 465)"),
	S(pop3_listen, T_STRING, "", "POP3 listeners (port 110)"),
	S(pop3s_listen, T_STRING, "", "POP3 over TLS listeners (port 995)"),
	S(imap_listen, T_STRING, "", "IMAP listeners (port 143)"),
	S(imaps_listen, T_STRING, "", "IMAP over TLS listeners (port 993)"),
	S(tls_cert_file, T_PATH, "", "PEM certificate chain for every TLS listener"),
	S(tls_key_file, T_PATH, "", "PEM private key of tls_cert_file"),
	S(mail_owner, T_STRING, "postern", "user owning the queue (enqueue, qmgr)"),
	S(smtpd_user, T_STRING, "postern-smtpd", "user of the network-facing smtpd and smtp"),
	S(lookup_user, T_STRING, "postern-lookup", "user of the lookup agent, the only reader of password hashes"),
	S(vmail_user, T_STRING, "vmail", "owner of every mailbox (local, pop3d, imapd)"),
	S(smtpd_workers, T_INT, "2", "smtpd processes sharing the listening sockets"),
	S(smtpd_max_connections, T_INT, "5000", "connections one smtpd process serves at once"),
	S(smtpd_recipient_limit, T_INT, "1000", "recipients accepted in one message"),
	S(smtpd_error_limit, T_INT, "20", "errors after which a session is closed"),
	S(smtpd_timeout, T_DURATION, "5m", "time a client may take for one command"),
	S(smtpd_data_timeout, T_DURATION, "10m", "time a client may take for a whole DATA phase"),
	S(message_size_limit, T_SIZE, "50m", "largest message accepted, in bytes"),
	S(max_received_headers, T_INT, "100", "Received headers after which a message is a loop"),
	S(local_concurrency, T_INT, "20", "deliveries to local in flight at once"),
	S(retry_min, T_DURATION, "5m", "first retry of deferred mail; doubles each time"),
	S(retry_max, T_DURATION, "30m", "longest wait between retries"),
	S(queue_lifetime, T_DURATION, "5d", "deferred mail bounces after this long"),
	S(delay_warning_time, T_DURATION, "4h", "warn the sender of delayed mail after this (0: never)"),
	S(dev_mode, T_BOOL, "no", "development instance: plaintext AUTH allowed on loopback"),
	S(log_debug, T_BOOL, "no", "log protocol details"),
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

static void *
field(struct config *cfg, const struct setting *s)
{
	return (char *)cfg + s->offset;
}

int
config_parse_duration(const char *s, int *seconds)
{
	char *end;
	long long n, unit = 1;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0)
		return -1;
	switch (*end) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	if (n > INT_MAX / unit)
		return -1;
	*seconds = (int)(n * unit);
	return 0;
}

int
config_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long n, unit = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (end == s || errno)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0': unit = 1; break;
	case 'k': unit = 1024; break;
	case 'm': unit = 1024 * 1024; break;
	case 'g': unit = 1024ULL * 1024 * 1024; break;
	default: return -1;
	}
	if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2]))
		return -1;
	if (n > UINT64_MAX / unit)
		return -1;
	*bytes = n * unit;
	return 0;
}

static int
parse_int(const char *s, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end || errno || n < 0 || n > INT_MAX)
		return -1;
	*out = (int)n;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* Stores value into the setting.  Returns -1 for a bad value. */
static int
setting_store(struct config *cfg, const struct setting *s, const char *value)
{
	void *f = field(cfg, s);

	switch (s->type) {
	case T_STRING:
		free(*(char **)f);
		*(char **)f = xstrdup(value);
		return 0;
	case T_PATH:
		free(*(char **)f);
		if (value[0] == '/' || value[0] == '\0' || cfg->config_dir == NULL)
			*(char **)f = xstrdup(value);
		else
			*(char **)f = xasprintf("%s/%s", cfg->config_dir, value);
		return 0;
	case T_INT:
		return parse_int(value, f);
	case T_BOOL:
		return parse_bool(value, f);
	case T_SIZE:
		return config_parse_size(value, f);
	case T_DURATION:
		return config_parse_duration(value, f);
	}
	return -1;
}

static const struct setting *
setting_find(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].name, name))
			return &settings[i];
	return NULL;
}

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NSETTINGS; i++)
		if (setting_store(cfg, &settings[i], settings[i].def) < 0)
			abort();	/* a bad default is a build error */
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Parses one line; returns -1 with err set. */
static int
config_line(struct config *cfg, char *line, unsigned char *seen, char *err,
    size_t errlen)
{
	char *eq, *key, *value;
	const struct setting *s;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(err, errlen, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if ((s = setting_find(key)) == NULL) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return -1;
	}
	if (seen[s - settings]++) {
		snprintf(err, errlen, "'%s' is set twice", key);
		return -1;
	}
	if (setting_store(cfg, s, value) < 0) {
		snprintf(err, errlen, "bad value for '%s': '%s'", key, value);
		return -1;
	}
	return 0;
}

static int
config_check(struct config *cfg, char *err, size_t errlen)
{
	if (cfg->retry_min == 0 || cfg->retry_max < cfg->retry_min) {
		snprintf(err, errlen, "retry_max must be at least retry_min (> 0)");
		return -1;
	}
	if (cfg->smtpd_workers < 1 || cfg->smtpd_workers > 64) {
		snprintf(err, errlen, "smtpd_workers must be 1..64");
		return -1;
	}
	if (cfg->local_concurrency < 1) {
		snprintf(err, errlen, "local_concurrency must be at least 1");
		return -1;
	}
	return 0;
}

/* Parses an open config stream; on failure everything is freed again. */
static int
config_parse_stream(struct config *cfg, const char *path, FILE *f, char *err,
    size_t errlen)
{
	unsigned char seen[NSETTINGS] = { 0 };
	char line[4096], msg[512];
	unsigned lineno = 0;
	char *slash;

	config_defaults(cfg);
	cfg->path = xstrdup(path);
	cfg->config_dir = xstrdup(path);
	if ((slash = strrchr(cfg->config_dir, '/')) != NULL)
		slash == cfg->config_dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
	else
		strcpy(cfg->config_dir, ".");
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (strlen(line) == sizeof line - 1 && line[sizeof line - 2] != '\n') {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			goto fail;
		}
		if (config_line(cfg, line, seen, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			goto fail;
		}
	}
	if (cfg->myhostname[0] == '\0') {
		char host[256] = "localhost";
		gethostname(host, sizeof host - 1);
		free(cfg->myhostname);
		cfg->myhostname = xstrdup(host);
	}
	if (config_check(cfg, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "%s: %s", path, msg);
		goto fail;
	}
	return 0;
fail:
	config_free(cfg);
	return -1;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		memset(cfg, 0, sizeof *cfg);
		return -1;
	}
	rc = config_parse_stream(cfg, path, f, err, errlen);
	fclose(f);
	return rc;
}

int
config_load_text(struct config *cfg, const char *path, const char *text,
    size_t len, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int rc;

	if (len == 0)
		f = fopen("/dev/null", "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		memset(cfg, 0, sizeof *cfg);
		return -1;
	}
	rc = config_parse_stream(cfg, path, f, err, errlen);
	fclose(f);
	return rc;
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].type == T_STRING || settings[i].type == T_PATH)
			free(*(char **)field(cfg, &settings[i]));
	free(cfg->path);
	free(cfg->config_dir);
	memset(cfg, 0, sizeof *cfg);
}

static void
print_value(const struct config *cfg, const struct setting *s, FILE *out)
{
	const void *f = (const char *)cfg + s->offset;

	switch (s->type) {
	case T_STRING: case T_PATH:
		fprintf(out, "%s", *(char *const *)f);
		break;
	case T_INT: fprintf(out, "%d", *(const int *)f); break;
	case T_BOOL: fprintf(out, "%s", *(const int *)f ? "yes" : "no"); break;
	case T_SIZE: fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)f); break;
	case T_DURATION: fprintf(out, "%ds", *(const int *)f); break;
	}
}

void
config_print(const struct config *cfg, FILE *out, int with_docs)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (with_docs)
			fprintf(out, "# %s (default: %s)\n", settings[i].doc,
			    settings[i].def[0] ? settings[i].def : "empty");
		fprintf(out, "%s = ", settings[i].name);
		print_value(cfg, &settings[i], out);
		fputc('\n', out);
	}
}
