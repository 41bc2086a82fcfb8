/*
 * enqueue_notify - tell qmgr about each new queue file.
 *
 * SYNOPSIS
 *	enqueue_notify(eq, queue_id);	// after the commit, never before
 *
 * DESCRIPTION
 *	Sends op=queued queue_id=ID on a channel to qmgr, connecting through
 *	the master on first use and again after qmgr went away (it restarts).
 *	The note only saves qmgr the wait for its next scan of incoming/, so
 *	it is sent and forgotten: nothing comes back, and a note lost to a
 *	closed channel costs a few seconds of latency, never a message.
 *
 * DIAGNOSTICS
 *	service_connect() may block for a few seconds when the master cannot
 *	help; after a failure no new attempt is made for NOTIFY_RETRY_SEC, so
 *	a dead qmgr does not slow down every commit.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/attr.h"
#include "common/channel.h"
#include "common/log.h"
#include "qmgr/enqueue.h"

#define NOTIFY_RETRY_SEC 5

static void
notify_on_message(struct channel *ch, struct attr_list *msg, int fd, void *arg)
{
	(void)ch;
	(void)msg;
	(void)arg;
	if (fd >= 0)
		close(fd);	/* qmgr never answers; ignore whatever it says */
}

static void
notify_on_close(struct channel *ch, void *arg)
{
	struct enqueue *eq = arg;

	log_debug("enqueue: channel to qmgr closed");
	eq->qmgr = NULL;
	channel_free(ch);
}

static int
notify_connect(struct enqueue *eq)
{
	time_t now = time(NULL);
	int fd;

	if (now < eq->qmgr_retry_at)
		return -1;
	if ((fd = service_connect("qmgr")) < 0) {
		eq->qmgr_retry_at = now + NOTIFY_RETRY_SEC;
		return -1;
	}
	eq->qmgr = channel_new(eq->base, fd, notify_on_message, notify_on_close,
	    eq);
	return 0;
}

void
enqueue_notify(struct enqueue *eq, const char *queue_id)
{
	struct buf b = BUF_INIT;

	if (eq->qmgr == NULL && notify_connect(eq) < 0)
		return;
	attr_put(&b, "op", "queued");
	attr_put(&b, "queue_id", queue_id);
	channel_send(eq->qmgr, &b, -1);
	buf_free(&b);
}

void
enqueue_notify_close(struct enqueue *eq)
{
	if (eq->qmgr) {
		channel_free(eq->qmgr);
		eq->qmgr = NULL;
	}
}
