/*
 * cli_queue - `postern queue list|cat`: look at the queue.
 *
 * SYNOPSIS
 *	postern queue list
 *	postern queue cat ID
 *
 * DESCRIPTION
 *	Both read the spool directly (cfg->spool_dir), so they work whether
 *	or not the suite is running; run them as root or as the queue's
 *	owner.  They only read: nothing is locked, moved or changed.
 *
 *	list prints the messages in incoming/, active/, deferred/ and hold/
 *	the way mailq does, oldest first:
 *
 *	-Queue ID-      --Size-- ----Arrival Time---- -Sender/Recipient-------
 *	0660D68B8C61CA*     1834 Sat Nov 22 05:03:00  joe@example.org
 *	                                              (451 4.2.2 mailbox full)
 *	                                              ann@example.com
 *
 *	A '*' after the id marks a message in active/ (being delivered), a
 *	'!' one in hold/.  Only recipients still pending (or bounced, with
 *	no notice sent yet) are shown, each after its last reply when it has
 *	been tried.  A file that cannot be read shows its reason instead.
 *
 *	cat prints one message: which directory it is in, its header with
 *	times, sizes and recipient states spelled out, then the message as
 *	it will be delivered.  It also finds files in corrupt/, which it
 *	shows as they are (the exit status is then 1).
 *
 *	The queue changes while we look: a file that moves between two
 *	directories during `list` is shown once (or, rarely, missed); one
 *	that is gone is skipped.
 *
 * DIAGNOSTICS
 *	Exit status 0, 1 when the spool cannot be read or the message is not
 *	found or malformed, 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/queue_file.h"
#include "common/queue_id.h"
#include "master/cli.h"

/* Where messages live, and the mark `list` puts after their id. */
static const struct queue_dir {
	const char *name;
	char mark;
	int listed;
} queue_dirs[] = {
	{ "incoming", ' ', 1 },
	{ "active", '*', 1 },
	{ "deferred", ' ', 1 },
	{ "hold", '!', 1 },
	{ "corrupt", '#', 0 },
};

#define NQUEUE_DIRS (sizeof queue_dirs / sizeof queue_dirs[0])
#define LIST_INDENT 46

struct listed {
	char id[QUEUE_ID_LEN + 1];
	const struct queue_dir *dir;
};

static int
queue_usage(void)
{
	fprintf(stderr, "usage: postern queue list\n"
	    "       postern queue cat ID\n");
	return 2;
}

static int
queue_open_spool(const struct config *cfg)
{
	int fd = open(cfg->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "postern: cannot open the spool %s: %s\n",
		    cfg->spool_dir, strerror(errno));
	return fd;
}

/* ---------------------------------------------------------------- */
/* queue list                                                        */

static int
listed_cmp(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	return strcmp(x->id, y->id);
}

/* Appends the queue ids of one directory to *out. */
static int
queue_collect(int spool, const struct queue_dir *dir, struct listed **out,
    size_t *n, size_t *cap)
{
	int fd = openat(spool, dir->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		fprintf(stderr, "postern: cannot read %s/: %s\n", dir->name,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!queue_id_valid(e->d_name))
			continue;
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*out = xrealloc(*out, *cap * sizeof **out);
		}
		memcpy((*out)[*n].id, e->d_name, QUEUE_ID_LEN + 1);
		(*out)[(*n)++].dir = dir;
	}
	closedir(d);
	return 0;
}

static void
list_recipients(const struct queue_envelope *env)
{
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct queue_rcpt *r = &env->rcpt[i];
		if (r->status != RCPT_PENDING && r->status != RCPT_BOUNCED)
			continue;
		if (r->status == RCPT_BOUNCED)
			printf("%*s(bounced: %s)\n", LIST_INDENT, "", r->reason);
		else if (r->attempts > 0 && r->reason[0])
			printf("%*s(%s)\n", LIST_INDENT, "", r->reason);
		printf("%*s%s\n", LIST_INDENT, "", r->addr);
	}
}

/* Prints one message from its open file; returns its size. */
static long long
list_one(int fd, const struct listed *m)
{
	char err[256], when[32], idmark[QUEUE_ID_LEN + 2];
	struct queue_envelope env;
	struct arena *a = arena_new();
	long long size = 0;

	snprintf(idmark, sizeof idmark, "%s%c", m->id, m->dir->mark);
	if (queue_file_read(fd, a, &env, err, sizeof err) < 0) {
		printf("%-15s (unreadable in %s/: %s)\n\n", idmark, m->dir->name,
		    err);
	} else {
		strftime(when, sizeof when, "%a %b %e %H:%M:%S",
		    localtime(&env.arrival));
		printf("%-15s %8lld %-20s %s\n", idmark, (long long)env.body_size,
		    when, env.sender[0] ? env.sender : "MAILER-DAEMON");
		list_recipients(&env);
		printf("\n");
		size = (long long)env.body_size;
	}
	arena_free(a);
	return size;
}

static int
list_open(int spool, const struct listed *m)
{
	char path[64];

	snprintf(path, sizeof path, "%s/%s", m->dir->name, m->id);
	return openat(spool, path, O_RDONLY | O_CLOEXEC);
}

static int
queue_list(const struct config *cfg)
{
	struct listed *all = NULL;
	size_t n = 0, cap = 0, shown = 0;
	long long bytes = 0;
	int spool = queue_open_spool(cfg), rc = 0;

	if (spool < 0)
		return 1;
	for (size_t i = 0; i < NQUEUE_DIRS; i++)
		if (queue_dirs[i].listed &&
		    queue_collect(spool, &queue_dirs[i], &all, &n, &cap) < 0)
			rc = 1;
	if (n)
		qsort(all, n, sizeof *all, listed_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(all[i].id, all[i - 1].id) == 0)
			continue;	/* moved between two readdirs */
		int fd = list_open(spool, &all[i]);
		if (fd < 0)
			continue;	/* delivered meanwhile */
		if (shown++ == 0)
			printf("%-15s %8s %-20s %s\n", "-Queue ID-", "--Size--",
			    "----Arrival Time----", "-Sender/Recipient-------");
		bytes += list_one(fd, &all[i]);
		close(fd);
	}
	if (shown == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %lld Kbytes in %zu Request%s.\n", (bytes + 1023) / 1024,
		    shown, shown == 1 ? "" : "s");
	free(all);
	close(spool);
	return rc;
}

/* ---------------------------------------------------------------- */
/* queue cat                                                         */

static void
format_time(time_t t, char *out, size_t len)
{
	strftime(out, len, "%a, %d %b %Y %H:%M:%S %z", localtime(&t));
}

static void
cat_status(const struct queue_rcpt *r)
{
	char when[64];
	const char *state = r->status == RCPT_DELIVERED ? "delivered" :
	    r->status == RCPT_BOUNCED ? "bounced" :
	    r->status == RCPT_NOTIFIED ? "bounced, sender notified" :
	    r->attempts ? "deferred" : "pending";

	if (r->attempts == 0) {
		printf("status: %s, not tried yet%s%s\n", state,
		    r->reason[0] ? ": " : "", r->reason);
		return;
	}
	format_time(r->last_attempt, when, sizeof when);
	printf("status: %s, %d attempt%s, last %s%s%s\n", state, r->attempts,
	    r->attempts == 1 ? "" : "s", when, r->reason[0] ? ": " : "",
	    r->reason);
}

/* One header line; status lines come from the parsed recipients. */
static void
cat_line(const char *line, const struct queue_envelope *env, size_t *rcpt)
{
	char when[64];

	if (strncmp(line, "status: ", 8) == 0 && *rcpt < env->nrcpt) {
		cat_status(&env->rcpt[(*rcpt)++]);
	} else if (strncmp(line, "arrival: ", 9) == 0) {
		format_time(env->arrival, when, sizeof when);
		printf("arrival: %lld (%s)\n", (long long)env->arrival, when);
	} else if (strncmp(line, "size: ", 6) == 0) {
		printf("size: %lld\n", (long long)env->body_size);
	} else {
		printf("%s\n", line);
	}
}

static int
cat_header(int fd, const struct queue_envelope *env)
{
	size_t len = (size_t)env->body_offset, rcpt = 0;
	char *hdr = xmalloc(len + 1), *line, *save = NULL;

	if (pread(fd, hdr, len, 0) != (ssize_t)len) {
		free(hdr);
		return -1;
	}
	hdr[len] = '\0';
	for (line = strtok_r(hdr, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		cat_line(line, env, &rcpt);
	free(hdr);
	return 0;
}

/* Copies the file from off to the end onto stdout. */
static int
cat_copy(int fd, off_t off)
{
	char chunk[65536];
	ssize_t n;

	fflush(stdout);
	while ((n = pread(fd, chunk, sizeof chunk, off)) > 0) {
		if (fwrite(chunk, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
		off += n;
	}
	return n < 0 ? -1 : fflush(stdout);
}

/* Opens ID in whichever directory has it. */
static int
cat_find(int spool, const char *id, const struct queue_dir **where)
{
	char path[64];

	for (size_t i = 0; i < NQUEUE_DIRS; i++) {
		snprintf(path, sizeof path, "%s/%s", queue_dirs[i].name, id);
		int fd = openat(spool, path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*where = &queue_dirs[i];
			return fd;
		}
		if (errno != ENOENT) {
			fprintf(stderr, "postern: %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	fprintf(stderr, "postern: no message %s in the queue\n", id);
	return -1;
}

static int
queue_cat(const struct config *cfg, const char *id)
{
	const struct queue_dir *where;
	struct queue_envelope env;
	struct arena *a;
	char err[256];
	int spool, fd, rc = 1;

	if (!queue_id_valid(id)) {
		fprintf(stderr, "postern: '%s' is not a queue id\n", id);
		return 2;
	}
	if ((spool = queue_open_spool(cfg)) < 0)
		return 1;
	if ((fd = cat_find(spool, id, &where)) < 0) {
		close(spool);
		return 1;
	}
	a = arena_new();
	printf("queue: %s\n", where->name);
	if (queue_file_read(fd, a, &env, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s/%s is malformed (%s); shown as is\n",
		    where->name, id, err);
		cat_copy(fd, 0);
	} else if (cat_header(fd, &env) < 0 || cat_copy(fd, env.body_offset) < 0) {
		fprintf(stderr, "postern: %s/%s: %s\n", where->name, id,
		    strerror(errno));
	} else {
		rc = 0;
	}
	arena_free(a);
	close(fd);
	close(spool);
	return rc;
}

int
cli_queue(struct config *cfg, int argc, char **argv)
{
	int rc;

	if (argc == 1 && strcmp(argv[0], "list") == 0)
		rc = queue_list(cfg);
	else if (argc == 2 && strcmp(argv[0], "cat") == 0)
		rc = queue_cat(cfg, argv[1]);
	else
		return queue_usage();
	/* Output that did not get out (a full disk, a closed pipe) is a
	 * failure, not a short listing. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "postern: writing the output: %s\n",
		    strerror(errno));
		return 1;
	}
	return rc;
}
