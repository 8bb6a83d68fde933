"""A zone file rewritten in place while a reload reads it (issue 11, defect 8).

An editor or script that rewrites the file in place leaves it truncated for a while; a
reload in that window used to publish the truncated zone (the records past the cut gone
until the next reload). The daemon now waits until the file has been left alone for a
settle time and reads it again. Here a thread rewrites the file slowly, in place, while
reloads keep coming; a record at the very end of the file must answer throughout, and the
writer's final content is served once it is done. Every wait is bounded.
"""

import os
import threading
import time

import dns.rcode

import sdlib

N = 3000


def zone_text(serial, last):
    lines = ["$ORIGIN slow.test.", "$TTL 300",
             "@ SOA ns hostmaster %d 3600 600 86400 60" % serial, "@ NS ns", "ns A 192.0.2.1"]
    lines += ["h%d A 10.0.%d.%d" % (i, i >> 8, i & 255) for i in range(N)]
    lines.append("zlast A %s" % last)
    return "\n".join(lines) + "\n"


def slow_write(path, text, chunk=100, pause=0.03):
    """Rewrite path in place (truncate, then chunk whole lines at a time, as a script
    printing records would), never renaming."""
    lines = text.splitlines(keepends=True)
    with open(path, "r+") as f:
        f.truncate(0)
        f.flush()
        for i in range(0, len(lines), chunk):
            f.write("".join(lines[i:i + chunk]))
            f.flush()
            os.fsync(f.fileno())
            time.sleep(pause)


def answer(d):
    r = d.query("zlast.slow.test", "A", timeout=2.0)
    if r is None:
        return None
    return (r.rcode(), r.to_text())


def test_in_place_rewrite_never_publishes_a_truncated_zone(tmp_path):
    zone = str(tmp_path / "slow.test.zone")
    with open(zone, "w") as f:
        f.write(zone_text(1, "192.0.2.99"))
    port = sdlib.free_port()
    conf = sdlib.steerdns_config(str(tmp_path), port, {"slow.test": zone})
    d = sdlib.Steerdns(str(tmp_path), conf, {"slow.test": zone}, port)
    try:
        d.wait_ready("slow.test", timeout=30)
        assert answer(d)[0] == dns.rcode.NOERROR
        writer = threading.Thread(target=slow_write,
                                  args=(zone, zone_text(2, "192.0.2.100")))
        writer.start()
        bad, polls = [], 0
        while writer.is_alive():
            d.steerctl("reload", "slow.test", timeout=60)  # returns when the reload ends
            a = answer(d)
            polls += 1
            if a is None or a[0] != dns.rcode.NOERROR:
                bad.append(a)
        writer.join()
        assert polls > 0
        assert not bad, "a truncated zone was served: %s\n%s" % (bad[:3], d.log())
        # the final content shows after the writer is done (the settle time, then a reload)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            d.steerctl("reload", "slow.test", timeout=60)
            a = answer(d)
            assert a is not None and a[0] == dns.rcode.NOERROR, (a, d.log())
            if "192.0.2.100" in a[1]:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the final content was never served:\n" + d.log())
        st = d.steerctl("status").stdout
        assert "serial 2 records %d" % (N + 4) in st, st
    finally:
        assert d.stop() == 0
