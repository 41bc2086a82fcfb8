/*
 * cli_user - `postern user add|passwd|del|list`: manage the users table.
 *
 * SYNOPSIS
 *	echo secret | postern user add joe@example.org
 *	echo newer  | postern user passwd joe@example.org
 *	postern user del joe@example.org
 *	postern user list
 *
 * DESCRIPTION
 *	The password is the first line of standard input (a prompt is shown
 *	when that is a terminal; the line is not hidden, so pipe it in where
 *	shoulder-surfing matters).  Edits go through users.h, which rewrites
 *	cfg->users_table and its .lmdb atomically; the lookup agent sees the
 *	change at its next lookup, without a reload.  Adding the first user of
 *	a domain makes that domain local; `add` also makes the domain's
 *	folder in the mail root (mail_domain_prepare(), spool.c), because
 *	local, jailed in a root-owned mail root, cannot.
 *
 * DIAGNOSTICS
 *	Exit status 0 on success, 1 with a message on stderr on failure, 2 on
 *	a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/users.h"
#include "master/cli.h"
#include "master/master.h"

static int
user_usage(void)
{
	fprintf(stderr, "usage: postern user add ADDRESS\n"
	    "       postern user passwd ADDRESS\n"
	    "       postern user del ADDRESS\n"
	    "       postern user list\n"
	    "(add and passwd read the password from standard input)\n");
	return 2;
}

/* One line of stdin, without its line end; NULL at EOF or when too long. */
static char *
read_password(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "Password: ");
	n = getline(&line, &cap, stdin);
	if (n < 0 || (size_t)n > USERS_PASSWORD_MAX + 2) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

typedef int (*user_password_fn)(const struct config *, const char *,
    const char *, char *, size_t);

static int
user_with_password(struct config *cfg, const char *addr, user_password_fn fn,
    const char *done)
{
	char err[512];
	char *password = read_password();
	int rc;

	if (password == NULL) {
		fprintf(stderr, "postern user: no password on standard input\n");
		return 1;
	}
	rc = fn(cfg, addr, password, err, sizeof err);
	explicit_bzero(password, strlen(password));
	free(password);
	if (rc < 0) {
		fprintf(stderr, "postern user: %s\n", err);
		return 1;
	}
	printf("%s %s\n", addr, done);
	return 0;
}

/* The user is in the table either way; without the folder local defers
 * its mail, so say so and fail. */
static int
user_add(struct config *cfg, const char *addr)
{
	int rc = user_with_password(cfg, addr, users_add_user, "added");
	const char *domain = strrchr(addr, '@');

	if (rc != 0 || domain == NULL)
		return rc;
	if (mail_domain_prepare(cfg, domain + 1, geteuid() == 0) < 0) {
		fprintf(stderr, "postern user: the mail folder of %s could not "
		    "be made in %s\n", domain + 1, cfg->mail_root);
		return 1;
	}
	return 0;
}

static int
user_del(struct config *cfg, const char *addr)
{
	char err[512];

	if (users_delete(cfg, addr, err, sizeof err) < 0) {
		fprintf(stderr, "postern user: %s\n", err);
		return 1;
	}
	printf("%s deleted\n", addr);
	return 0;
}

static int
user_list(struct config *cfg)
{
	char err[512];

	if (users_list(cfg, stdout, err, sizeof err) < 0) {
		fprintf(stderr, "postern user: %s\n", err);
		return 1;
	}
	return 0;
}

int
cli_user(struct config *cfg, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "";

	if (strcmp(verb, "list") == 0 && argc == 1)
		return user_list(cfg);
	if (argc != 2)
		return user_usage();
	if (strcmp(verb, "add") == 0)
		return user_add(cfg, argv[1]);
	if (strcmp(verb, "passwd") == 0)
		return user_with_password(cfg, argv[1], users_set_password,
		    "password changed");
	if (strcmp(verb, "del") == 0)
		return user_del(cfg, argv[1]);
	return user_usage();
}
