/*
 * table - lookup tables: text files compiled into LMDB, read without restart.
 *
 * SYNOPSIS
 *	Building (`postern map build`, `postern user ...`):
 *	struct table_build_opts o = TABLE_BUILD_OPTS_INIT;
 *	if (table_build("/etc/postern/domains", &o, err, sizeof err) < 0)
 *		...err is "/etc/postern/domains:12: no key"; the old table stays...
 *
 *	Reading (the lookup agent only):
 *	struct table *t = table_open("users.lmdb", TABLE_FOLD_DOMAIN);
 *	struct buf v = BUF_INIT;
 *	switch (table_get(t, "joe@example.org", &v, err, sizeof err)) {
 *	case 1:  ...found, v holds the value...
 *	case 0:  ...no such key...
 *	case -1: ...table unreadable: answer "temporary failure"...
 *	}
 *
 * DESCRIPTION
 *	The text format: one entry per line, `KEY  VALUE`, the key ending at
 *	the first blank.  A line whose first non-blank character is `#` is a
 *	comment; blank lines are ignored.  A line that starts with a blank
 *	continues the previous entry's value (joined with one space), like
 *	Postfix's tables, so long values stay readable.  The value may be
 *	empty (a plain list of domains).  A key is at most TABLE_KEY_MAX bytes
 *	(LMDB's limit) and holds no control characters; a key may appear once.
 *
 *	table_build(PATH) compiles PATH into PATH.lmdb atomically: a new LMDB
 *	environment (one file, MDB_NOSUBDIR) is written as PATH.lmdb.tmp,
 *	fsynced, then renamed over PATH.lmdb and the directory fsynced.
 *	Readers holding the old file keep a consistent view of it until they
 *	notice the new one; nobody ever sees a half-built table.  Builders are
 *	serialised by an flock() on the table's directory (table_lock());
 *	a caller that already holds it says so with TABLE_CALLER_LOCKED.
 *	table_compile() is the same with the source and destination named
 *	separately, so a caller can validate a candidate text file before it
 *	replaces the real one.
 *
 *	Flags:
 *	TABLE_FOLD_DOMAIN	keys are addresses: the part after the last
 *				`@` is lower-cased when built and when looked
 *				up (domains are case-insensitive, local parts
 *				are not: RFC 5321 section 2.4).
 *	TABLE_DOMAIN_KEYS	for every key with a domain, also store the key
 *				"@DOMAIN" (empty value), so that one lookup
 *				tells whether a domain has any entry at all.
 *
 *	table_open() opens read-only (MDB_RDONLY | MDB_NOLOCK: writers never
 *	touch a file readers have, they replace it by rename).  Before every
 *	lookup table_get() compares the path's inode and mtime with the open
 *	file's, and reopens when they differ, so a rebuilt table is seen at
 *	once without a restart.  table_open() itself never fails: a missing
 *	table makes each table_get() return -1 until it appears.
 *
 * DIAGNOSTICS
 *	table_build() returns -1 with "FILE:LINE: reason" for a malformed
 *	line, or a system error with the file name; in every failure case the
 *	previous PATH.lmdb is left as it was and the temporary file removed.
 *	table_get() returns -1 with a reason when the table cannot be opened
 *	or read; the caller decides how loudly to log it.
 */
#ifndef POSTERN_TABLE_H
#define POSTERN_TABLE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

#define TABLE_KEY_MAX		511	/* LMDB's default MDB_MAXKEYSIZE */

#define TABLE_FOLD_DOMAIN	0x01
#define TABLE_DOMAIN_KEYS	0x02
#define TABLE_CALLER_LOCKED	0x04	/* table_build: caller holds table_lock() */

struct table_build_opts {
	int flags;
	mode_t mode;		/* of the .lmdb file */
	uid_t uid;		/* (uid_t)-1: leave the owner alone */
	gid_t gid;
	const char *name;	/* source name in messages; NULL: its path */
};

#define TABLE_BUILD_OPTS_INIT { 0, 0644, (uid_t)-1, (gid_t)-1, NULL }

/* One parsed entry; strings valid only during the callback. */
typedef int (*table_entry_cb)(const char *key, const char *value,
    unsigned line, void *arg);

/* Parses a text table, calling cb per entry (keys folded per flags).  A
 * callback returning -1 stops the parse; it then owns the message in err. */
int table_parse(const char *path, int flags, table_entry_cb cb, void *arg,
    char *err, size_t errlen);

int table_build(const char *path, const struct table_build_opts *opts,
    char *err, size_t errlen);
int table_compile(const char *text_path, const char *lmdb_path,
    const struct table_build_opts *opts, char *err, size_t errlen);

/* flock() on the directory holding path; returns the fd to unlock, or -1. */
int table_lock(const char *path, char *err, size_t errlen);
void table_unlock(int lockfd);

/* Lower-cases the domain part (after the last '@') in place. */
void table_fold_domain(char *key);

struct table;

struct table *table_open(const char *lmdb_path, int flags);
int table_get(struct table *t, const char *key, struct buf *value,
    char *err, size_t errlen);
void table_close(struct table *t);

#endif
