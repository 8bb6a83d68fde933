"""The README's first command leaves the machine able to do what the README says next (issue 11,
defect 12).

The quick start (contrib/dev/quickstart.sh) installs only the build dependencies
(install-deps.sh --build-only), then tells the reader to query the server with `dig`. On a fresh
Debian machine dig comes from bind9-dnsutils, which the build-only set used to leave out. The test
reads the commands the README's quick start shows, finds the Debian package that provides each
external tool on this machine (dpkg -S), and checks that the exact install-deps invocation
quickstart.sh makes would ensure it (install-deps.sh ... --list installs nothing).
"""

import os
import re
import shlex
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _quickstart_next_commands():
    """Programs the README's quick start block tells the reader to run once the server is up."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README has no quick start block"
    progs = []
    for line in block.group(1).splitlines():
        m = re.match(r"#\s+(?:in another terminal:)?\s+(\S.*)$", line)
        if not m or line.lstrip("#").strip().startswith(("1.", "2.", "-")):
            continue
        prog = shlex.split(m.group(1))[0]
        if "/" not in prog:  # build/server/steerctl is built, not installed
            progs.append(prog)
    return progs


def _quickstart_install_args():
    with open(os.path.join(ROOT, "contrib", "dev", "quickstart.sh")) as f:
        for line in f:
            words = shlex.split(line, comments=True)
            if words and words[0].endswith("install-deps.sh"):
                return words[1:]
    pytest.fail("quickstart.sh does not run install-deps.sh")


def _package_of(prog):
    path = shutil.which(prog)
    assert path, "%s is not installed on this machine" % prog
    out = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.split(":")[0]


def test_quickstart_installs_what_the_readme_runs_next():
    if shutil.which("dpkg") is None:
        pytest.skip("not a Debian machine")
    progs = _quickstart_next_commands()
    assert "dig" in progs, "README quick start no longer mentions dig: %r" % progs
    args = _quickstart_install_args()
    out = subprocess.run(
        [os.path.join(ROOT, "contrib", "dev", "install-deps.sh")] + args + ["--list"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    ensured = set(out.stdout.split())
    for prog in progs:
        pkg = _package_of(prog)
        assert pkg in ensured, "README says run %s (package %s) but install-deps.sh %s ensures %s" % (
            prog, pkg, " ".join(args), sorted(ensured))
