/*
 * local_request - one op=deliver from qmgr, from request to reply.
 *
 * SYNOPSIS
 *	local_request_start(client, msg, fd);	// fd: the queue file, now ours
 *
 * DESCRIPTION
 *	The request names a queue id and the indexes of the recipients to
 *	deliver (common/proto.h, LOCAL).  The queue file arrives as an open
 *	descriptor; it is read with queue_file_read() and only ever with
 *	pread(), because qmgr holds the same open file and its offset.
 *
 *	Every recipient is looked up (op=user) at once, asynchronously; as
 *	each answer arrives that recipient is delivered (maildir.c) and its
 *	outcome kept.  When the last one is in, a single reply lists
 *	"INDEX STATUS TEXT" per recipient, in request order:
 *	  ok		-> the Maildir write: D 250 or P 451
 *	  notfound	-> B 550 5.1.1 user unknown
 *	  remote	-> P 451: the domain stopped being local since qmgr
 *			   routed it; the retry is routed afresh
 *	  temp, none	-> P 451 4.3.0 (lookup unavailable)
 *	local records nothing in the queue file: that is qmgr's job.
 *
 *	qmgr may go away while a request is in flight; the deliveries still
 *	finish (a Maildir copy half-written helps nobody) and the reply is
 *	dropped.  qmgr will retry with maybe_delivered=1 and find the copies.
 *
 * DIAGNOSTICS
 *	A request without a queue file, with a queue id that does not match
 *	the file, or a file that does not parse is logged and answered with
 *	P for every recipient.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/queue_id.h"
#include "delivery/local.h"

struct local_request;

struct rcpt_job {
	struct local_request *req;
	const char *index_text;	/* as qmgr sent it, echoed in the reply */
	size_t index;
	int valid;
	char status;
	char *text;
};

struct local_request {
	struct local_client *client;
	struct arena *a;
	char *id;
	char *queue_id;
	int fd;
	int maybe_delivered;
	struct queue_envelope env;
	size_t njobs;
	size_t pending;		/* lookups unanswered, +1 while asking */
	struct rcpt_job *jobs;
};

static void
job_set(struct rcpt_job *job, char status, const char *text)
{
	job->status = status;
	job->text = arena_strdup(job->req->a, text);
}

static void
request_reply(struct local_request *req)
{
	struct buf body = BUF_INIT;

	attr_put(&body, "id", req->id);
	attr_put(&body, "queue_id", req->queue_id);
	for (size_t i = 0; i < req->njobs; i++)
		attr_putf(&body, "result", "%s %c %s", req->jobs[i].index_text,
		    req->jobs[i].status, req->jobs[i].text);
	channel_send(req->client->ch, &body, -1);
	buf_free(&body);
}

static void
request_finish(struct local_request *req)
{
	if (req->client->ch != NULL)
		request_reply(req);
	if (req->fd >= 0)
		close(req->fd);
	local_client_release(req->client);
	arena_free(req->a);
	free(req);
}

/* One fewer answer awaited; the last one sends the reply. */
static void
request_release(struct local_request *req)
{
	if (--req->pending == 0)
		request_finish(req);
}

static void
job_deliver(struct rcpt_job *job, const char *mailbox)
{
	struct local_request *req = job->req;
	struct maildir_job m = {
		.env = &req->env, .qfd = req->fd,
		.rcpt = req->env.rcpt[job->index].addr, .mailbox = mailbox,
		.maybe_delivered = req->maybe_delivered,
	};
	struct buf reply = BUF_INIT;

	job->status = maildir_deliver(&m, &reply);
	job->text = arena_strdup(req->a, buf_cstr(&reply));
	buf_free(&reply);
}

static void
on_lookup(const char *result, const char *mailbox, void *arg)
{
	struct rcpt_job *job = arg;
	const char *rcpt = job->req->env.rcpt[job->index].addr;

	if (result != NULL && strcmp(result, "ok") == 0 && mailbox != NULL)
		job_deliver(job, mailbox);
	else if (result != NULL && strcmp(result, "notfound") == 0) {
		log_info("%s: to=<%s>: user unknown", job->req->env.id, rcpt);
		job_set(job, RCPT_BOUNCED, "550 5.1.1 user unknown");
	} else if (result != NULL && strcmp(result, "remote") == 0)
		job_set(job, RCPT_PENDING,
		    "451 4.3.0 recipient domain is no longer local");
	else
		job_set(job, RCPT_PENDING,
		    "451 4.3.0 user lookup temporarily unavailable");
	request_release(job->req);
}

/* Reads the queue file; a reason for qmgr on failure, else NULL. */
static const char *
request_load(struct local_request *req)
{
	char err[256];

	if (req->fd < 0)
		return "451 4.3.0 no queue file was passed";
	if (!queue_id_valid(req->queue_id))
		return "451 4.3.0 bad queue id";
	if (queue_file_read(req->fd, req->a, &req->env, err, sizeof err) < 0) {
		log_warn("%s: queue file unreadable: %s", req->queue_id, err);
		return "451 4.3.0 queue file unreadable";
	}
	if (strcmp(req->env.id, req->queue_id) != 0) {
		log_warn("%s: the file passed is queue file %s", req->queue_id,
		    req->env.id);
		return "451 4.3.0 queue file does not match the queue id";
	}
	return NULL;
}

static int
parse_index(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (size_t)v;
	return 0;
}

static void
request_collect(struct local_request *req, const struct attr_list *msg)
{
	size_t n = 0;

	for (size_t i = 0; i < msg->n; i++)
		n += strcmp(msg->a[i].key, "rcpt") == 0;
	req->jobs = arena_alloc(req->a, (n ? n : 1) * sizeof *req->jobs);
	for (size_t i = 0; i < msg->n; i++) {
		if (strcmp(msg->a[i].key, "rcpt") != 0)
			continue;
		struct rcpt_job *job = &req->jobs[req->njobs++];
		job->req = req;
		job->index_text = arena_strdup(req->a, msg->a[i].value);
		job->valid = parse_index(msg->a[i].value, &job->index) == 0;
	}
}

/* Lookups may answer at once (agent unreachable), so pending holds one
 * extra count while they are being asked: the reply cannot go out before
 * every recipient has had its turn. */
static void
request_issue(struct local_request *req, const char *refused)
{
	req->pending = 1;
	for (size_t i = 0; i < req->njobs; i++) {
		struct rcpt_job *job = &req->jobs[i];
		if (refused == NULL && (!job->valid ||
		    job->index >= req->env.nrcpt))
			job_set(job, RCPT_PENDING,
			    "451 4.3.0 no such recipient in the queue file");
		else if (refused != NULL)
			job_set(job, RCPT_PENDING, refused);
		else {
			req->pending++;
			local_lookup_user(req->env.rcpt[job->index].addr,
			    on_lookup, job);
		}
	}
	request_release(req);
}

void
local_request_start(struct local_client *c, const struct attr_list *msg, int fd)
{
	struct local_request *req = xcalloc(1, sizeof *req);
	const char *id = attr_get(msg, "id");
	const char *qid = attr_get(msg, "queue_id");
	const char *maybe = attr_get(msg, "maybe_delivered");

	c->refs++;
	req->client = c;
	req->a = arena_new();
	req->fd = fd;
	req->id = arena_strdup(req->a, id ? id : "");
	req->queue_id = arena_strdup(req->a, qid ? qid : "");
	req->maybe_delivered = maybe != NULL && strcmp(maybe, "1") == 0;
	request_collect(req, msg);
	request_issue(req, request_load(req));
}
