/*
 * proto - the conversations on Postern's internal sockets.
 *
 * Every message is an attr.h frame.  Requests carry "id" (a number the
 * requester picks, unique among its requests in flight on that channel);
 * replies repeat it.  Unknown ops are answered with status=error and the
 * channel stays up; a frame that does not decode closes the channel.
 *
 * MASTER CHANNEL (fd 3 of every service; service_connect())
 *	op=connect id service=NAME		-> id status=ok  + fd
 *						-> id status=error reason
 *	The master allows: smtpd -> enqueue, lookup; enqueue -> qmgr;
 *	qmgr -> local, smtp, lookup, enqueue (bounces and forwards are new
 *	messages, and enqueue stays the only writer of new queue files);
 *	local -> lookup; pop3d, imapd -> lookup.
 *
 * ENQUEUE (smtpd -> enqueue): one message streamed in three steps
 *	op=begin id sender client helo protocol [auth envid ret smtputf8 body]
 *	    rcpt (repeated, one per recipient: "ADDR" or "ADDR\tORCPT\tNOTIFY")
 *	op=data id data			(message bytes, at most 64 KiB a frame,
 *					 Received header first; dot-unstuffed)
 *	op=end id			-> id status=ok queue_id=ID
 *					   (only after queue_writer_commit)
 *					-> id status=temp reason  (451 4.3.0)
 *					-> id status=full reason  (452 4.3.1)
 *					-> id status=toobig       (552 5.3.4)
 *	op=abort id			(no reply; the temporary file is removed)
 *
 * QMGR (enqueue -> qmgr)
 *	op=queued queue_id=ID		(no reply: qmgr also scans incoming/)
 *
 * LOOKUP (smtpd, qmgr, local, pop3d, imapd -> lookup)
 *	op=domain id name=DOMAIN	-> id result=local|remote
 *	op=user id addr=ADDR		-> id result=ok mailbox=DOMAIN/USER
 *					-> id result=notfound  (domain local, no user)
 *					-> id result=remote    (domain not local)
 *	op=auth id user password	-> id result=ok user=CANONICAL | result=fail
 *	op=sender_login id user sender	-> id result=ok | result=denied
 *	    (may the authenticated USER use SENDER in MAIL FROM?  yes when
 *	    they are the same address, or the sender_login table says so)
 *	any op				-> id result=temp reason  (table unreadable)
 *
 * LOCAL (qmgr -> local), with the queue file (O_RDONLY) passed as fd
 *	op=deliver id queue_id rcpt=INDEX (repeated) [maybe_delivered=1]
 *					-> id queue_id
 *					   result="INDEX STATUS TEXT" (repeated)
 *	STATUS is D (delivered), P (deferred: TEXT is a 4xx reply) or B
 *	(bounced: TEXT is a 5xx reply).  maybe_delivered says an earlier
 *	attempt may have written the message already (crash recovery), so
 *	local looks for its earlier copy before writing a new one.
 *
 * CONTROL (postern command -> master, public/control; SO_PEERCRED checked)
 *	op=status			-> status=ok service="NAME PID STATE" ...
 *	op=reload			-> status=ok
 *	op=stop				-> status=ok
 *	op=queue_notify			-> status=ok  (qmgr rescans now)
 */
#ifndef POSTERN_PROTO_H
#define POSTERN_PROTO_H

#define PROTO_DATA_CHUNK	(64 * 1024)
#define PROTO_TIMEOUT_MS	10000	/* a blocking call gives up after this */

#endif
