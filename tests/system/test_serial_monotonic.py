"""The served serial never goes backwards (issue 11, defect 4).

A secondary ignores a zone whose serial went back (RFC 1982), so losing state must not send
it back: the highest serial ever served is recorded on its own (<state>/<zone>.serial,
replaced atomically and fsync'ed before the serial is published). After several reloads the
journal is deleted, a middle journal entry is corrupted, or the snapshot is deleted; after a
restart the served serial is above every serial served before, and the log warns naming
what was lost. Every process started here is stopped by its own PID.
"""

import os
import signal

import dns.message
import dns.query
import pytest

import sdlib

ZONE = """$ORIGIN example.com.
$TTL 300
@     IN SOA ns1 hostmaster 2024010101 3600 600 1209600 300
@     IN NS  ns1
ns1   IN A   127.0.0.1
"""
BASE = 2024010101


def config(d, port):
    return {
        "server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                   "control-socket": os.path.join(d, "ctl.sock"), "state-dir": d},
        "zones": [{"name": "example.com", "file": os.path.join(d, "example.com.zone")}],
    }


def start(d, port):
    srv = sdlib.Steerdns(d, config(d, port), {"example.com": os.path.join(d, "example.com.zone")},
                         port)
    srv.wait_ready("example.com")
    return srv


def serial(port):
    q = dns.message.make_query("example.com.", "SOA")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return r.answer[0][0].serial


def write_zone(d, records):
    # the file keeps its serial: each reload's change gets the next one (increment)
    with open(os.path.join(d, "example.com.zone"), "w") as f:
        f.write(ZONE + "".join("h%d IN A 192.0.2.%d\n" % (i, i) for i in range(1, records + 1)))


def served_up_to(d, port, reloads):
    """Start, reload `reloads` times with a change each, stop; the highest serial served."""
    write_zone(d, 0)
    sd = start(d, port)
    try:
        for i in range(1, reloads + 1):
            write_zone(d, i)
            r = sd.steerctl("reload")
            assert r.returncode == 0, r.stdout + r.stderr
            assert serial(port) == BASE + i
        return serial(port)
    finally:
        assert sd.stop() == 0


def corrupt_middle_entry(path):
    with open(path, "r+b") as f:
        data = f.read()
        offs = [i for i in range(len(data)) if data.startswith(b"SDJE", i)]
        assert len(offs) >= 4
        f.seek(offs[2] + 20)  # inside the third entry's payload: its checksum fails
        f.write(bytes([data[offs[2] + 20] ^ 0xFF]))


def lose_journal(d):
    os.unlink(os.path.join(d, "example.com.journal"))
    return "example.com.journal"


def lose_middle_entry(d):
    corrupt_middle_entry(os.path.join(d, "example.com.journal"))
    return "example.com.journal"


def lose_snapshot(d):
    os.unlink(os.path.join(d, "example.com.snapshot"))
    return "example.com.snapshot"


@pytest.mark.parametrize("lose", [lose_journal, lose_middle_entry, lose_snapshot])
def test_serial_goes_on_above_after_lost_state(tmp_path, lose):
    d = str(tmp_path)
    port = sdlib.free_port()
    before = served_up_to(d, port, 5)
    assert before == BASE + 5
    with open(os.path.join(d, "example.com.serial")) as f:
        assert int(f.read()) == before
    lost = lose(d)
    sd = start(d, port)
    try:
        after = serial(port)
        assert after > before, (before, after)  # no wrap here: plain > is RFC 1982's
        log = sd.log()
        warn = [l for l in log.splitlines() if "changes were lost" in l]
        assert warn and lost in warn[0], log
        # the content is the file's, and a reload without a change keeps the serial
        q = dns.message.make_query("h5.example.com.", "A")
        assert dns.query.udp(q, "127.0.0.1", port=port, timeout=2).answer
        assert sd.steerctl("reload").returncode == 0
        assert serial(port) == after
    finally:
        assert sd.stop() == 0
    seen = len(sd.log())
    sd = start(d, port)  # and the next start serves the same, with no warning
    try:
        assert serial(port) == after
        assert "changes were lost" not in sd.log()[seen:]
    finally:
        assert sd.stop() == 0


def test_lost_serial_record_is_not_fatal(tmp_path):
    d = str(tmp_path)
    port = sdlib.free_port()
    before = served_up_to(d, port, 2)
    os.unlink(os.path.join(d, "example.com.serial"))
    sd = start(d, port)
    try:
        assert serial(port) == before  # journal and snapshot intact: nothing was lost
    finally:
        assert sd.stop() == 0
    with open(os.path.join(d, "example.com.serial")) as f:
        assert int(f.read()) == before  # recorded again


def test_reserved_serials_after_kill(tmp_path):
    """While running, the record reserves serials ahead (one durable write per
    ZONE_SERIAL_RESERVE commits, not one per commit); a clean stop settles it to the served
    serial, and a SIGKILL leaves the reservation: the next start serves a serial above it
    (a secondary never sees a serial reused), saying so as a notice, not as lost state."""
    d = str(tmp_path)
    port = sdlib.free_port()
    record = os.path.join(d, "example.com.serial")
    write_zone(d, 0)
    sd = start(d, port)
    try:
        write_zone(d, 1)
        assert sd.steerctl("reload").returncode == 0
        assert serial(port) == BASE + 1
        with open(record) as f:
            reserved = f.read()
        assert reserved.endswith(" reserved\n"), reserved
        reserved = int(reserved.split()[0])
        assert reserved > BASE + 1
        # the next commits are covered by the reservation: the record does not move
        write_zone(d, 2)
        assert sd.steerctl("reload").returncode == 0
        assert serial(port) == BASE + 2
        with open(record) as f:
            assert int(f.read().split()[0]) == reserved
    finally:
        sd.signal(signal.SIGKILL)  # our own child, by PID
        sd.stop()
    sd = start(d, port)
    try:
        after = serial(port)
        assert after > reserved, (reserved, after)
        log = sd.log()
        assert "reserved before an unclean stop" in log, log
        assert "changes were lost" not in log, log
        q = dns.message.make_query("h2.example.com.", "A")
        assert dns.query.udp(q, "127.0.0.1", port=port, timeout=2).answer
    finally:
        assert sd.stop() == 0
    with open(record) as f:
        assert f.read() == "%d\n" % after  # a clean stop: the served serial, exactly
