"""
No accepted message is lost or duplicated when enqueue, qmgr and local are
killed (SIGKILL) again and again while 500 messages flow in.

The sender retries every message until it gets 250.  Each attempt carries
its number in a header, so a Maildir copy is traced to the attempt that
made it, and the verdict is exact per attempt:

	attempt answered 250			exactly one copy
	no answer to the final dot, or 4xx	at most one copy (the server may
	    after it				have committed the file just
						before its enqueue died: SMTP's
						own duplicate window)
	failed before the final dot was sent	no copy

and every message eventually gets its 250.  Copies must be complete: each
is compared byte for byte with what was sent.
"""

import os
import re
import signal
import smtplib
import threading
import time

from postern_instance import LOCALHOST, same_message

MESSAGES = 500
VICTIMS = ("enqueue", "qmgr", "local")
KILLS_EACH = 4
SEND_DEADLINE = 150		# seconds for the whole sending phase
HEADER_RE = re.compile(rb"^X-Test-Seq: (\d+)\r?\nX-Test-Attempt: (\d+)\r?$",
                       re.M)
DOT_RE = re.compile(rb"(?m)^\.")		# dot-stuffing (RFC 5321 4.5.2)


def message(run, seq, attempt):
    # Every tenth message spans several enqueue data frames (64 KiB each).
    lines = 2000 if seq % 10 == 0 else 20
    body = b"".join(b"message %d line %d of %d: the quick brown fox\r\n"
                    % (seq, i, lines) for i in range(lines))
    return (b"From: crash-test@example.net\r\n"
            b"To: demo@localhost\r\n"
            b"Subject: crash test %d\r\n"
            b"Message-ID: <crash-%s-%d@test.example>\r\n"
            b"X-Test-Seq: %d\r\n"
            b"X-Test-Attempt: %d\r\n"
            b"\r\n" % (seq, run.encode(), seq, seq, attempt)) + body


class Sender:
    """Sends the messages in order, retrying each until it gets 250.

    outcome[(seq, attempt)] is "250", "after-dot" (the final dot was sent
    but no 2xx came back) or "before-dot".
    """

    def __init__(self, port, run):
        self.port = port
        self.run = run
        self.conn = None
        self.outcome = {}
        self.progress = 0
        self.failure = None

    def send_all(self):
        deadline = time.monotonic() + SEND_DEADLINE
        for seq in range(MESSAGES):
            attempt = 0
            while True:
                attempt += 1
                result = self.attempt(seq, attempt)
                self.outcome[(seq, attempt)] = result
                if result == "250":
                    break
                if time.monotonic() > deadline:
                    self.failure = ("message %d still refused after %d "
                                    "attempts when time ran out" % (seq, attempt))
                    return
                time.sleep(0.2)
            self.progress = seq + 1
        self.disconnect()

    def attempt(self, seq, attempt):
        dot_sent = False
        try:
            if self.conn is None:
                self.conn = smtplib.SMTP(LOCALHOST, self.port,
                                         local_hostname="crash.example",
                                         timeout=30)
                self.conn.ehlo()
            c = self.conn
            code, _ = c.mail("crash-test@example.net")
            if code == 250:
                code, _ = c.rcpt("demo@localhost")
            if code == 250:
                c.putcmd("data")
                code, _ = c.getreply()
            if code != 354:
                c.rset()
                return "before-dot"
            data = DOT_RE.sub(b"..", message(self.run, seq, attempt))
            c.send(data + b".\r\n")
            dot_sent = True
            code, _ = c.getreply()
            if code == 250:
                return "250"
            return "after-dot"
        except (smtplib.SMTPException, OSError):
            self.disconnect()
            return "after-dot" if dot_sent else "before-dot"

    def disconnect(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None


class Killer:
    """SIGKILLs the victims in turn at milestones spread over the run."""

    def __init__(self, instance, sender):
        self.instance = instance
        self.sender = sender
        self.kills = []		# (name, pid, messages sent by then)
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        plan = [VICTIMS[i % len(VICTIMS)] for i in range(len(VICTIMS) * KILLS_EACH)]
        step = MESSAGES // (len(plan) + 1)
        for i, name in enumerate(plan):
            milestone = step * (i + 1)
            while self.sender.progress < milestone:
                if self.stop.wait(0.02):
                    return
            self.kill(name)

    def kill(self, name):
        # The master restarts killed services (with backoff): wait for the
        # new process, never kill an old pid again.
        killed = {pid for n, pid, _ in self.kills if n == name}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not self.stop.is_set():
            pids = self.instance.service_pids().get(name, [])
            fresh = [p for p in pids if p not in killed]
            if fresh:
                try:
                    os.kill(fresh[0], signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.kills.append((name, fresh[0], self.sender.progress))
                return
            time.sleep(0.1)
        self.errors.append("no running %s to kill after %d messages"
                           % (name, self.sender.progress))


def copies_in_maildir(instance, run):
    """{(seq, attempt): [paths]} and the list of incomplete copies."""
    copies, damaged = {}, []
    for path, data in instance.maildir().messages():
        if ("crash-%s-" % run).encode() not in data:
            continue
        m = HEADER_RE.search(data)
        assert m, "no X-Test headers in %s" % path
        key = (int(m.group(1)), int(m.group(2)))
        copies.setdefault(key, []).append(path)
        if not same_message(data, message(run, *key)):
            damaged.append(path)
    return copies, damaged


def test_no_accepted_message_is_lost_or_duplicated(new_instance):
    inst = new_instance()
    # Deferrals after a crash must come back within the test's time.
    inst.stop()
    inst.set_config(retry_min="1s", retry_max="5s")
    inst.start()
    run = "%x" % int(time.time() * 1000)

    sender = Sender(inst.smtp_port, run)
    killer = Killer(inst, sender)
    thread = threading.Thread(target=killer.run, daemon=True)
    thread.start()
    try:
        sender.send_all()
    finally:
        killer.stop.set()
        thread.join(30)
    assert sender.failure is None, sender.failure
    assert not killer.errors, killer.errors
    assert len(killer.kills) == len(VICTIMS) * KILLS_EACH, killer.kills

    inst.wait_queue_empty(timeout=120, ids_only=True)
    time.sleep(1)	# a last rename into new/ after the queue file went away
    copies, damaged = copies_in_maildir(inst, run)

    summary = ("kills %s; attempts %d, retried %d"
               % ([(n, at) for n, _, at in killer.kills], len(sender.outcome),
                  len(sender.outcome) - MESSAGES))
    assert not damaged, "copies differ from what was sent: %s" % damaged[:10]
    duplicated = {k: v for k, v in copies.items() if len(v) > 1}
    assert not duplicated, "delivered twice: %s\n%s" % (
        sorted(duplicated.items())[:10], summary)
    lost = [k for k, r in sender.outcome.items()
            if r == "250" and k not in copies]
    assert not lost, "accepted (250) but not delivered: %s\n%s" % (
        lost[:20], summary)
    phantom = [k for k in copies if sender.outcome.get(k) == "before-dot"]
    assert not phantom, "delivered without a complete DATA: %s" % phantom
    unknown = [k for k in copies if k not in sender.outcome]
    assert not unknown, "copies of attempts never made: %s" % unknown
    assert not os.listdir(inst.spool("corrupt")), (
        "corrupt queue files: %s" % os.listdir(inst.spool("corrupt")))

    after_dot = [k for k, r in sender.outcome.items() if r == "after-dot"]
    print("%s; unanswered-after-dot attempts %d, of which delivered %d"
          % (summary, len(after_dot), sum(1 for k in after_dot if k in copies)))

    # Every service is back after the kills.
    pids = inst.service_pids()
    for name in VICTIMS:
        assert pids.get(name), "%s not restarted: %s" % (name, pids)
