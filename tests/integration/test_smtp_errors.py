"""
smtpd answers bad or out-of-order commands with the proper reply and
carries on; RCPT is checked against the tables at RCPT time; a bare LF
(or CR) around a dot never ends the DATA phase (SMTP smuggling).
"""

import time
import uuid

import pytest

from postern_instance import SmtpWire, wait_for


@pytest.fixture
def s(instance):
    """A session past its greeting and EHLO."""
    wire = SmtpWire(instance.smtp_port)
    wire.hello()
    yield wire
    wire.close()


def test_unknown_command(s):
    s.send("FROB nicate")
    s.expect(500)
    s.send("NOOP")
    s.expect(250)


def test_mail_from_with_bad_syntax(s):
    s.send("MAIL FROM:<bad")
    s.expect(501)


def test_overlong_command_line_is_refused_and_session_goes_on(s):
    s.send("NOOP " + "a" * (100 * 1024))
    s.expect(500, "5.5.2")
    s.send("NOOP")
    s.expect(250)


def test_rcpt_unknown_local_user(s):
    s.send("MAIL FROM:<sender@example.net>")
    s.expect(250)
    s.send("RCPT TO:<no-such-user@localhost>")
    s.expect(550, "5.1.1")
    s.send("RCPT TO:<demo@localhost>")	# the transaction is still usable
    s.expect(250)


def test_rcpt_remote_domain_is_not_relayed(s):
    s.send("MAIL FROM:<sender@example.net>")
    s.expect(250)
    s.send("RCPT TO:<nobody@example.com>")
    s.expect(554, "5.7.1")


def test_data_before_rcpt(s):
    s.send("MAIL FROM:<sender@example.net>")
    s.expect(250)
    s.send("DATA")
    s.expect(503)


def test_data_after_every_rcpt_was_refused(s):
    s.send("MAIL FROM:<sender@example.net>")
    s.expect(250)
    s.send("RCPT TO:<no-such-user@localhost>")
    s.expect(550)
    s.send("DATA")
    s.expect((503, 554))	# RFC 5321 3.3 allows either


def test_rcpt_before_mail(s):
    s.send("RCPT TO:<demo@localhost>")
    s.expect(503)


def test_vrfy(s):
    s.send("VRFY demo")
    s.expect(252)


def test_help(s):
    s.send("HELP")
    s.expect(214)


def test_rset(s):
    s.send("MAIL FROM:<sender@example.net>")
    s.expect(250)
    s.send("RSET")
    s.expect(250)
    s.send("RCPT TO:<demo@localhost>")	# RSET ended the transaction
    s.expect(503)


def test_quit_closes_the_session(s):
    s.send("QUIT")
    s.expect(221)
    assert s.closed()


# Dots between bare line ends: what a server that is lax about line ends
# takes for the end of data.  Only CRLF . CRLF may end it (RFC 5321 4.1.1.4).
SMUGGLING = {
    "LF.LF": b"\n.\n",
    "LF.CRLF": b"\n.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CR.CR": b"\r.\r",
}


@pytest.mark.parametrize("marker", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_bare_line_ends_never_end_data(instance, s, marker):
    token = uuid.uuid4().hex
    s.send("MAIL FROM:<sender@example.net>")
    s.expect(250)
    s.send("RCPT TO:<demo@localhost>")
    s.expect(250)
    s.send("DATA")
    s.expect(354)
    s.send_raw(b"Subject: carrier " + token.encode() + b"\r\n\r\n"
               b"first part" + marker +
               b"MAIL FROM:<evil@example.net>\r\n"
               b"RCPT TO:<demo@localhost>\r\n"
               b"DATA\r\n"
               b"Subject: smuggled " + token.encode() + b"\r\n\r\n"
               b"after the marker\r\n"
               b".\r\n")
    replies = []
    try:
        replies.append(s.reply())
        s.send("QUIT")
        while True:
            r = s.reply()
            replies.append(r)
            if r.code == 221:
                break
    except (EOFError, OSError):
        pass	# refusing the message and closing is an acceptable answer

    # Wait for the delivery the server announced, then a little longer so
    # that a smuggled second message would show up too.
    box = instance.maildir()
    if replies and replies[0].code == 250:
        wait_for(lambda: box.find(token), 10, "the carrier message")
    time.sleep(1.5)
    found = box.find(token)

    assert len(found) <= 1, ("%d messages from one DATA: %r\n%s"
                             % (len(found), replies, s.dialogue()))
    assert [r.code for r in replies[:1]] != [250] or len(found) == 1
    if found:
        assert replies[0].code == 250, s.dialogue()
        assert b"after the marker" in found[0][1], found[0][1]
    # A vulnerable server answers the smuggled MAIL/RCPT/DATA and then 250
    # twice; a correct one answers the one DATA (then QUIT) only.
    assert sum(1 for r in replies if r.code == 354) == 0, s.dialogue()
