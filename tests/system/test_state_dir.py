"""The zone's state directory and its one write path (issue 7).

A second steerdns on the same state directory cannot open the zone's journal (it is locked)
and exits instead of interleaving appends; a changed zone file path keeps the zone's journal,
serials and IXFR history (one journal handle per zone, diffed old file -> new file); a
restart takes the file's own change since the last load, once. Every process started here is
stopped by its own PID.
"""

import os
import subprocess

import dns.message
import dns.query
import dns.rdatatype

import sdlib

ZONE = """$ORIGIN example.com.
$TTL 300
@     IN SOA ns1 hostmaster 2024010101 3600 600 1209600 300
@     IN NS  ns1
ns1   IN A   127.0.0.1
www   IN A   192.0.2.80
"""


def config(workdir, state_dir, port, zone_path):
    return {
        "server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                   "control-socket": os.path.join(workdir, "ctl.sock"),
                   "state-dir": state_dir},
        "zones": [{"name": "example.com", "file": zone_path,
                   "transfer-acl": [{"address": "127.0.0.1/32"}]}],
    }


def start(workdir, state_dir, port, zone_path):
    srv = sdlib.Steerdns(workdir, config(workdir, state_dir, port, zone_path),
                         {"example.com": zone_path}, port)
    srv.wait_ready("example.com")
    return srv


def answer(port, name, rdtype="A"):
    q = dns.message.make_query(name, rdtype)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    return sorted(rd.to_text() for rrset in r.answer for rd in rrset)


def serial(port):
    return int(answer(port, "example.com.", "SOA")[0].split()[2])


def ixfr_is_incremental(port, since):
    msgs = list(dns.query.xfr("127.0.0.1", "example.com.", port=port,
                              rdtype=dns.rdatatype.IXFR, serial=since, lifetime=10))
    soas = [rr for m in msgs for rrset in m.answer if rrset.rdtype == dns.rdatatype.SOA
            for rr in rrset]
    return len(soas) > 2  # an AXFR-style answer has the SOA twice, a difference sequence more


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_second_daemon_on_one_state_dir_is_refused(tmp_path):
    a_dir, b_dir, state = (str(tmp_path / n) for n in ("a", "b", "state"))
    for d in (a_dir, b_dir, state):
        os.makedirs(d)
    zone = os.path.join(a_dir, "example.com.zone")
    write(zone, ZONE)
    port_a, port_b = sdlib.free_port(), sdlib.free_port()
    a = start(a_dir, state, port_a, zone)
    try:
        cfg = os.path.join(b_dir, "steerdns.yaml")
        write(cfg, sdlib.to_yaml(config(b_dir, state, port_b, zone)) + "\n")
        b = subprocess.run([sdlib.binary("steerdns"), "-c", cfg], capture_output=True,
                           text=True, timeout=30)
        assert b.returncode != 0
        assert "another steerdns" in b.stderr + b.stdout
        assert serial(port_a) == 2024010101  # the first one is unharmed
    finally:
        assert a.stop() == 0


def test_moved_zone_file_keeps_journal_and_history(tmp_path):
    d = str(tmp_path / "sd")
    os.makedirs(d)
    old, new = os.path.join(d, "old.zone"), os.path.join(d, "new.zone")
    write(old, ZONE)
    port = sdlib.free_port()
    sd = start(d, d, port, old)
    try:
        write(old, ZONE + "a IN A 192.0.2.1\n")
        assert sd.steerctl("reload").returncode == 0
        assert serial(port) == 2024010102
        # the config now names another file with one more edit: one journal, one more serial
        write(new, ZONE + "a IN A 192.0.2.1\nb IN A 192.0.2.2\n")
        cfg = config(d, d, port, new)
        with open(sd.config_path, "w") as f:
            f.write(sdlib.to_yaml(cfg) + "\n")
        r = sd.steerctl("reload")
        assert r.returncode == 0, r.stdout + r.stderr
        assert serial(port) == 2024010103
        assert answer(port, "b.example.com.") == ["192.0.2.2"]
        assert ixfr_is_incremental(port, 2024010101)
        assert "EBUSY" not in sd.log() and "another steerdns" not in sd.log()
    finally:
        assert sd.stop() == 0


def test_restart_takes_the_files_change_once(tmp_path):
    d = str(tmp_path / "sd")
    os.makedirs(d)
    zone = os.path.join(d, "example.com.zone")
    write(zone, ZONE)
    port = sdlib.free_port()
    sd = start(d, d, port, zone)
    try:
        assert serial(port) == 2024010101
    finally:
        assert sd.stop() == 0
    assert os.path.exists(os.path.join(d, "example.com.file"))
    write(zone, ZONE + "late IN A 192.0.2.9\n")  # edited while stopped
    sd = start(d, d, port, zone)
    try:
        assert serial(port) == 2024010102
        assert answer(port, "late.example.com.") == ["192.0.2.9"]
    finally:
        assert sd.stop() == 0
    with open(zone) as f:
        assert "2024010101" in f.read()  # the operator's file is never written
    sd = start(d, d, port, zone)  # unchanged since: no new serial
    try:
        assert serial(port) == 2024010102
        assert ixfr_is_incremental(port, 2024010101)
    finally:
        assert sd.stop() == 0


def base_note(state_dir):
    """The first line of the zone's base copy (<state>/<zone>.file)."""
    with open(os.path.join(state_dir, "example.com.file")) as f:
        return f.readline().rstrip("\n")


def file_changes(sd):
    """The event=zone-file-change lines logged so far: which base each reload diffed against."""
    return [e["base"] for e in sdlib.log_events(sd.log(), "zone-file-change", zone="example.com")]


def test_reload_parses_the_base_copy_only_after_another_change(tmp_path):
    """A reload diffs the new file against the version served when that version is the file as
    last loaded (no copy parsed: base=version); after an UPDATE the copy is parsed
    (base=copy), the UPDATE's record stays, and it stays so while the zone serves it; a
    restart on the state of a plain reload takes the fast path again."""
    d = str(tmp_path / "sd")
    os.makedirs(d)
    zone = os.path.join(d, "example.com.zone")
    write(zone, ZONE)
    port = sdlib.free_port()
    cfg = sdlib.steerdns_update_config(d, port, "example.com", zone,
                                       [{"key": sdlib.UPDATE_KEY.name.to_text()}])
    sd = sdlib.Steerdns(d, cfg, {"example.com": zone}, port)
    sd.wait_ready("example.com")
    try:
        write(zone, ZONE + "a IN A 192.0.2.1\n")
        assert sd.steerctl("reload", "example.com").returncode == 0
        assert answer(port, "a.example.com.") == ["192.0.2.1"]
        assert file_changes(sd) == ["version"]
        # the base copy is written once the reply is out, noting what the next reload needs
        assert sd.wait_for(lambda: base_note(d) == "; steerdns: the zone file as last loaded, "
                           "committed at serial 2024010102, served as loaded, file serial "
                           "2024010101")
        assert sdlib.nsupdate_rcode(sdlib.nsupdate(port, [
            "update add dyn.example.com. 300 A 192.0.2.50"])[1]) == "NOERROR"
        write(zone, ZONE + "a IN A 192.0.2.2\n")
        assert sd.steerctl("reload", "example.com").returncode == 0
        assert answer(port, "a.example.com.") == ["192.0.2.2"]
        assert answer(port, "dyn.example.com.") == ["192.0.2.50"]
        assert file_changes(sd) == ["version", "copy"]
        write(zone, ZONE + "a IN A 192.0.2.3\n")
        assert sd.steerctl("reload", "example.com").returncode == 0
        assert answer(port, "dyn.example.com.") == ["192.0.2.50"]
        assert file_changes(sd) == ["version", "copy", "copy"]
        # the file takes dyn too: from then on the zone serves the file as loaded
        write(zone, ZONE + "a IN A 192.0.2.3\ndyn IN A 192.0.2.50\n")
        assert sd.steerctl("reload", "example.com").returncode == 0
        write(zone, ZONE + "a IN A 192.0.2.4\ndyn IN A 192.0.2.50\n")
        assert sd.steerctl("reload", "example.com").returncode == 0
        assert answer(port, "a.example.com.") == ["192.0.2.4"]
        assert file_changes(sd) == ["version", "copy", "copy", "copy", "version"]
        assert "error" not in sd.log()
    finally:
        assert sd.stop() == 0
    write(zone, ZONE + "a IN A 192.0.2.5\ndyn IN A 192.0.2.50\n")  # edited while stopped
    sd = sdlib.Steerdns(d, cfg, {"example.com": zone}, port)
    sd.wait_ready("example.com")
    try:
        assert answer(port, "a.example.com.") == ["192.0.2.5"]
        assert file_changes(sd)[-1] == "version"
    finally:
        assert sd.stop() == 0
