"""
postern_instance - a real Postern instance for the integration tests, and
the small clients the tests use to talk to it.

SYNOPSIS
	inst = Instance()			# a fresh directory under /tmp
	inst.start()				# `postern dev DIR --port-base N`
	inst.send(message_bytes)		# smtplib; returns the 250 text
	wait_for(lambda: inst.maildir().find(token), 10, "delivery")
	inst.cli("user", "list")		# `postern -c DIR/postern.conf user list`
	inst.service_pids()			# {"smtpd": [pid, ...], "qmgr": [pid]}
	inst.stop()				# SIGTERM by pid, SIGKILL the group late
	inst.cleanup()				# removes the directory unless a test failed

	s = SmtpWire(inst.smtp_port)		# a raw conversation, read as one
	s.expect(220)
	s.send("EHLO client.example")
	s.expect(250)

DESCRIPTION
	Nothing here is a mock: the instance is the production code path with
	the configuration `postern dev` generates.  The binaries come from
	$POSTERN_BUILD (bin/postern, libexec/postern-*).

	Each instance gets its own port base, picked at random in 20000..60000
	among bases whose seven ports are free on 127.0.0.1, so ctest may run
	the test files in parallel.  Between the free-port check and the
	master's bind another test may take a port; start() then retries with
	a new base and a new directory.

	The instance's stderr (the whole suite logs there in the foreground)
	goes to BASE/instance.log, next to DIR.  The conftest hook appends the
	tail of that log to the report of any failing test, and a failing
	test's directory is kept for a post-mortem.

	Processes are stopped by pid only: SIGTERM to the `postern dev`
	process (which is the master), then, after 15 s, SIGKILL to its
	process group (it was started in a session of its own).  15 s leaves
	the master its own 10 s of grace for slow children.

DIAGNOSTICS
	Failures raise AssertionError with the relevant log or SMTP transcript,
	so pytest shows what the daemon said.
"""

import os
import random
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

LOCALHOST = "127.0.0.1"

# `postern dev` listens on base + these offsets (DESIGN.md section 6).
PORT_OFFSETS = {
    "smtp": 25, "submission": 587, "smtps": 465,
    "pop3": 110, "pop3s": 995, "imap": 143, "imaps": 993,
}

QUEUE_DIRS = ("incoming", "active", "deferred")
QUEUE_ID_RE = re.compile(r"^[0-9A-F]{14}$")

# Every live instance, so a failing test's report can show their logs.
LIVE = []


def build_dir():
    path = os.environ.get("POSTERN_BUILD")
    assert path, "set POSTERN_BUILD to the cmake build directory"
    return os.path.abspath(path)


def postern_bin():
    return os.path.join(build_dir(), "bin", "postern")


def wait_for(predicate, timeout, what="condition", interval=0.1):
    """Polls predicate until it returns something truthy; returns that.

    Fails the test with `what` when timeout seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((LOCALHOST, port))
        except OSError:
            return False
        return True


def pick_port_base():
    for _ in range(500):
        base = random.randrange(20000, 60000)
        if all(port_is_free(base + off) for off in PORT_OFFSETS.values()):
            return base
    raise AssertionError("no free port base found in 20000..60000")


# ---------------------------------------------------------------------------
# Messages as stored in a Maildir

TRACE_HEADERS = (b"return-path", b"delivered-to", b"received")


def split_trace(raw):
    """Splits the trace headers local delivery prepends from the message.

    Returns (trace, rest): trace is the list of header fields (unfolded
    bytes, without line ends) named Return-Path, Delivered-To or Received
    at the very top, rest the bytes from the first other line on.
    """
    trace = []
    pos = 0
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end + 1
        line = raw[pos:end]
        if line[:1] in (b" ", b"\t") and trace:
            trace[-1] += b" " + line.strip()
        else:
            name = line.split(b":", 1)[0].strip().lower()
            if b":" not in line or name not in TRACE_HEADERS:
                break
            trace.append(line.rstrip(b"\r\n"))
        pos = end
    return trace, raw[pos:]


def same_message(delivered, sent):
    """True when a Maildir file holds exactly `sent` under its trace headers.

    `sent` is the message as it went over the wire (CRLF, not dot-stuffed).
    A Maildir may keep CRLF or store the Unix convention (LF) throughout;
    either is exact, a mixture is not.
    """
    _, rest = split_trace(delivered)
    return rest == sent or rest == sent.replace(b"\r\n", b"\n")


class Maildir:
    """Read-only view of DIR/mail/DOMAIN/USER."""

    def __init__(self, path):
        self.path = path

    def files(self):
        found = []
        for sub in ("new", "cur"):
            d = os.path.join(self.path, sub)
            try:
                names = sorted(os.listdir(d))
            except FileNotFoundError:
                continue
            found += [os.path.join(d, n) for n in names if not n.startswith(".")]
        return found

    def messages(self):
        out = []
        for path in self.files():
            try:
                with open(path, "rb") as f:
                    out.append((path, f.read()))
            except FileNotFoundError:
                pass	# moved from new/ to cur/ meanwhile
        return out

    def find(self, token):
        """The messages (path, bytes) that contain token (bytes or str)."""
        if isinstance(token, str):
            token = token.encode()
        return [(p, m) for p, m in self.messages() if token in m]


# ---------------------------------------------------------------------------
# The instance

class Instance:
    def __init__(self, base_dir=None):
        self.base = base_dir or tempfile.mkdtemp(prefix="postern-it-", dir="/tmp")
        # The services run as other users when we are root: they must be
        # able to walk down to their directories.
        os.chmod(self.base, 0o755)
        self.dir = os.path.join(self.base, "instance")
        self.log_path = os.path.join(self.base, "instance.log")
        self.port_base = None
        self.proc = None
        self.failed = False
        LIVE.append(self)

    # -- paths and ports ---------------------------------------------------

    @property
    def conf(self):
        return os.path.join(self.dir, "postern.conf")

    def port(self, name):
        return self.port_base + PORT_OFFSETS[name]

    @property
    def smtp_port(self):
        return self.port("smtp")

    def spool(self, *parts):
        return os.path.join(self.dir, "spool", *parts)

    def maildir(self, domain="localhost", user="demo"):
        return Maildir(os.path.join(self.dir, "mail", domain, user))

    # -- life cycle ----------------------------------------------------------

    def start(self, timeout=20, attempts=3):
        """Starts `postern dev` and waits for the SMTP greeting.

        On a fresh directory a port clash is retried with a new base; an
        existing instance directory keeps its port base.
        """
        fresh = not os.path.exists(self.dir)
        for attempt in range(attempts):
            if fresh or self.port_base is None:
                self.port_base = pick_port_base()
            if fresh:
                os.mkdir(self.dir)
                os.chmod(self.dir, 0o755)
            self._spawn()
            outcome = self._wait_ready(timeout)
            if outcome == "ready":
                return self
            log = self.log_text()
            self.stop()
            clash = "in use" in log[self._log_mark:]
            if not (fresh and clash and attempt + 1 < attempts):
                pytest.fail("postern dev did not greet on port %d (%s); "
                            "log:\n%s" % (self.smtp_port, outcome,
                                          self.log_tail()), pytrace=False)
            shutil.rmtree(self.dir, ignore_errors=True)
        raise AssertionError("unreachable")

    def _spawn(self):
        with open(self.log_path, "ab") as log:
            self._log_mark = log.tell()
            log.write(("=== harness: postern dev %s --port-base %d at %s ===\n"
                       % (self.dir, self.port_base, time.strftime("%T")))
                      .encode())
            self.proc = subprocess.Popen(
                [postern_bin(), "dev", self.dir, "--port-base",
                 str(self.port_base)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "exited with status %d" % self.proc.returncode
            if self._greets():
                return "ready"
            time.sleep(0.1)
        return "no greeting within %d s" % timeout

    def _greets(self):
        try:
            with socket.create_connection((LOCALHOST, self.smtp_port),
                                          timeout=2) as s:
                line = s.makefile("rb").readline(4096)
                if line.startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return True
        except OSError:
            pass
        return False

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL to the group after timeout seconds.

        Returns (exit status, pids of the group still alive after the
        master went away); the survivors are killed too.
        """
        if self.proc is None:
            return None, []
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_group(proc.pid)
                proc.wait()
        time.sleep(0.2)
        survivors = group_members(proc.pid)
        if survivors:
            self._kill_group(proc.pid)
        return proc.returncode, survivors

    @staticmethod
    def _kill_group(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        if self in LIVE:
            LIVE.remove(self)
        if not self.failed:
            shutil.rmtree(self.base, ignore_errors=True)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    # -- configuration -------------------------------------------------------

    def set_config(self, **settings):
        """Rewrites `key = value` lines of postern.conf (appends new keys)."""
        with open(self.conf) as f:
            lines = f.read().splitlines()
        for key, value in settings.items():
            pat = re.compile(r"^\s*%s\s*=" % re.escape(key))
            new = "%s = %s" % (key, value)
            hits = [i for i, l in enumerate(lines) if pat.match(l)]
            if hits:
                lines[hits[0]] = new
            else:
                lines.append(new)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    # -- logs ----------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=200):
        text = self.log_text().splitlines()
        return "\n".join(text[-lines:])

    # -- the command line ----------------------------------------------------

    def cli(self, *args, input=None, timeout=30, conf=None):
        """Runs `postern -c CONF ARGS`; returns the CompletedProcess."""
        cmd = [postern_bin(), "-c", conf or self.conf] + list(args)
        return subprocess.run(cmd, input=input, capture_output=True,
                              text=True, timeout=timeout)

    def cli_ok(self, *args, **kw):
        r = self.cli(*args, **kw)
        assert r.returncode == 0, (
            "postern %s exited %d\nstdout:\n%s\nstderr:\n%s"
            % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    # -- processes -----------------------------------------------------------

    def service_pids(self):
        """{name: [pid, ...]} from `postern status`, else from /proc.

        Names are master, lookup, enqueue, qmgr, local, smtpd (smtpd once
        per worker).
        """
        pids = self.status_pids()
        return pids if pids else self.proc_pids()

    def status_pids(self):
        try:
            r = self.cli("status", timeout=10)
        except subprocess.TimeoutExpired:
            return {}
        if r.returncode != 0:
            return {}
        return parse_status(r.stdout)

    def proc_pids(self):
        """The instance's processes found by walking /proc from our child."""
        if self.proc is None:
            return {}
        pids = {}
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            name = process_name(pid)
            if name:
                pids.setdefault(name, []).append(pid)
        if "master" not in pids and "postern" in pids:
            # `postern dev` may itself become the master.
            pids["master"] = pids.pop("postern")
        return pids

    # -- the queue -----------------------------------------------------------

    def queue_files(self, ids_only=False):
        found = []
        for d in QUEUE_DIRS:
            try:
                names = os.listdir(self.spool(d))
            except FileNotFoundError:
                continue
            found += [os.path.join(d, n) for n in names
                      if not ids_only or QUEUE_ID_RE.match(n)]
        return sorted(found)

    def wait_queue_empty(self, timeout=10, ids_only=False):
        """Waits until incoming/, active/ and deferred/ are empty (with
        ids_only, until they hold no file named like a queue id)."""
        try:
            wait_for(lambda: not self.queue_files(ids_only), timeout,
                     "an empty queue")
        except AssertionError as e:
            raise AssertionError("%s; left: %s\n`postern queue list`:\n%s"
                                 % (e, self.queue_files(ids_only)[:20],
                                    self.cli("queue", "list").stdout[:3000]))

    # -- mail ----------------------------------------------------------------

    def send(self, message, rcpts=("demo@localhost",),
             sender="sender@example.net", helo="client.example"):
        """Sends message (bytes, CRLF) with smtplib; returns the 250 text.

        smtplib dot-stuffs the data; it leaves bytes otherwise untouched.
        """
        with smtplib.SMTP(LOCALHOST, self.smtp_port, local_hostname=helo,
                          timeout=30) as s:
            code, text = s.ehlo()
            assert code == 250, (code, text)
            code, text = s.mail(sender)
            assert code == 250, ("MAIL", code, text)
            for r in rcpts:
                code, text = s.rcpt(r)
                assert code == 250, ("RCPT", r, code, text)
            code, text = s.data(message)
            assert code == 250, ("DATA", code, text)
            return text.decode("utf-8", "replace")


def parse_status(text):
    """Parses `postern status`: one "NAME PID [STATE...]" line per process."""
    pids = {}
    for line in text.splitlines():
        tok = line.split()
        if len(tok) < 2 or not tok[1].isdigit():
            continue
        m = re.match(r"[a-z0-9]+", tok[0])
        if m:
            pids.setdefault(m.group(0), []).append(int(tok[1]))
    return pids


def read_stat(pid):
    """(ppid, pgid) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may contain spaces.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[2])


def all_pids():
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def descendants(root):
    children = {}
    for pid in all_pids():
        st = read_stat(pid)
        if st:
            children.setdefault(st[0], []).append(pid)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def group_members(pgid):
    """Live (non-zombie) processes in process group pgid."""
    out = []
    for pid in all_pids():
        st = read_stat(pid)
        if st and st[1] == pgid and proc_state(pid) not in ("Z", None):
            out.append(pid)
    return out


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(")") + 2:].split()[0]


def process_name(pid):
    """"smtpd" for postern-smtpd, "postern" for the CLI, else None."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    for name in (os.path.basename(argv0.split()[0]) if argv0 else "", comm):
        if name.startswith("postern-"):
            return name[len("postern-"):]
        if name == "postern":
            return name
    return None


def proc_status(pid):
    """/proc/PID/status as a dict of field -> value string."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


# ---------------------------------------------------------------------------
# A raw SMTP conversation

class Reply:
    def __init__(self, code, lines):
        self.code = code
        self.lines = lines		# the text of each line, after "250-"

    @property
    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return "%d %s" % (self.code, " | ".join(self.lines))


class SmtpWire:
    """One SMTP session on the wire, written the way it is read:

	s = SmtpWire(port)
	s.expect(220)
	s.send("EHLO client.example")
	s.expect(250)
	s.send("MAIL FROM:<bad")
	s.expect(501)

    Failures show the whole transcript.
    """

    MAX_LINE = 1 << 16

    def __init__(self, port, host=LOCALHOST, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rfile = self.sock.makefile("rb")
        self.transcript = []

    def send(self, line):
        data = line.encode() if isinstance(line, str) else line
        self.send_raw(data + b"\r\n")

    def send_raw(self, data):
        self._note("C: ", data)
        self.sock.sendall(data)

    def reply(self):
        """Reads one (possibly multi-line) reply; EOFError if closed."""
        lines, code = [], None
        while True:
            raw = self.rfile.readline(self.MAX_LINE)
            if not raw:
                self._note("S: ", b"<connection closed>")
                raise EOFError("connection closed by server\n"
                               + self.dialogue())
            self._note("S: ", raw)
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            if len(line) < 3 or not line[:3].isdigit():
                raise AssertionError("malformed reply %r\n%s"
                                     % (line, self.dialogue()))
            code = int(line[:3])
            lines.append(line[4:])
            if line[3:4] != "-":
                return Reply(code, lines)

    def expect(self, code, text=None):
        """Reads a reply and checks its code (an int or a tuple of ints)
        and, if given, that text starts its first line (e.g. "5.5.2").
        """
        r = self.reply()
        codes = code if isinstance(code, tuple) else (code,)
        ok = r.code in codes and (text is None or r.lines[0].startswith(text))
        assert ok, ("expected %s%s, got %r\n%s"
                    % ("/".join(map(str, codes)),
                       " " + text if text else "", r, self.dialogue()))
        return r

    def closed(self, timeout=5.0):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            return self.rfile.read(1) == b""
        except (socket.timeout, OSError):
            return False

    def hello(self, name="client.example"):
        self.expect(220)
        self.send("EHLO " + name)
        return self.expect(250)

    def dialogue(self):
        return "\n".join(self.transcript[-40:])

    def _note(self, who, data):
        text = data.decode("utf-8", "replace").rstrip("\r\n")
        if len(text) > 200:
            text = text[:200] + "...(%d octets)" % len(data)
        self.transcript.append(who + text.replace("\r", "\\r")
                               .replace("\n", "\\n"))

    def close(self):
        # The file from makefile() holds the descriptor too: close both,
        # or the server never sees the client go.
        for f in (self.rfile, self.sock):
            try:
                f.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
