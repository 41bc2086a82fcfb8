/*
 * recover - the queue directories as qmgr sees them.
 *
 * SYNOPSIS
 *	recover_all(q);			// once, at start
 *	recover_scan_incoming(q);	// every few seconds
 *	recover_claim(q, id);		// on enqueue's note
 *	recover_corrupt("active", id, why);
 *
 * DESCRIPTION
 *	At start every message in active/ is one whose delivery may have
 *	begun before the previous qmgr (or local) died, so it goes back on
 *	the ready list flagged maybe_delivered: local then looks for its
 *	earlier copy instead of writing a second one.  Everything in
 *	incoming/ is claimed as new, and deferred/ is scanned for what is
 *	due.  Oldest first, because queue ids sort by arrival.
 *
 *	Claiming is the rename incoming/ID -> active/ID.  It is what makes a
 *	message ours, exactly once, whether enqueue's note or the periodic
 *	scan sees it first: the loser gets ENOENT and does nothing.
 *
 *	Renames never replace a file (RENAME_NOREPLACE, or link+unlink where
 *	the file system lacks it): two files with one id is a state to look
 *	at, not to resolve by losing one.  Names that are not queue ids
 *	(temporary files start with a dot) are left alone.
 *
 * DIAGNOSTICS
 *	A rename that fails for any reason but ENOENT or EEXIST means the
 *	spool is broken (read-only, wrong owner): fatal, and the master
 *	restarts us.  A queue file that does not parse is moved to corrupt/
 *	and logged once; it is never deleted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/queue_id.h"
#include "qmgr/qmgr.h"

static int
recover_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
recover_list(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, cap = 0;
	char **names = NULL;

	if (d == NULL)
		fatal("cannot read %s/: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (!queue_id_valid(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, recover_cmp);
	*out = names;
	return n;
}

void
recover_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
recover_rename(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	if (unlink(from) < 0)
		log_warn("cannot remove %s after linking it to %s: %s", from, to,
		    strerror(errno));
	return 0;
}

/* from/ID -> to/ID.  Returns 0, or -1 with errno ENOENT or EEXIST. */
int
recover_move(const char *from, const char *to, const char *id)
{
	char src[64], dst[64];

	snprintf(src, sizeof src, "%s/%s", from, id);
	snprintf(dst, sizeof dst, "%s/%s", to, id);
	if (recover_rename(src, dst) == 0)
		return 0;
	if (errno == ENOENT || errno == EEXIST)
		return -1;
	fatal("cannot move %s to %s/: %s", src, to, strerror(errno));
}

int
recover_claim(struct qmgr *q, const char *id)
{
	if (recover_move("incoming", "active", id) < 0) {
		if (errno == EEXIST)
			log_warn("%s: also in active/; left in incoming/ for a "
			    "person to look at", id);
		return 0;
	}
	schedule_add(q, id, 0);
	return 1;
}

void
recover_scan_incoming(struct qmgr *q)
{
	char **ids;
	size_t n = recover_list("incoming", &ids);

	for (size_t i = 0; i < n; i++)
		recover_claim(q, ids[i]);
	recover_list_free(ids, n);
}

void
recover_corrupt(const char *dir, const char *id, const char *why)
{
	char src[64], dst[96];
	int rc;

	snprintf(src, sizeof src, "%s/%s", dir, id);
	snprintf(dst, sizeof dst, "corrupt/%s", id);
	if ((rc = recover_rename(src, dst)) < 0 && errno == EEXIST) {
		/* An earlier file of that name is there: keep both. */
		snprintf(dst, sizeof dst, "corrupt/%s.%lld", id,
		    (long long)time(NULL));
		rc = recover_rename(src, dst);
	}
	if (rc < 0)
		log_warn("%s: corrupt queue file (%s), and it cannot be moved "
		    "to corrupt/: %s", src, why, strerror(errno));
	else
		log_warn("%s: corrupt queue file moved to %s: %s", id, dst, why);
}

void
recover_all(struct qmgr *q)
{
	char **ids;
	size_t nactive = recover_list("active", &ids), before;

	for (size_t i = 0; i < nactive; i++)
		schedule_add(q, ids[i], 1);
	recover_list_free(ids, nactive);
	before = q->nready;
	recover_scan_incoming(q);
	log_info("recovered %zu messages from active/ (maybe delivered) and "
	    "%zu from incoming/", nactive, q->nready - before);
	schedule_scan_deferred(q);
}
