"""
The administrator's life cycle outside the development foreground:
`postern start` detaches a master that serves mail, `status` lists it,
`stop` ends every process and frees the ports; and the tools a person
needs on a running instance: `user passwd` replaces the hash, `queue cat`
shows a queued message as a person reads it.
"""

import os
import signal
import socket
import time
import uuid

from postern_instance import wait_for


def message(token):
    return ("From: a@example.net\r\nTo: demo@localhost\r\n"
            "Subject: %s\r\n\r\nbody %s\r\n" % (token, token)).encode()


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_start_status_stop_in_the_background(new_instance):
    inst = new_instance()	# creates the config, users and certificate
    inst.stop()
    assert not port_open(inst.smtp_port)

    inst.cli_ok("start")
    try:
        wait_for(lambda: port_open(inst.smtp_port), 15, "the SMTP port")
        wait_for(lambda: inst.cli("status").returncode == 0, 10, "status")
        names = [line.split()[0] for line in inst.cli_ok("status").stdout.split("\n") if line]
        for name in ("master", "lookup", "enqueue", "qmgr", "local", "smtpd"):
            assert name in names, names
        master_pid = int(inst.cli_ok("status").stdout.split()[1])
        assert os.getppid() != master_pid

        token = uuid.uuid4().hex
        inst.send(message(token))
        wait_for(lambda: inst.maildir().find(token), 10, "delivery")
    finally:
        r = inst.cli("stop")
    assert r.returncode == 0, r.stderr
    assert not os.path.exists("/proc/%d" % master_pid), "master still running"
    assert not port_open(inst.smtp_port), "the SMTP port is still open"
    assert inst.cli("status").returncode == 1


def test_stop_refused_without_a_running_master(new_instance):
    inst = new_instance()
    inst.stop()
    r = inst.cli("stop")
    assert r.returncode == 1
    assert "not running" in r.stderr


def users_line(inst, addr):
    with open(os.path.join(inst.dir, "users")) as f:
        for line in f:
            if line.split() and line.split()[0] == addr:
                return line
    raise AssertionError("%s not in the users table" % addr)


def test_user_passwd_replaces_the_hash(instance):
    instance.cli_ok("user", "add", "carol@example.org", input="first\n")
    before = users_line(instance, "carol@example.org").split()[1]
    assert before.startswith("$")
    instance.cli_ok("user", "passwd", "carol@example.org", input="second\n")
    after = users_line(instance, "carol@example.org").split()[1]
    assert after.startswith("$") and after != before
    r = instance.cli("user", "passwd", "nobody@example.org", input="x\n")
    assert r.returncode != 0


def test_queue_cat_shows_a_queued_message(instance):
    [local_pid] = instance.service_pids()["local"]
    token = uuid.uuid4().hex
    os.kill(local_pid, signal.SIGSTOP)	# hold delivery while we look
    try:
        instance.send(message(token))
        wait_for(lambda: instance.queue_files(ids_only=True), 10, "a queued file")
        qid = os.path.basename(instance.queue_files(ids_only=True)[0])
        listing = instance.cli_ok("queue", "list").stdout
        assert qid in listing and "demo@localhost" in listing
        shown = instance.cli_ok("queue", "cat", qid).stdout
        assert "sender@example.net" in shown
        assert "demo@localhost" in shown
        assert ("body %s" % token) in shown
        r = instance.cli("queue", "cat", "0000000000000Z")
        assert r.returncode != 0
    finally:
        os.kill(local_pid, signal.SIGCONT)
    wait_for(lambda: instance.maildir().find(token), 15, "delivery after SIGCONT")
    instance.wait_queue_empty()
