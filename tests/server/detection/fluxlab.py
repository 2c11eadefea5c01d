"""A real fast-flux-like name: BIND 9 serves ``flux.test`` and rotates www's short-TTL A records across
address blocks between rounds (zone rewritten, SIGHUP); unbound resolves through it; dig's answers from
unbound become observations. Zone data only: nothing is ever sent to the rotated addresses."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.agent.inputs.dnsservers import dig, dig_answers, free_port, need, process
from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import normalize_observation

ZONE = "flux.test"
PER_ROUND = 5
STABLE = "192.0.2.80"
CDN = [f"198.51.100.{i}" for i in (10, 11, 12, 13)]


def pool(rounds: int) -> list[str]:
    """Distinct addresses, each in its own /16 of 100.64.0.0/10 (shared address space, never contacted)."""
    return [f"100.{64 + i}.{(i * 37) % 256}.{1 + (i * 11) % 254}" for i in range(rounds * PER_ROUND)]


def zone_text(serial: int, flux: list[str]) -> str:
    lines = [
        "$TTL 3600",
        f"@ IN SOA ns1.{ZONE}. hostmaster.{ZONE}. ({serial} 60 60 600 1)",
        f"@ IN NS ns1.{ZONE}.",
        f"@ IN NS ns2.{ZONE}.",
        "ns1 IN A 127.0.0.1",
        "ns2 IN A 127.0.0.1",
        f"stable IN A {STABLE}",
        *(f"cdn 1 IN A {a}" for a in CDN),
        *(f"www 1 IN A {a}" for a in flux),
    ]
    return "\n".join(lines) + "\n"


def wait_serial(port: int, serial: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-2000:])
        try:
            if f" {serial} 60 60 600 1" in dig(port, ZONE, "SOA", "+time=1", "+tries=1"):
                return
        except subprocess.SubprocessError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"BIND did not serve serial {serial}: {log.read_text(errors='replace')[-2000:]}")


def unbound_conf(workdir: Path, port: int, auth_port: int) -> Path:
    conf = workdir / "unbound.conf"
    conf.write_text(
        f"""server:
    interface: 127.0.0.1
    port: {port}
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: "{workdir}/unbound.pid"
    use-syslog: no
    logfile: ""
    do-ip6: no
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: no
    num-threads: 1
    local-zone: "test." nodefault
remote-control:
    control-enable: no
stub-zone:
    name: "{ZONE}"
    stub-addr: 127.0.0.1@{auth_port}
"""
    )
    return conf


def observe(port: int, name: str, rrtype: str, when: int) -> Observation:
    """One resolution through unbound as an observation (dig's answer section, with its TTL)."""
    output = dig(port, name, rrtype)
    answers = dig_answers(output)
    ttl = min(int(line.split()[1]) for line in output.split(";; ANSWER SECTION:\n", 1)[1].split("\n\n", 1)[0].splitlines())
    rdata = tuple(sorted(r for owner, t, r in answers if t == rrtype))
    return normalize_observation(
        Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when, count=1, ttl=ttl,
                    sensor_id="lab-unbound", source="dig", evidence=Evidence.DIRECT)
    )


def fresh(port: int, name: str, expected: set[str]) -> Observation:
    """Resolve ``name`` through unbound until its cached answer (TTL 1 s) gave way to the new RRset."""
    deadline = time.monotonic() + 10
    while True:
        found = observe(port, name, "A", int(time.time()))
        if set(found.rdata) == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def resolve_rotating(workdir: Path, rounds: int) -> list[Observation]:
    """Run BIND and unbound, rotate www.flux.test ``rounds`` times, and return what unbound answered."""
    named, unbound = need("named", "bind9"), need("unbound", "unbound")
    need("dig", "bind9-dnsutils")
    auth_port, port = free_port(), free_port()
    zone, addresses = workdir / "flux.test.zone", pool(rounds)
    zone.write_text(zone_text(1, addresses[:PER_ROUND]))
    (workdir / "named.conf").write_text(
        f'options {{ directory "{workdir}"; pid-file "{workdir}/named.pid"; session-keyfile "{workdir}/s.key";\n'
        f"  listen-on port {auth_port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; recursion no; dnssec-validation no; }};\n"
        f'controls {{ }};\nzone "{ZONE}" {{ type primary; file "{zone}"; }};\n'
    )
    seen: list[Observation] = []
    with process([named, "-g", "-n", "1", "-c", str(workdir / "named.conf")], workdir / "named.log") as bind:
        wait_serial(auth_port, 1, bind, workdir / "named.log")
        unbound_log = workdir / "unbound.log"
        with process([unbound, "-d", "-c", str(unbound_conf(workdir, port, auth_port))], unbound_log) as resolver:
            wait_serial(port, 1, resolver, unbound_log)  # unbound is up and reaches BIND
            for r in range(rounds):
                if r:
                    zone.write_text(zone_text(r + 1, addresses[r * PER_ROUND : (r + 1) * PER_ROUND]))
                    bind.send_signal(signal.SIGHUP)
                    wait_serial(auth_port, r + 1, bind, workdir / "named.log")
                when = int(time.time())
                seen.append(fresh(port, f"www.{ZONE}", set(addresses[r * PER_ROUND : (r + 1) * PER_ROUND])))
                seen += [observe(port, f"{host}.{ZONE}", "A", when) for host in ("stable", "cdn")]
            seen.append(observe(port, ZONE, "NS", int(time.time())))
    return seen
