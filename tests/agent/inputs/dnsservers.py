"""Real DNS software for the wire-sensor tests: BIND 9 and unbound on loopback, dig, tcpdump.

Every server listens on 127.0.0.1 on a free port, in its own temporary
directory, and is stopped (SIGTERM, so it flushes and closes its dnstap
stream) when the context ends. Tests that need a program that is not
installed are skipped with the apt package to install.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ZONE_FILE = HERE / "zone_example_test.zone"
ZONE = "example.test"


def need(program: str, package: str) -> str:
    path = shutil.which(program) or (f"/usr/sbin/{program}" if Path(f"/usr/sbin/{program}").exists() else None)
    if path is None:
        pytest.skip(f"{program} is not installed (apt-get install {package})")
    return path


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return int(port)
    raise RuntimeError("no free port")


def dig(port: int, name: str, rrtype: str = "A", *extra: str, server: str = "127.0.0.1") -> str:
    """dig's full text output for one query to ``server`` (127.0.0.1 or ::1) on ``port``."""
    exe = need("dig", "bind9-dnsutils")
    cmd = [exe, f"@{server}", "-p", str(port), name, rrtype, "+tries=2", "+time=3", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise subprocess.SubprocessError(f"{' '.join(cmd)} exited {done.returncode}: {done.stdout}{done.stderr}")
    return done.stdout


def dig_answers(output: str) -> set[tuple[str, str, str]]:
    """``(owner, type, rdata)`` of every record in dig's ANSWER SECTION."""
    section = output.split(";; ANSWER SECTION:\n", 1)
    if len(section) < 2:
        return set()
    out = set()
    for line in section[1].split("\n\n", 1)[0].splitlines():
        owner, _ttl, _cls, rrtype, rdata = line.split(None, 4)
        out.add((owner, rrtype, rdata))
    return out


def dig_status(output: str) -> str:
    match = re.search(r"status: (\w+)", output)
    assert match, output
    return match.group(1)


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if "status:" in dig(port, ZONE, "SOA", "+time=1", "+tries=1"):
                return
        except subprocess.SubprocessError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer: {log.read_text(errors='replace')[-2000:]}")


@contextlib.contextmanager
def process(cmd: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``cmd`` running with its output in ``log``; SIGTERM on the way out, SIGKILL after 20 s."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def _running(cmd: list[str], port: int, log: Path) -> Iterator[int]:
    with process(cmd, log) as proc:
        _wait_for(port, proc, log)
        yield port


@contextlib.contextmanager
def bind_server(workdir: Path, dnstap_output: str, identity: str = "bind-test") -> Iterator[int]:
    """BIND 9 authoritative for example.test, logging auth responses to ``dnstap_output``.

    ``dnstap_output`` is BIND's syntax: ``unix "/path"`` or ``file "/path"``.
    """
    named = need("named", "bind9")
    port = free_port()
    shutil.copy(ZONE_FILE, workdir / "example.test.zone")
    conf = workdir / "named.conf"
    conf.write_text(
        f"""
options {{
    directory "{workdir}";
    pid-file "{workdir}/named.pid";
    session-keyfile "{workdir}/session.key";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 port {port} {{ ::1; }};
    recursion no;
    dnssec-validation no;
    dnstap {{ auth response; client response; }};
    dnstap-output {dnstap_output};
    dnstap-identity "{identity}";
}};
controls {{ }};
zone "{ZONE}" {{ type primary; file "{workdir}/example.test.zone"; }};
"""
    )
    with _running([named, "-g", "-n", "1", "-c", str(conf)], port, workdir / "named.log") as p:
        yield p


@contextlib.contextmanager
def unbound_server(workdir: Path, auth_port: int, dnstap_socket: Path, identity: str = "unbound-test") -> Iterator[int]:
    """unbound resolving example.test through the BIND on ``auth_port``; dnstap to a unix socket."""
    unbound = need("unbound", "unbound")
    port = free_port()
    conf = workdir / "unbound.conf"
    conf.write_text(
        f"""
server:
    interface: 127.0.0.1
    port: {port}
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: "{workdir}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    do-ip6: no
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: no
    num-threads: 1
    local-zone: "test." nodefault  # RFC 6761 names are answered locally by default
remote-control:
    control-enable: no
stub-zone:
    name: "{ZONE}"
    stub-addr: 127.0.0.1@{auth_port}
dnstap:
    dnstap-enable: yes
    dnstap-socket-path: "{dnstap_socket}"
    dnstap-send-identity: yes
    dnstap-identity: "{identity}"
    dnstap-log-resolver-response-messages: yes
    dnstap-log-client-response-messages: yes
"""
    )
    with _running([unbound, "-d", "-c", str(conf)], port, workdir / "unbound.log") as p:
        yield p


@contextlib.contextmanager
def tcpdump(path: Path, bpf: str, interface: str = "lo") -> Iterator[Path]:
    """tcpdump writing ``path`` (pcap) on ``interface`` while the context runs."""
    exe = need("tcpdump", "tcpdump")
    log = path.with_suffix(".tcpdump.log")
    with log.open("wb") as out:
        cmd = [exe, "-i", interface, "--immediate-mode", "-U", "-n", "-s", "0", "-w", str(path), bpf]
        proc = subprocess.Popen(cmd, stderr=out)
    deadline = time.monotonic() + 15
    while b"listening on" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip(f"tcpdump cannot capture here: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    try:
        yield path
    finally:
        time.sleep(0.3)  # let the last packets reach the file
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
