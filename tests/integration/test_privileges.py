"""
Started as root, only the master keeps uid 0; every service runs under a
non-zero uid with no capabilities and NO_NEW_PRIVS, the queue owner, the
network-facing smtpd and the password-reading lookup have different uids,
and smtpd is chrooted into the empty jail (PRIVSEP.md, "What a test reads
from outside").
"""

import os
import time

import pytest

from postern_instance import proc_status

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="privilege separation needs root")

SERVICES = ("lookup", "enqueue", "qmgr", "local", "smtpd")
NO_CAPS = "0000000000000000"
# PRIVSEP.md: cap_kill, cap_setgid, cap_setuid, cap_net_bind_service,
# cap_sys_chroot.
MASTER_CAPS = 0x404e0


def ids(field):
    return [int(x) for x in field.split()]


@pytest.fixture(scope="module")
def procs(instance):
    """{name: [(pid, /proc/PID/status dict)]} for master and services."""
    pids = instance.service_pids()
    for name in ("master",) + SERVICES:
        assert name in pids, "no %s process: %s" % (name, pids)
    # A service still starting has not dropped its privileges yet (under
    # the sanitizers start-up is slow): give each one time to finish its
    # start-up, then judge what it kept.
    deadline = time.monotonic() + 15
    for name in SERVICES:
        for pid in pids[name]:
            while (proc_status(pid).get("NoNewPrivs") != "1" and
                   time.monotonic() < deadline):
                time.sleep(0.1)
    return {name: [(pid, proc_status(pid)) for pid in plist]
            for name, plist in pids.items()}


def test_master_is_root(procs):
    [(pid, st)] = procs["master"]
    assert ids(st["Uid"]) == [0, 0, 0, 0], st["Uid"]


def test_master_keeps_only_the_capabilities_it_needs(procs):
    [(pid, st)] = procs["master"]
    for field in ("CapEff", "CapPrm", "CapBnd"):
        extra = int(st[field], 16) & ~MASTER_CAPS
        assert extra == 0, "master %s: %s holds %#x beyond %#x" % (
            field, st[field], extra, MASTER_CAPS)


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_not_root(procs, name):
    for pid, st in procs[name]:
        uid = ids(st["Uid"])
        assert 0 not in uid, "%s[%d] Uid: %s" % (name, pid, st["Uid"])
        assert len(set(uid)) == 1, "%s[%d] Uid: %s" % (name, pid, st["Uid"])
        assert 0 not in ids(st["Gid"]), "%s[%d] Gid: %s" % (name, pid, st["Gid"])
        assert st["Groups"] == "", "%s[%d] Groups: %s" % (name, pid, st["Groups"])


@pytest.mark.parametrize("name", SERVICES)
def test_service_has_no_capabilities(procs, name):
    for pid, st in procs[name]:
        for field in ("CapEff", "CapPrm", "CapAmb"):
            assert st[field] == NO_CAPS, "%s[%d] %s: %s" % (
                name, pid, field, st[field])
        assert st["NoNewPrivs"] == "1", "%s[%d] NoNewPrivs: %s" % (
            name, pid, st["NoNewPrivs"])


def test_roles_do_not_share_uids(procs):
    uid = {name: ids(procs[name][0][1]["Uid"])[0] for name in SERVICES}
    assert uid["enqueue"] == uid["qmgr"], uid	# both own the queue
    assert uid["smtpd"] != uid["qmgr"], uid
    assert uid["smtpd"] != uid["lookup"], uid
    assert uid["smtpd"] != uid["local"], uid
    assert uid["lookup"] != uid["qmgr"], uid


def test_smtpd_is_chrooted_into_the_empty_jail(instance, procs):
    settings = dict(l.split(" = ", 1) for l in
                    instance.cli_ok("config").stdout.splitlines()
                    if " = " in l)
    jail = os.path.realpath(os.path.join(instance.dir, settings["empty_dir"]))
    for pid, _ in procs["smtpd"]:
        root = os.readlink("/proc/%d/root" % pid)
        assert root != "/", "smtpd[%d] is not chrooted" % pid
        assert root == jail, "smtpd[%d] root %s, expected %s" % (pid, root, jail)
        assert os.listdir("/proc/%d/root/" % pid) == [], "the jail is not empty"
