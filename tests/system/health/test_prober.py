"""System tests of the health prober against real local endpoints (issue 4), run inside the
real daemon and seen through `steerctl health [--json]` and the daemon's log.

Each transition must come after exactly `fall` failures or `rise` successes (the count is in
the one log line per transition), within the time those checks take at the configured
interval, and with the right reason in the report.
"""

import signal
import time

import pytest
import sdlib
from servers import HttpServer, Pki, TcpListener, wait_for

INTERVAL = 0.2  # seconds, jitter 0% so the bounds below are tight
# Scheduling slack allowed past the last expected check: the lower bounds are exact (a
# transition never comes early), the upper ones only have to catch a prober that missed its
# checks, on a CI machine that runs the suite beside other work (issue 11, defect 11).
SLACK = 3.0


def template(name, type_, **keys):
    lines = ["    - name: %s" % name, "      type: %s" % type_]
    keys.setdefault("interval", "200ms")
    keys.setdefault("jitter", "0%")
    for k, v in keys.items():
        lines.append("      %s: %s" % (k.replace("_", "-"), v))
    return "\n".join(lines)


def target(name, tpl, port, address="127.0.0.1", **keys):
    lines = ["    - name: %s" % name, "      address: '%s'" % address,
             "      port: %d" % port, "      template: %s" % tpl]
    for k, v in keys.items():
        lines.append("      %s: %s" % (k.replace("_", "-"), v))
    return "\n".join(lines)


def config(templates, targets, state_file=None):
    out = ["health:"]
    if state_file:
        out.append("  state-file: %s" % state_file)
    out.append("  templates:")
    out.extend(templates)
    out.append("  targets:")
    out.extend(targets)
    return "\n".join(out) + "\n"


def wait_state(p, name, state, timeout):
    return wait_for(lambda: (p.target(name) or {}).get("state") == state, timeout)


def wait_checks(p, name, n, timeout=5):
    return wait_for(lambda: (p.target(name) or {}).get("checks", 0) >= n, timeout)


def expect_transition(p, name, state, count, reason, t0, checks, n_before):
    """Wait for the next logged transition of name (after the first n_before) to state; assert
    count, reason and that it came after `checks` check intervals at most (plus the timeout
    and scheduling slack: SLACK, for a busy machine). n_before is counted before the change
    that causes the transition: counted after it, a check with rise=1 can log the transition
    first and the wait would look past it."""
    assert wait_state(p, name, state, timeout=checks * INTERVAL + SLACK + 3), p.text()
    elapsed = time.monotonic() - t0
    tr = wait_for(lambda: p.transitions(name)[n_before:], 2)
    assert tr, p.log()[-2000:]
    assert len(tr) == 1, tr  # logged once
    got_state, got_count, got_reason = tr[0]
    assert got_state == state.upper()
    assert got_count == count, tr
    assert reason in got_reason, (reason, got_reason)
    # exactly `count` checks (got_count above): the checks run at a fixed rate, so on a busy
    # machine a check that started late can complete less than one interval before the next
    # on-time one; count-1 half intervals still tell `count` checks from fewer
    assert elapsed >= (count - 1) * INTERVAL / 2, elapsed
    assert elapsed <= checks * INTERVAL + SLACK, elapsed
    rep = p.target(name)
    assert reason in rep["reason"] or state == "up", rep
    return rep


def test_http_transitions_and_reasons(prober_factory, endpoints):
    srv = HttpServer()
    endpoints.append(srv)
    tpl = template("web", "http", path="/healthz", host="www.example.com",
                   expect_body="ok-marker", timeout="600ms", rise=2, fall=3)
    p = prober_factory(config([tpl], [target("web1", "web", srv.port, pool="eu-west")]))
    assert wait_checks(p, "web1", 2), p.text()
    rep = p.target("web1")
    assert rep["state"] == "up" and rep["last_result"] == "ok", rep
    assert rep["address"] == "127.0.0.1:%d" % srv.port and rep["type"] == "http"
    assert rep["pool"] == "eu-west"
    req = srv.last_request.decode()
    assert req.startswith("GET /healthz HTTP/1.1\r\n"), req
    assert "\r\nHost: www.example.com:%d\r\n" % srv.port in req
    assert "User-Agent: steerdns-health" in req and "Connection: close" in req

    cases = [
        ("500", "HTTP status 500"),
        ("body", 'body mismatch: "ok-marker" not in the first 4096 bytes'),
        ("close", "connection closed before a complete response"),
        ("hang", "timeout after 600 ms waiting for the response"),
        ("redirect", "HTTP status 302 (redirects are not followed)"),
    ]
    for mode, reason in cases:
        # the prober sees each mode from a fresh check; the bound counts whole checks
        per_check = 0.6 if mode == "hang" else 0
        n = len(p.transitions("web1"))
        srv.mode = mode
        t0 = time.monotonic()
        rep = expect_transition(p, "web1", "down", 3, reason, t0, 3 + 3 * per_check / INTERVAL, n)
        assert rep["fail_run"] >= 3 and rep["last_change"] != "never"
        n = len(p.transitions("web1"))
        srv.mode = "200"
        t0 = time.monotonic()
        rep = expect_transition(p, "web1", "up", 2, "HTTP status 200", t0,
                                2 + per_check / INTERVAL, n)
        assert rep["ok_run"] >= 2


def test_tcp_open_close_ipv4_and_ipv6(prober_factory, endpoints):
    l4, l6 = TcpListener("127.0.0.1"), TcpListener("::1")
    endpoints.extend([l4, l6])
    tpl = template("port", "tcp", timeout="500ms", rise=1, fall=2)
    p = prober_factory(config([tpl], [target("t4", "port", l4.port),
                                      target("t6", "port", l6.port, address="::1")]))
    assert wait_checks(p, "t4", 1) and wait_checks(p, "t6", 1)
    assert p.target("t6")["address"] == "[::1]:%d" % l6.port
    for lst, name in ((l4, "t4"), (l6, "t6")):
        assert p.target(name)["state"] == "up", p.text()
        n = len(p.transitions(name))
        lst.close()
        t0 = time.monotonic()
        expect_transition(p, name, "down", 2, "connection refused", t0, 2, n)
        assert p.target(name)["last_result"] == "refused"
        n = len(p.transitions(name))
        lst.open()
        t0 = time.monotonic()
        expect_transition(p, name, "up", 1, "connected", t0, 1, n)


def test_https_certificates(prober_factory, endpoints, pki):
    servers_ = {}
    for name, pair in (("valid", pki.valid), ("expired", pki.expired),
                       ("untrusted", pki.untrusted), ("wrongname", pki.wrong_name),
                       ("insecure", pki.untrusted), ("byip", pki.valid)):
        s = HttpServer(tls=Pki.server_context(pair))
        endpoints.append(s)
        servers_[name] = s
    tpls = [
        template("tls", "https", host="localhost", ca_file=pki.ca_file, expect_body="ok-marker",
                 timeout="1s", rise=1, fall=2),
        template("tls-ip", "https", ca_file=pki.ca_file, timeout="1s", rise=1, fall=2),
        template("tls-insecure", "https", host="localhost", insecure="true", timeout="1s",
                 rise=1, fall=2),
    ]
    tgts = [target(n, "tls", s.port) for n, s in servers_.items() if n not in ("insecure", "byip")]
    tgts.append(target("insecure", "tls-insecure", servers_["insecure"].port))
    tgts.append(target("byip", "tls-ip", servers_["byip"].port))
    t0 = time.monotonic()
    p = prober_factory(config(tpls, tgts))
    expected = {
        "expired": "TLS verify error: certificate has expired",
        "untrusted": "TLS verify error: unable to get local issuer certificate",
        "wrongname": "TLS verify error: hostname mismatch",
    }
    for name, reason in expected.items():
        # first check within one interval, the second one interval later
        rep = expect_transition(p, name, "down", 2, reason, t0, 2, n_before=0)
        assert rep["last_result"] == "tls-verify", rep
    for name in ("valid", "insecure", "byip"):
        assert wait_checks(p, name, 3), p.text()
        rep = p.target(name)
        assert rep["state"] == "up" and rep["last_result"] == "ok", rep
        assert p.transitions(name) == []
    # the certificate is checked on every check (no session resumption): swap it
    n = len(p.transitions("valid"))
    servers_["valid"].set_tls(Pki.server_context(pki.expired))
    expect_transition(p, "valid", "down", 2, "certificate has expired", time.monotonic(), 2, n)
    n = len(p.transitions("valid"))
    servers_["valid"].set_tls(Pki.server_context(pki.valid))
    expect_transition(p, "valid", "up", 1, "HTTP status 200", time.monotonic(), 1, n)


def test_hanging_endpoint_does_not_delay_others(prober_factory, endpoints):
    hang, good = HttpServer(), HttpServer()
    hang.mode = "hang"
    endpoints.extend([hang, good])
    tpl = template("web", "http", timeout="3s", rise=1, fall=1)
    t_start = time.monotonic()
    p = prober_factory(config([tpl], [target("hang", "web", hang.port),
                                      target("good", "web", good.port)]))
    assert wait_checks(p, "good", 1)
    c0, t0 = p.target("good")["checks"], time.monotonic()
    time.sleep(2.0)
    rep, window = p.target("good"), time.monotonic() - t0
    # about ten intervals pass while the hanging check holds its connection and the good
    # target keeps being checked. Were the hang to block the loop, it would get no check
    # until the 3 s timeout; half the intervals of the measured window leaves a busy CI
    # machine (issue 11, 11) its scheduling slack and still tells the two apart.
    assert rep["checks"] - c0 >= int(window / INTERVAL / 2), (rep, window)
    assert rep["latency_ms"] < 1500 and rep["state"] == "up", rep
    # each hanging check holds for its whole 3 s timeout: on a slow start some may have
    # ended already, never more than the time since the start allows, and each by timeout
    hang_rep = p.target("hang")
    assert hang_rep["checks"] <= int((time.monotonic() - t_start) / 3.0), hang_rep
    # the first hanging check ends by its timeout, 3 s after the start at the earliest
    expect_transition(p, "hang", "down", 1, "timeout after 3000 ms waiting for the response",
                      t_start, 16, n_before=0)


@pytest.mark.parametrize("state_file", ["overrides.state", None])
def test_force_survives_restart(prober_factory, endpoints, tmp_path, state_file):
    """Overrides through steerctl, kept in health.state-file (relative to the config file) or,
    without that key, in <server.state-dir>/health.state, and restored by a new daemon."""
    srv = HttpServer()
    endpoints.append(srv)
    tpl = template("web", "http", timeout="500ms", rise=1, fall=1)
    conf = config([tpl], [target("a", "web", srv.port, pool="p1"),
                          target("b", "web", srv.port, pool="p1")],
                  state_file=state_file)
    path = tmp_path / (state_file or "health.state")
    p = prober_factory(conf)
    assert wait_checks(p, "a", 1) and wait_checks(p, "b", 1)
    assert p.health("force-down", "a") == (0, "ok\n")
    assert p.health("force-up", "pool:p1") == (0, "ok\n")
    assert p.health("force-down", "nope") == (1, "unknown target or pool 'nope'\n")
    assert p.health("force-down", "pool:nope") == (1, "unknown target or pool 'pool:nope'\n")
    rc, out = p.health("force-down")
    assert rc == 1 and out.startswith("usage: health force-down TARGET|pool:NAME"), out
    rc, out = p.health("drain", "a")
    assert rc == 1 and out.startswith("usage: health [--json]"), out
    rep = p.report()
    assert rep["a"]["state"] == "down" and rep["a"]["forced"] and rep["a"]["checked"] == "up"
    assert rep["b"]["state"] == "up" and rep["b"]["force"] == "up"
    text = p.text()
    line_a = [line for line in text.splitlines() if line.split()[0] == "a"]
    assert len(line_a) == 1 and " DOWN (forced) " in line_a[0], text
    state = path.read_text()
    assert "target a down" in state and "pool p1 up" in state
    assert p.stop() == 0

    p2 = prober_factory(conf, workdir=tmp_path)
    rep = p2.report()  # the overrides hold from the start, whatever the checks say
    assert rep["a"]["state"] == "down" and rep["a"]["force"] == "down", rep
    assert rep["b"]["force"] == "up"
    assert sdlib.log_events(p2.log(), "health-overrides-restored", count=2, file=path)
    assert p2.health("unforce", "a") == (0, "ok\n")
    assert p2.target("a")["force"] == "up"  # the pool's override applies again
    assert p2.health("unforce", "pool:p1") == (0, "ok\n")
    assert p2.target("a")["forced"] is False
    assert "target" not in path.read_text().split("\n", 1)[1]


def test_reload_keeps_unchanged_schedules(prober_factory, endpoints):
    srv = HttpServer()
    endpoints.append(srv)
    tpl = template("web", "http", timeout="500ms", rise=1, fall=1)
    p = prober_factory(config([tpl], [target("keep", "web", srv.port),
                                      target("drop", "web", srv.port)]))
    assert wait_checks(p, "keep", 3)
    before = p.report()
    p.write_config(config([tpl], [target("keep", "web", srv.port),
                                  target("new", "web", srv.port)]))
    r = p.steerctl("reload")
    assert r.returncode == 0 and "reloaded" in r.stdout, r.stdout + r.stderr
    rep = p.report()
    assert set(rep) == {"keep", "new"}
    assert rep["keep"]["id"] == before["keep"]["id"]
    assert rep["keep"]["checks"] >= before["keep"]["checks"]  # history kept, not restarted
    assert wait_checks(p, "new", 1)
    # the same through SIGHUP
    p.write_config(config([tpl], [target("keep", "web", srv.port)]))
    p.signal(signal.SIGHUP)
    assert wait_for(lambda: set(p.report()) == {"keep"}, 5), p.text()
    assert p.target("keep")["id"] == before["keep"]["id"]
    # a bad reload keeps the running config
    p.write_config(config([tpl], [target("keep", "nope", srv.port)]))
    r = p.steerctl("reload")
    assert r.returncode == 1, r.stdout
    assert "health.targets[0].template: no template named 'nope'" in r.stdout + r.stderr
    assert "configuration not applied, the running one stays" in r.stdout + r.stderr
    assert set(p.report()) == {"keep"}
    assert "health.targets[0].template: no template named 'nope'" in p.log()


def test_runtime_targets_survive_reload(driver_factory, endpoints):
    """Run-time targets (health_target_add/remove; the steering issue will create them from the
    records at steered names) have no control command, so this one runs in the test driver."""
    srv = HttpServer()
    endpoints.append(srv)
    tpl = template("web", "http", timeout="500ms", rise=1, fall=1)
    p = driver_factory(config([tpl], [target("keep", "web", srv.port)]))
    assert wait_checks(p, "keep", 1)
    assert p.cmd("add rt1 127.0.0.1 %d web" % srv.port).startswith("ok ")
    assert wait_checks(p, "rt1", 1)
    assert p.cmd("reload") == "ok"
    assert "rt1" in p.report()  # a reload leaves run-time targets alone
    assert p.cmd("remove rt1") == "ok"
    assert "rt1" not in p.report()
    assert set(p.report()) == {"keep"}
