"""
Mail sent over SMTP to a local user lands in the user's Maildir exactly as
it was sent: with smtplib, curl and swaks; with long lines and lines that
start with a dot; with a Received header naming the client; and the queue
is empty afterwards.
"""

import os
import subprocess
import uuid

from postern_instance import SmtpWire, same_message, split_trace, wait_for


def unique():
    return uuid.uuid4().hex


def simple_message(token, body=b"Hello, Postern.\r\n"):
    return (b"From: Sender <sender@example.net>\r\n"
            b"To: Demo <demo@localhost>\r\n"
            b"Subject: delivery " + token.encode() + b"\r\n"
            b"Message-ID: <" + token.encode() + b"@test.example>\r\n"
            b"\r\n" + body)


def delivered(instance, token, timeout=10):
    """The one Maildir file holding token, waited for; fails on duplicates."""
    box = instance.maildir()
    found = wait_for(lambda: box.find(token), timeout,
                     "message %s in %s" % (token, box.path))
    assert len(found) == 1, "delivered %d times: %s" % (
        len(found), [p for p, _ in found])
    return found[0][1]


def test_smtplib_message_lands_byte_exact(instance):
    token = unique()
    msg = simple_message(token)
    reply = instance.send(msg)
    assert "queued as" in reply, reply

    stored = delivered(instance, token)
    assert same_message(stored, msg), stored
    path = instance.maildir().find(token)[0][0]
    assert os.path.basename(os.path.dirname(path)) == "new"


def test_received_header_names_the_client(instance):
    token = unique()
    instance.send(simple_message(token), helo="helo-name.example")

    trace, _ = split_trace(delivered(instance, token))
    received = [h for h in trace if h.lower().startswith(b"received:")]
    assert received, "no Received header in %r" % trace
    first = received[0]
    assert b"127.0.0.1" in first, first
    assert b"helo-name.example" in first, first


def test_curl_delivers(instance, tmp_path):
    token = unique()
    msg = simple_message(token, b"Sent by curl.\r\n")
    path = tmp_path / "mail.eml"
    path.write_bytes(msg)

    r = subprocess.run(
        ["curl", "-sS", "--max-time", "30",
         "smtp://127.0.0.1:%d" % instance.smtp_port,
         "--mail-from", "a@b.example", "--mail-rcpt", "demo@localhost",
         "-T", str(path)],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr

    assert same_message(delivered(instance, token), msg)


def test_swaks_delivers(instance):
    token = unique()
    r = subprocess.run(
        ["swaks", "--to", "demo@localhost", "--from", "swaks@example.net",
         "--server", "127.0.0.1:%d" % instance.smtp_port,
         "--helo", "swaks.example", "--header", "Subject: swaks " + token,
         "--timeout", "30"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr

    stored = delivered(instance, token)
    assert b"Subject: swaks " + token.encode() in stored


def test_long_lines_and_leading_dots_survive(instance):
    token = unique()
    long_line = b"x" * 4998 + b"\r\n"		# 5000 octets with CRLF
    assert len(long_line) == 5000
    body = (b"before\r\n" + long_line +
            b".\r\n"				# a lone dot, not the end
            b"..two dots\r\n"
            b".one dot\r\n"
            b". space after dot\r\n"
            b"after\r\n" + long_line)
    msg = simple_message(token, body)

    instance.send(msg)		# smtplib dot-stuffs; the server must unstuff

    assert same_message(delivered(instance, token), msg)


def test_dot_stuffing_on_the_wire(instance):
    """Without smtplib: the stuffing and the end marker written by hand."""
    token = unique()
    s = SmtpWire(instance.smtp_port)
    s.hello()
    s.send("MAIL FROM:<wire@example.net>")
    s.expect(250)
    s.send("RCPT TO:<demo@localhost>")
    s.expect(250)
    s.send("DATA")
    s.expect(354)
    s.send_raw(b"Subject: wire " + token.encode() + b"\r\n\r\n"
               b"..\r\n"
               b"...leading\r\n"
               b".\r\n")
    s.expect(250)
    s.send("QUIT")
    s.expect(221)

    stored = delivered(instance, token)
    expected = (b"Subject: wire " + token.encode() + b"\r\n\r\n"
                b".\r\n"
                b"..leading\r\n")
    assert same_message(stored, expected), stored


def test_queue_is_empty_afterwards(instance):
    token = unique()
    instance.send(simple_message(token))
    delivered(instance, token)
    instance.wait_queue_empty(timeout=10)
    assert instance.queue_files() == []
