/*
 * table - see table.h for the manual.
 *
 * The parser streams the text file line by line and hands each complete
 * entry to a callback, so building a 100,000-entry table holds one entry
 * in memory, not the file.  The builder's callback puts entries into one
 * LMDB write transaction; the environment is opened with MDB_NOSYNC and
 * synced once at the end (one fsync instead of one per commit).
 *
 * The map size is estimated from the text size with a wide margin (an
 * entry costs at most its bytes plus a node header, pages are at least
 * half full, and every key may add one "@DOMAIN" key).  Should the
 * estimate still be short, the build starts over with twice the map:
 * a reader maps the size recorded in the file, which is address space,
 * not memory, and the file itself only grows by the pages written.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "common/mem.h"
#include "common/table.h"

#define TABLE_MAP_MIN	(16u << 20)
#define TABLE_MAP_RATIO	64

enum { BUILD_OK = 0, BUILD_FAIL = -1, BUILD_MAP_FULL = -2 };

struct parser {
	FILE *fp;
	const char *name;
	int flags;
	table_entry_cb cb;
	void *arg;
	unsigned lineno;
	unsigned entry_line;	/* 0: no entry pending */
	struct buf key, value;
	char *err;
	size_t errlen;
};

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

void
table_fold_domain(char *key)
{
	char *at = strrchr(key, '@');

	if (at == NULL)
		return;
	for (char *p = at + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Hands the pending entry, if any, to the callback. */
static int
parser_flush(struct parser *p)
{
	if (p->entry_line == 0)
		return 0;
	unsigned line = p->entry_line;
	p->entry_line = 0;
	return p->cb(buf_cstr(&p->key), buf_cstr(&p->value), line, p->arg);
}

static void
append_trimmed(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	while (is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	buf_append(b, s, n);
}

static int
parser_bad(struct parser *p, const char *why)
{
	set_err(p->err, p->errlen, "%s:%u: %s", p->name, p->lineno, why);
	return -1;
}

static int
parser_start_entry(struct parser *p, const char *line)
{
	size_t klen = strcspn(line, " \t");

	if (klen > TABLE_KEY_MAX)
		return parser_bad(p, "key longer than 511 bytes");
	for (size_t i = 0; i < klen; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return parser_bad(p, "control character in key");
	if (parser_flush(p) < 0)
		return -1;
	buf_reset(&p->key);
	buf_reset(&p->value);
	buf_append(&p->key, line, klen);
	if (p->flags & TABLE_FOLD_DOMAIN)
		table_fold_domain(p->key.data);
	append_trimmed(&p->value, line + klen);
	p->entry_line = p->lineno;
	return 0;
}

static int
parser_line(struct parser *p, char *line, size_t len)
{
	if (memchr(line, '\0', len) != NULL)
		return parser_bad(p, "NUL byte in line");
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	const char *s = line;
	while (is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	if (s == line)
		return parser_start_entry(p, line);
	if (p->entry_line == 0)
		return parser_bad(p, "continuation line without an entry");
	if (p->value.len > 0)
		buf_putc(&p->value, ' ');
	append_trimmed(&p->value, s);
	return 0;
}

static int
parse_stream(struct parser *p)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	errno = 0;
	while (rc == 0 && (n = getline(&line, &cap, p->fp)) >= 0) {
		p->lineno++;
		rc = parser_line(p, line, (size_t)n);
	}
	if (rc == 0 && ferror(p->fp)) {
		set_err(p->err, p->errlen, "%s: read: %s", p->name, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = parser_flush(p);
	free(line);
	return rc;
}

static int
parse_named(const char *path, const char *name, int flags, table_entry_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct parser p = {
		.name = name, .flags = flags, .cb = cb, .arg = arg,
		.key = BUF_INIT, .value = BUF_INIT, .err = err, .errlen = errlen,
	};
	int rc;

	p.fp = fopen(path, "re");
	if (p.fp == NULL) {
		set_err(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	rc = parse_stream(&p);
	fclose(p.fp);
	buf_free(&p.key);
	buf_free(&p.value);
	return rc;
}

int
table_parse(const char *path, int flags, table_entry_cb cb, void *arg,
    char *err, size_t errlen)
{
	return parse_named(path, path, flags, cb, arg, err, errlen);
}

/* Building. */

struct writer {
	MDB_txn *txn;
	MDB_dbi dbi;
	int flags;
	const char *name;
	int map_full;
	char *err;
	size_t errlen;
};

static int
writer_fail(struct writer *w, const char *key, unsigned line, int rc)
{
	if (rc == MDB_MAP_FULL)
		w->map_full = 1;
	if (rc == MDB_KEYEXIST)
		set_err(w->err, w->errlen, "%s:%u: duplicate key '%s'",
		    w->name, line, key);
	else
		set_err(w->err, w->errlen, "%s:%u: %s", w->name, line,
		    mdb_strerror(rc));
	return -1;
}

static int
writer_put(struct writer *w, const char *key, const char *value,
    unsigned line, unsigned put_flags)
{
	MDB_val k = { strlen(key), (void *)key };
	MDB_val v = { strlen(value), (void *)value };
	int rc = mdb_put(w->txn, w->dbi, &k, &v, put_flags);

	return rc == 0 ? 0 : writer_fail(w, key, line, rc);
}

/* "@DOMAIN" for a key with a non-empty domain; any copy will do. */
static int
writer_put_domain(struct writer *w, const char *key, unsigned line)
{
	const char *at = strrchr(key, '@');

	if (at == NULL || at == key || at[1] == '\0')
		return 0;
	MDB_val k = { strlen(at), (void *)at };
	MDB_val v = { 0, (void *)"" };
	int rc = mdb_put(w->txn, w->dbi, &k, &v, MDB_NOOVERWRITE);
	if (rc == 0 || rc == MDB_KEYEXIST)
		return 0;
	return writer_fail(w, at, line, rc);
}

static int
writer_entry(const char *key, const char *value, unsigned line, void *arg)
{
	struct writer *w = arg;
	unsigned put_flags = MDB_NOOVERWRITE;

	/* An explicit "@DOMAIN" line may meet the copy derived from a user. */
	if ((w->flags & TABLE_DOMAIN_KEYS) && key[0] == '@')
		put_flags = 0;
	if (writer_put(w, key, value, line, put_flags) < 0)
		return -1;
	if (w->flags & TABLE_DOMAIN_KEYS)
		return writer_put_domain(w, key, line);
	return 0;
}

static int
lmdb_fail(int rc, const char *what, const char *path, char *err, size_t errlen)
{
	set_err(err, errlen, "%s: %s: %s", path, what, mdb_strerror(rc));
	return rc == MDB_MAP_FULL ? BUILD_MAP_FULL : BUILD_FAIL;
}

/* Owner and mode first, so the final sync makes them durable too. */
static int
env_finish(MDB_env *env, const char *tmp, const struct table_build_opts *o,
    char *err, size_t errlen)
{
	int fd, rc;

	if ((rc = mdb_env_get_fd(env, &fd)) != 0)
		return lmdb_fail(rc, "get fd", tmp, err, errlen);
	if (o->uid != (uid_t)-1 && fchown(fd, o->uid, o->gid) < 0) {
		set_err(err, errlen, "%s: chown: %s", tmp, strerror(errno));
		return BUILD_FAIL;
	}
	if (fchmod(fd, o->mode) < 0) {
		set_err(err, errlen, "%s: chmod: %s", tmp, strerror(errno));
		return BUILD_FAIL;
	}
	if ((rc = mdb_env_sync(env, 1)) != 0)
		return lmdb_fail(rc, "sync", tmp, err, errlen);
	return BUILD_OK;
}

static int
fill_txn(MDB_env *env, const char *text, const char *tmp,
    const struct table_build_opts *o, char *err, size_t errlen)
{
	struct writer w = { .flags = o->flags, .name = o->name ? o->name : text,
	    .err = err, .errlen = errlen };
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &w.txn)) != 0)
		return lmdb_fail(rc, "begin", tmp, err, errlen);
	if ((rc = mdb_dbi_open(w.txn, NULL, 0, &w.dbi)) != 0) {
		mdb_txn_abort(w.txn);
		return lmdb_fail(rc, "open", tmp, err, errlen);
	}
	if (parse_named(text, w.name, o->flags, writer_entry, &w, err,
	    errlen) < 0) {
		mdb_txn_abort(w.txn);
		return w.map_full ? BUILD_MAP_FULL : BUILD_FAIL;
	}
	if ((rc = mdb_txn_commit(w.txn)) != 0)
		return lmdb_fail(rc, "commit", tmp, err, errlen);
	return BUILD_OK;
}

static int
compile_once(const char *text, const char *tmp, const struct table_build_opts *o,
    size_t mapsize, char *err, size_t errlen)
{
	MDB_env *env;
	int rc;

	if (unlink(tmp) < 0 && errno != ENOENT) {
		set_err(err, errlen, "%s: unlink: %s", tmp, strerror(errno));
		return BUILD_FAIL;
	}
	if ((rc = mdb_env_create(&env)) != 0)
		return lmdb_fail(rc, "create", tmp, err, errlen);
	if ((rc = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC,
	    0600)) != 0)
		rc = lmdb_fail(rc, "open", tmp, err, errlen);
	else if ((rc = fill_txn(env, text, tmp, o, err, errlen)) == BUILD_OK)
		rc = env_finish(env, tmp, o, err, errlen);
	mdb_env_close(env);
	if (rc != BUILD_OK)
		unlink(tmp);
	return rc;
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static int
fsync_dir_of(const char *path, char *err, size_t errlen)
{
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0) {
		set_err(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

int
table_lock(const char *path, char *err, size_t errlen)
{
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		set_err(err, errlen, "%s: lock: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(dir);
	return fd;
}

void
table_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);	/* releases the flock */
}

static int
compile_and_rename(const char *text, const char *lmdb,
    const struct table_build_opts *o, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.tmp", lmdb);
	struct stat st;
	size_t mapsize;
	int rc;

	if (stat(text, &st) < 0) {
		set_err(err, errlen, "%s: %s", o->name ? o->name : text,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	mapsize = TABLE_MAP_MIN + (size_t)st.st_size * TABLE_MAP_RATIO;
	while ((rc = compile_once(text, tmp, o, mapsize, err, errlen)) ==
	    BUILD_MAP_FULL)
		mapsize *= 2;
	if (rc == BUILD_OK && rename(tmp, lmdb) < 0) {
		set_err(err, errlen, "rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		rc = BUILD_FAIL;
	}
	if (rc == BUILD_OK && fsync_dir_of(lmdb, err, errlen) < 0)
		rc = BUILD_FAIL;
	free(tmp);
	return rc == BUILD_OK ? 0 : -1;
}

int
table_compile(const char *text_path, const char *lmdb_path,
    const struct table_build_opts *opts, char *err, size_t errlen)
{
	static const struct table_build_opts defaults = TABLE_BUILD_OPTS_INIT;
	const struct table_build_opts *o = opts ? opts : &defaults;
	int lockfd = -1, rc;

	if (!(o->flags & TABLE_CALLER_LOCKED) &&
	    (lockfd = table_lock(lmdb_path, err, errlen)) < 0)
		return -1;
	rc = compile_and_rename(text_path, lmdb_path, o, err, errlen);
	table_unlock(lockfd);
	return rc;
}

int
table_build(const char *path, const struct table_build_opts *opts,
    char *err, size_t errlen)
{
	char *lmdb = xasprintf("%s.lmdb", path);
	int rc = table_compile(path, lmdb, opts, err, errlen);

	free(lmdb);
	return rc;
}

/* Reading. */

struct table {
	char *path;
	int flags;
	MDB_env *env;
	MDB_dbi dbi;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
};

struct table *
table_open(const char *lmdb_path, int flags)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->path = xstrdup(lmdb_path);
	t->flags = flags;
	return t;
}

static void
table_drop_env(struct table *t)
{
	if (t->env != NULL)
		mdb_env_close(t->env);
	t->env = NULL;
}

/* Records what was actually opened (fstat, not the earlier stat), so a
 * rename between the two only costs one more reopen. */
static int
table_remember(struct table *t, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mdb_env_get_fd(t->env, &fd) != 0 || fstat(fd, &st) < 0) {
		set_err(err, errlen, "%s: fstat: %s", t->path, strerror(errno));
		return -1;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->mtime = st.st_mtim;
	return 0;
}

static int
table_reopen(struct table *t, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	table_drop_env(t);
	if ((rc = mdb_env_create(&t->env)) != 0) {
		t->env = NULL;
		set_err(err, errlen, "%s: %s", t->path, mdb_strerror(rc));
		return -1;
	}
	rc = mdb_env_open(t->env, t->path, MDB_RDONLY | MDB_NOSUBDIR |
	    MDB_NOLOCK, 0);
	if (rc == 0 && (rc = mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn)) == 0) {
		rc = mdb_dbi_open(txn, NULL, 0, &t->dbi);
		mdb_txn_abort(txn);
	}
	if (rc != 0) {
		set_err(err, errlen, "%s: %s", t->path, mdb_strerror(rc));
		table_drop_env(t);
		return -1;
	}
	if (table_remember(t, err, errlen) < 0) {
		table_drop_env(t);
		return -1;
	}
	return 0;
}

static int
table_changed(const struct table *t, const struct stat *st)
{
	return t->env == NULL || st->st_dev != t->dev || st->st_ino != t->ino ||
	    st->st_mtim.tv_sec != t->mtime.tv_sec ||
	    st->st_mtim.tv_nsec != t->mtime.tv_nsec;
}

static int
table_fresh(struct table *t, char *err, size_t errlen)
{
	struct stat st;

	if (stat(t->path, &st) < 0) {
		set_err(err, errlen, "%s: %s", t->path, strerror(errno));
		table_drop_env(t);
		return -1;
	}
	if (table_changed(t, &st))
		return table_reopen(t, err, errlen);
	return 0;
}

int
table_get(struct table *t, const char *key, struct buf *value,
    char *err, size_t errlen)
{
	char k[TABLE_KEY_MAX + 1];
	size_t klen = strlen(key);
	MDB_txn *txn;
	MDB_val kv, vv;
	int rc;

	if (table_fresh(t, err, errlen) < 0)
		return -1;
	if (klen == 0 || klen > TABLE_KEY_MAX)
		return 0;	/* such a key cannot have been stored */
	memcpy(k, key, klen + 1);
	if (t->flags & TABLE_FOLD_DOMAIN)
		table_fold_domain(k);
	if ((rc = mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn)) != 0) {
		set_err(err, errlen, "%s: %s", t->path, mdb_strerror(rc));
		return -1;
	}
	kv.mv_size = klen;
	kv.mv_data = k;
	rc = mdb_get(txn, t->dbi, &kv, &vv);
	if (rc == 0) {
		buf_reset(value);
		buf_append(value, vv.mv_data, vv.mv_size);
	} else if (rc != MDB_NOTFOUND) {
		set_err(err, errlen, "%s: %s", t->path, mdb_strerror(rc));
	}
	mdb_txn_abort(txn);
	return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : -1;
}

void
table_close(struct table *t)
{
	if (t == NULL)
		return;
	table_drop_env(t);
	free(t->path);
	free(t);
}
