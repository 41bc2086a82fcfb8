/*
 * users - see users.h for the manual.
 *
 * An edit rewrites the text file line by line rather than regenerating
 * it from parsed entries, so an administrator's comments, blank lines and
 * ordering survive `postern user` commands.  The entry being changed is
 * recognised by its folded key; its continuation lines go with it.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/table.h"
#include "common/users.h"

#define USERS_TEXT_MODE		0640
#define USERS_LMDB_MODE		0600
#define USERS_TABLE_FLAGS	(TABLE_FOLD_DOMAIN | TABLE_DOMAIN_KEYS)

enum users_op { USERS_ADD, USERS_REPLACE, USERS_DELETE };

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
users_canonical(const char *addr, char *out, size_t outlen)
{
	size_t len = strlen(addr);
	const char *at = strrchr(addr, '@');

	if (len == 0 || len > USERS_ADDR_MAX || len >= outlen)
		return -1;
	if (at == NULL || at == addr || at[1] == '\0')
		return -1;
	if (addr[0] == '.' || at[1] == '.')
		return -1;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '/')
			return -1;
	memcpy(out, addr, len + 1);
	table_fold_domain(out);
	return 0;
}

/* Hashing. */

int
users_hash_password(const char *password, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	/* NULL random bytes: libcrypt draws them from the kernel itself. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof salt) == NULL) {
		set_err(err, errlen, "crypt_gensalt: %s", strerror(errno));
		return -1;
	}
	cd = xcalloc(1, sizeof *cd);
	h = crypt_r(password, salt, cd);
	if (h == NULL || h[0] == '*')
		set_err(err, errlen, "crypt: %s", strerror(errno));
	else if (strlen(h) >= outlen)
		set_err(err, errlen, "crypt: hash too long");
	else {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return rc;
}

/* Equal-length strings compared without an early exit, so the time taken
 * says nothing about how many leading bytes matched. */
static int
const_time_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	volatile unsigned char diff = 0;

	if (n != strlen(b))
		return 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

int
users_password_ok(const char *password, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *h = crypt_r(password, hash, cd);
	int ok;

	/* A failed crypt returns "*0"/"*1" (never a valid hash) or NULL. */
	ok = h != NULL && h[0] != '*' && const_time_equal(h, hash);
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

/* Finding an entry in the text. */

struct finder {
	const char *key;
	struct buf value;
	int found;
};

static int
finder_entry(const char *key, const char *value, unsigned line, void *arg)
{
	struct finder *f = arg;

	(void)line;
	if (strcmp(key, f->key) == 0) {
		f->found = 1;
		buf_reset(&f->value);
		buf_puts(&f->value, value);
	}
	return 0;
}

/* 1 found (value in f), 0 not (or no file yet), -1 error. */
static int
users_find(const struct config *cfg, struct finder *f, char *err, size_t errlen)
{
	if (access(cfg->users_table, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (table_parse(cfg->users_table, TABLE_FOLD_DOMAIN, finder_entry, f,
	    err, errlen) < 0)
		return -1;
	return f->found;
}

/* Rewriting the text. */

static int
line_is_entry(const char *line)
{
	return line[0] != ' ' && line[0] != '\t' && line[0] != '#' &&
	    line[0] != '\n' && line[0] != '\r' && line[0] != '\0';
}

static int
line_is_continuation(const char *line)
{
	size_t blanks = strspn(line, " \t");

	return blanks > 0 && line[blanks] != '#' && line[blanks] != '\n' &&
	    line[blanks] != '\r' && line[blanks] != '\0';
}

static int
entry_matches(const char *line, const char *key)
{
	char *k = xstrndup(line, strcspn(line, " \t\r\n"));
	int match;

	table_fold_domain(k);
	match = strcmp(k, key) == 0;
	free(k);
	return match;
}

/* Copies the old text to out, leaving out key's entry and putting
 * new_line (if any) where it was, or at the end if it was not there. */
static void
rewrite_text(FILE *in, FILE *out, const char *key, const char *new_line)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int in_target = 0, placed = 0, last_nl = 1;

	while (in != NULL && (n = getline(&line, &cap, in)) > 0) {
		if (line_is_entry(line))
			in_target = entry_matches(line, key);
		if (in_target && (line_is_entry(line) || line_is_continuation(line))) {
			if (new_line != NULL && !placed)
				fputs(new_line, out);
			placed = 1;
			continue;
		}
		fwrite(line, 1, (size_t)n, out);
		last_nl = line[n - 1] == '\n';
	}
	if (new_line != NULL && !placed) {
		if (!last_nl)
			fputc('\n', out);
		fputs(new_line, out);
	}
	free(line);
}

struct owner {
	uid_t uid;
	gid_t gid;
};

/* Root hands the files to the lookup user; anyone else keeps them. */
static int
users_owner(const struct config *cfg, struct owner *o, char *err, size_t errlen)
{
	struct passwd *pw;

	o->uid = (uid_t)-1;
	o->gid = (gid_t)-1;
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(cfg->lookup_user)) == NULL) {
		set_err(err, errlen, "lookup_user %s: no such user",
		    cfg->lookup_user);
		return -1;
	}
	o->uid = pw->pw_uid;
	o->gid = pw->pw_gid;
	return 0;
}

static int
write_candidate(const struct config *cfg, const char *tmp, const char *key,
    const char *new_line, const struct owner *o, char *err, size_t errlen)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    USERS_TEXT_MODE);
	FILE *in, *out;
	int rc = 0;

	if (fd < 0) {
		set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, USERS_TEXT_MODE) < 0 ||
	    (o->uid != (uid_t)-1 && fchown(fd, o->uid, o->gid) < 0)) {
		set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	out = fdopen(fd, "w");
	in = fopen(cfg->users_table, "re");
	rewrite_text(in, out, key, new_line);
	if ((in != NULL && ferror(in)) || fflush(out) != 0 || ferror(out) ||
	    fsync(fd) < 0) {
		set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (in != NULL)
		fclose(in);
	fclose(out);
	return rc;
}

static int
fsync_parent(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path + 1)) :
	    xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0) {
		set_err(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* The candidate text is compiled before it replaces the real one, so a
 * table that does not compile changes neither file. */
static int
commit_candidate(const struct config *cfg, const char *tmp,
    const struct owner *o, char *err, size_t errlen)
{
	struct table_build_opts opts = TABLE_BUILD_OPTS_INIT;
	char *lmdb = xasprintf("%s.lmdb", cfg->users_table);
	int rc;

	opts.flags = USERS_TABLE_FLAGS | TABLE_CALLER_LOCKED;
	opts.mode = USERS_LMDB_MODE;
	opts.uid = o->uid;
	opts.gid = o->gid;
	opts.name = cfg->users_table;
	rc = table_compile(tmp, lmdb, &opts, err, errlen);
	if (rc == 0 && rename(tmp, cfg->users_table) < 0) {
		set_err(err, errlen, "rename %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = fsync_parent(cfg->users_table, err, errlen);
	free(lmdb);
	return rc;
}

static int
users_rewrite(const struct config *cfg, const char *key, const char *new_line,
    char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.tmp", cfg->users_table);
	struct owner o;
	int rc = -1;

	if (users_owner(cfg, &o, err, errlen) == 0 &&
	    write_candidate(cfg, tmp, key, new_line, &o, err, errlen) == 0)
		rc = commit_candidate(cfg, tmp, &o, err, errlen);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* The line that replaces or adds key's entry: the new hash, then whatever
 * followed the old hash. */
static char *
entry_line(const char *key, const char *hash, const char *old_value)
{
	const char *rest = old_value ? old_value + strcspn(old_value, " ") : "";

	rest += strspn(rest, " ");
	return xasprintf("%s %s%s%s\n", key, hash, *rest ? " " : "", rest);
}

static int
op_check(enum users_op op, const char *key, int found, char *err,
    size_t errlen)
{
	if (found < 0)
		return -1;
	if (op == USERS_ADD && found) {
		set_err(err, errlen, "user %s exists", key);
		return -1;
	}
	if (op != USERS_ADD && !found) {
		set_err(err, errlen, "no user %s", key);
		return -1;
	}
	return 0;
}

/* Under the table lock: look, decide, rewrite, rebuild. */
static int
users_edit(const struct config *cfg, enum users_op op, const char *key,
    const char *hash, char *err, size_t errlen)
{
	struct finder f = { .key = key, .value = BUF_INIT };
	char *line = NULL;
	int lockfd, rc = -1;

	if ((lockfd = table_lock(cfg->users_table, err, errlen)) < 0)
		return -1;
	if (op_check(op, key, users_find(cfg, &f, err, errlen), err,
	    errlen) == 0) {
		if (op != USERS_DELETE)
			line = entry_line(key, hash,
			    op == USERS_REPLACE ? buf_cstr(&f.value) : NULL);
		rc = users_rewrite(cfg, key, line, err, errlen);
	}
	table_unlock(lockfd);
	free(line);
	buf_free(&f.value);
	return rc;
}

static int
users_change(const struct config *cfg, enum users_op op, const char *addr,
    const char *password, char *err, size_t errlen)
{
	char key[USERS_ADDR_MAX + 1], hash[USERS_HASH_MAX];

	if (users_canonical(addr, key, sizeof key) < 0) {
		set_err(err, errlen, "invalid address '%s'", addr);
		return -1;
	}
	if (password != NULL && (password[0] == '\0' ||
	    strlen(password) > USERS_PASSWORD_MAX)) {
		set_err(err, errlen, "the password must be 1 to %d bytes",
		    USERS_PASSWORD_MAX);
		return -1;
	}
	if (password != NULL && users_hash_password(password, hash,
	    sizeof hash, err, errlen) < 0)
		return -1;
	return users_edit(cfg, op, key, password ? hash : NULL, err, errlen);
}

int
users_add_user(const struct config *cfg, const char *addr,
    const char *password, char *err, size_t errlen)
{
	return users_change(cfg, USERS_ADD, addr, password, err, errlen);
}

int
users_set_password(const struct config *cfg, const char *addr,
    const char *password, char *err, size_t errlen)
{
	return users_change(cfg, USERS_REPLACE, addr, password, err, errlen);
}

int
users_delete(const struct config *cfg, const char *addr, char *err,
    size_t errlen)
{
	return users_change(cfg, USERS_DELETE, addr, NULL, err, errlen);
}

int
users_exists(const struct config *cfg, const char *addr, char *err,
    size_t errlen)
{
	char key[USERS_ADDR_MAX + 1];
	struct finder f = { .key = key, .value = BUF_INIT };
	int rc;

	if (users_canonical(addr, key, sizeof key) < 0)
		return 0;
	rc = users_find(cfg, &f, err, errlen);
	buf_free(&f.value);
	return rc;
}

static int
list_entry(const char *key, const char *value, unsigned line, void *arg)
{
	(void)value;
	(void)line;
	if (key[0] != '@')
		fprintf(arg, "%s\n", key);
	return 0;
}

int
users_list(const struct config *cfg, FILE *out, char *err, size_t errlen)
{
	if (access(cfg->users_table, F_OK) < 0 && errno == ENOENT)
		return 0;
	return table_parse(cfg->users_table, TABLE_FOLD_DOMAIN, list_entry,
	    out, err, errlen);
}
