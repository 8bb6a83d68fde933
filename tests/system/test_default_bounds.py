"""The journal and the IXFR history are bounded when no limits are set (issue 11, defect 6).

With no journal-max-size / journal-max-depth, every reload used to grow the journal file
and the in-memory IXFR history for ever. The defaults are 100 entries and max(1 MiB, twice
the zone's size in memory), re-fitted at every change (contrib/examples/steerdns.yaml).
Many full-zone changes (every record replaced) of a zone of a few thousand records must
leave the journal file near that bound and the history holding only the newest steps: an
IXFR from an old serial gets the AXFR-style answer, one from the previous serial a
difference sequence. Every process started here is stopped by its own PID.
"""

import os

import dns.message
import dns.query
import dns.rdatatype

import sdlib

RECORDS = 3000
CHANGES = 16
MIB = 1 << 20


def write_zone(path, gen, records=RECORDS):
    # the SOA serial stays: each reload's change gets the next one (increment)
    lines = ["$ORIGIN example.com.", "$TTL 300",
             "@ IN SOA ns1 hostmaster 1 3600 600 1209600 300", "@ IN NS ns1",
             "ns1 IN A 127.0.0.1"]
    lines += ["h%d IN TXT \"generation %d of a record long enough to weigh\"" % (i, gen)
              for i in range(records)]
    with open(path + ".new", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(path + ".new", path)  # atomic replacement, as the README says


def serial(port):
    q = dns.message.make_query("example.com.", "SOA")
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=2).answer[0][0].serial


def ixfr_is_incremental(port, since):
    msgs = list(dns.query.xfr("127.0.0.1", "example.com.", port=port,
                              rdtype=dns.rdatatype.IXFR, serial=since, lifetime=30))
    soas = [rr for m in msgs for rrset in m.answer if rrset.rdtype == dns.rdatatype.SOA
            for rr in rrset]
    return len(soas) > 2  # an AXFR-style answer has the SOA twice


def start(d, zone, records=RECORDS):
    write_zone(zone, 0, records)
    port = sdlib.free_port()
    conf = {"server": {"listen": ["127.0.0.1:%d" % port], "workers": 1,
                       "control-socket": os.path.join(d, "ctl.sock"), "state-dir": d},
            "zones": [{"name": "example.com", "file": zone,
                       "transfer-acl": [{"address": "127.0.0.1/32"}]}]}
    sd = sdlib.Steerdns(d, conf, {"example.com": zone}, port)
    sd.wait_ready("example.com")
    return sd, port, conf


def test_full_zone_changes_stay_within_default_bounds(tmp_path):
    d = str(tmp_path)
    zone = os.path.join(d, "example.com.zone")
    sd, port, conf = start(d, zone)
    journal = os.path.join(d, "example.com.journal")
    try:
        entry = 0
        for gen in range(1, CHANGES + 1):
            before = os.path.getsize(journal)
            write_zone(zone, gen)
            r = sd.steerctl("reload")
            assert r.returncode == 0, r.stdout + r.stderr
            assert serial(port) == 1 + gen
            if gen == 1:
                entry = os.path.getsize(journal) - before  # one full-zone change
        # unbounded, the journal would hold every change: CHANGES entries
        assert entry * CHANGES > 2 * MIB, entry
        size = os.path.getsize(journal)
        assert size <= MIB + entry, (size, entry)
        assert "compacted" in sd.log()
        # the history is bounded alike: the newest step is there, the oldest are not
        assert ixfr_is_incremental(port, CHANGES)
        assert not ixfr_is_incremental(port, 2)
    finally:
        assert sd.stop() == 0
    # a restart rebuilds the history from the (bounded) journal: same answers
    sd = sdlib.Steerdns(d, conf, {"example.com": zone}, port)
    sd.wait_ready("example.com")
    try:
        assert serial(port) == 1 + CHANGES
        assert os.path.getsize(journal) <= MIB + entry
        assert ixfr_is_incremental(port, CHANGES)
        assert not ixfr_is_incremental(port, 2)
    finally:
        assert sd.stop() == 0


def test_bound_follows_the_zone_size(tmp_path):
    """A zone whose full change is over 1 MiB: the bound is relative to the zone, so the
    newest full-zone change is still kept for IXFR, and the journal is still trimmed."""
    d = str(tmp_path)
    zone = os.path.join(d, "example.com.zone")
    sd, port, _ = start(d, zone, records=12000)
    journal = os.path.join(d, "example.com.journal")
    try:
        sizes = []
        for gen in range(1, 6):
            before = os.path.getsize(journal)
            write_zone(zone, gen, records=12000)
            assert sd.steerctl("reload").returncode == 0
            assert serial(port) == 1 + gen
            sizes.append(os.path.getsize(journal) - before)
        entry = sizes[0]
        assert entry > MIB  # one step is over the 1 MiB floor
        assert ixfr_is_incremental(port, 5)  # yet it is kept
        assert not ixfr_is_incremental(port, 1)
        assert os.path.getsize(journal) < 5 * entry  # and the journal was trimmed
    finally:
        assert sd.stop() == 0
