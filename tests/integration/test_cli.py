"""
The `postern` command against a running instance: users are added and
removed and smtpd sees it at once; check, config, status, queue list and
reload do what they say; a stopped instance stops cleanly and starts again
on the same directory with its users and mail.
"""

import os
import re
import time
import uuid

from postern_instance import SmtpWire, wait_for


def message(token, to="demo@localhost"):
    return ("From: cli-test@example.net\r\n"
            "To: %s\r\n"
            "Subject: cli %s\r\n"
            "\r\n"
            "body %s\r\n" % (to, token, token)).encode()


def rcpt_reply(instance, addr):
    """The reply to RCPT TO:<addr> in a fresh transaction."""
    with SmtpWire(instance.smtp_port) as s:
        s.hello()
        s.send("MAIL FROM:<cli-test@example.net>")
        s.expect(250)
        s.send("RCPT TO:<%s>" % addr)
        r = s.reply()
        s.send("QUIT")
        return r


def user_list(instance):
    return instance.cli_ok("user", "list").stdout


def test_user_add_makes_a_deliverable_mailbox(instance):
    instance.cli_ok("user", "add", "bob@example.org", input="bob-secret-1\n")
    instance.cli_ok("user", "add", "carol@example.org", input="carol-secret-1\n")

    # lookup sees a rebuilt table without a restart.
    wait_for(lambda: rcpt_reply(instance, "bob@example.org").code == 250, 5,
             "RCPT bob@example.org accepted")

    token = uuid.uuid4().hex
    instance.send(message(token, "bob@example.org"), rcpts=["bob@example.org"])
    box = instance.maildir("example.org", "bob")
    found = wait_for(lambda: box.find(token), 10, "mail in " + box.path)
    assert len(found) == 1
    assert "/example.org/bob/new/" in found[0][0]


def test_user_list_shows_every_user(instance):
    listing = user_list(instance)
    assert "demo@localhost" in listing, listing
    assert "bob@example.org" in listing, listing
    assert "bob-secret-1" not in listing, "a password is listed in the clear"


def test_user_del_makes_rcpt_fail(instance):
    instance.cli_ok("user", "del", "bob@example.org")

    assert "bob@example.org" not in user_list(instance)
    # carol keeps example.org a local domain: bob is an unknown user now.
    r = wait_for(lambda: (lambda r: r if r.code != 250 else None)(
                     rcpt_reply(instance, "bob@example.org")),
                 5, "RCPT bob@example.org refused")
    assert r.code == 550 and r.lines[0].startswith("5.1.1"), r
    assert rcpt_reply(instance, "carol@example.org").code == 250


def test_check_accepts_the_generated_config(instance):
    r = instance.cli("check")
    assert r.returncode == 0, r.stderr


def test_check_reports_file_and_line_of_an_unknown_key(instance):
    with open(instance.conf) as f:
        text = f.read()
    if not text.endswith("\n"):
        text += "\n"
    bad = os.path.join(instance.dir, "bad.conf")
    with open(bad, "w") as f:
        f.write(text + "no_such_setting = 1\n")
    line = text.count("\n") + 1

    r = instance.cli("check", conf=bad)

    assert r.returncode != 0, r.stdout
    assert "bad.conf:%d" % line in r.stderr, r.stderr
    assert "no_such_setting" in r.stderr, r.stderr


def test_config_prints_the_effective_settings(instance):
    out = instance.cli_ok("config").stdout
    settings = {}
    for l in out.splitlines():
        m = re.match(r"^(\w+) = ?(.*)$", l)
        assert m or not l.strip() or l.lstrip().startswith("#"), l
        if m:
            settings[m.group(1)] = m.group(2)
    assert "127.0.0.1:%d" % instance.smtp_port in settings["smtp_listen"]
    assert "message_size_limit" in settings


def test_status_lists_every_service(instance):
    pids = instance.status_pids()
    for name in ("master", "lookup", "enqueue", "qmgr", "local", "smtpd"):
        assert name in pids, "%s missing from `postern status`: %s" % (name, pids)
        for pid in pids[name]:
            assert os.path.exists("/proc/%d" % pid), (name, pid)
    master = pids["master"][0]
    assert master == instance.pid or master in instance.proc_pids().get(
        "master", []), (master, instance.proc_pids())


def test_queue_list_on_an_empty_queue(instance):
    instance.wait_queue_empty(timeout=10)
    r = instance.cli_ok("queue", "list")
    assert not re.search(r"\b[0-9A-F]{14}\b", r.stdout), r.stdout


def test_reload_keeps_serving(instance):
    master = instance.status_pids()["master"]
    instance.cli_ok("reload")

    token = uuid.uuid4().hex
    wait_for(lambda: instance._greets(), 10, "a greeting after reload")
    instance.send(message(token))
    wait_for(lambda: instance.maildir().find(token), 10, "delivery after reload")
    assert instance.status_pids()["master"] == master


def test_restart_keeps_users_and_mail(new_instance):
    inst = new_instance()
    inst.cli_ok("user", "add", "dave@example.org", input="dave-secret-1\n")
    token = uuid.uuid4().hex
    inst.send(message(token))
    wait_for(lambda: inst.maildir().find(token), 10, "first delivery")
    with open(inst.conf, "rb") as f:
        conf_before = f.read()

    status, survivors = inst.stop()
    assert status == 0, "postern dev exited %s on SIGTERM" % status
    assert survivors == [], "processes left after stop: %s" % survivors

    inst.start()
    with open(inst.conf, "rb") as f:
        assert f.read() == conf_before, "postern dev rewrote postern.conf"
    assert "dave@example.org" in user_list(inst)
    assert "demo@localhost" in user_list(inst)
    assert len(inst.maildir().find(token)) == 1
    assert rcpt_reply(inst, "dave@example.org").code == 250
    token2 = uuid.uuid4().hex
    inst.send(message(token2))
    wait_for(lambda: inst.maildir().find(token2), 10, "delivery after restart")


def test_stop_is_prompt_when_a_client_vanished_mid_transaction(new_instance):
    inst = new_instance()
    s = SmtpWire(inst.smtp_port)
    s.hello()
    s.send("MAIL FROM:<cli-test@example.net>")
    s.expect(250)
    s.send("RCPT TO:<demo@localhost>")
    s.expect(250)
    s.close()			# gone without QUIT, as clients do
    time.sleep(0.5)

    started = time.monotonic()
    status, survivors = inst.stop()
    took = time.monotonic() - started

    assert status == 0, "postern dev exited %s on SIGTERM" % status
    assert survivors == [], survivors
    assert took < 5, "stopping took %.1f s: a closed session was kept" % took
