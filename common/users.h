/*
 * users - the users table: who may log in, and which domains are local.
 *
 * SYNOPSIS
 *	`postern user` (and `postern dev` for demo@localhost):
 *	users_add_user(cfg, "joe@example.org", "secret", err, sizeof err);
 *	users_set_password(cfg, "joe@example.org", "new", err, sizeof err);
 *	users_delete(cfg, "joe@example.org", err, sizeof err);
 *	users_list(cfg, stdout, err, sizeof err);
 *
 *	The lookup agent:
 *	users_canonical("Joe@Example.ORG", out, sizeof out);  // "Joe@example.org"
 *	users_password_ok(password, stored_hash);	// 1 or 0, constant time
 *
 * DESCRIPTION
 *	cfg->users_table is a text table (table.h) with one line per user:
 *
 *		joe@example.org  $y$j9T$...  [key=value ...]
 *
 *	The value's first word is a crypt(3) hash, so hashes from Dovecot or
 *	/etc/shadow can be pasted in as they are; new ones are yescrypt
 *	("$y$"), or SHA-512 ("$6$") where libcrypt lacks yescrypt.  The rest
 *	of the value is kept as it is, for settings added later.
 *
 *	It is compiled into cfg->users_table + ".lmdb" with TABLE_FOLD_DOMAIN
 *	(the domain part is case-insensitive) and TABLE_DOMAIN_KEYS: every
 *	domain with a user gets an "@DOMAIN" key, which is how the lookup
 *	agent tells a local domain from a remote one.  Adding the first user
 *	of a domain therefore makes the domain local.
 *
 *	Every edit holds the table's lock, writes the new text to a temporary
 *	file, compiles that into the .lmdb (so a malformed hand edit elsewhere
 *	in the file refuses the change and leaves both files alone), then
 *	renames the text into place; both renames are fsynced.  Run as root,
 *	both files are given to cfg->lookup_user, the only reader of hashes:
 *	the text 0640, the .lmdb 0600.
 *
 *	An address is accepted when it has a non-empty local part and domain,
 *	no blank, control character or '/', and neither part starts with
 *	'.', because the lookup agent turns it into the Maildir path
 *	"DOMAIN/LOCAL" that must stay inside the mail root.
 *
 * DIAGNOSTICS
 *	Each function returns 0, or -1 with a message in err ("user
 *	joe@example.org exists", "users:7: duplicate key ...").
 */
#ifndef POSTERN_USERS_H
#define POSTERN_USERS_H

#include <stddef.h>
#include <stdio.h>

#include "common/config.h"

#define USERS_ADDR_MAX		254	/* RFC 5321 path minus the brackets */
#define USERS_PASSWORD_MAX	1024
#define USERS_HASH_MAX		512

int users_add_user(const struct config *cfg, const char *addr,
    const char *password, char *err, size_t errlen);
int users_set_password(const struct config *cfg, const char *addr,
    const char *password, char *err, size_t errlen);
int users_delete(const struct config *cfg, const char *addr,
    char *err, size_t errlen);
/* One address per line, in file order. */
int users_list(const struct config *cfg, FILE *out, char *err, size_t errlen);
/* 1 if the table has addr (already canonical or not), 0 if not, -1 error. */
int users_exists(const struct config *cfg, const char *addr,
    char *err, size_t errlen);

/* Validates addr and writes it with the domain lower-cased; -1 if bad. */
int users_canonical(const char *addr, char *out, size_t outlen);
/* A new crypt(3) hash of password; -1 with err if libcrypt fails. */
int users_hash_password(const char *password, char *out, size_t outlen,
    char *err, size_t errlen);
/* 1 if password matches hash (constant-time compare), else 0. */
int users_password_ok(const char *password, const char *hash);

#endif
