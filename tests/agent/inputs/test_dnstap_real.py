"""dnstap inputs against real software: BIND 9 and unbound from Debian, dig, and a dnsdist capture.

Each test runs the real server on loopback, queries it with dig, and checks
that the observations the input extracted are exactly the RRs and negative
answers dig printed (compared in canonical form).
"""

from __future__ import annotations

import threading
from datetime import UTC
from pathlib import Path

import yaml

from tests.agent.inputs import dnsservers as ds
from tests.agent.wire.wirecheck import RR, Collector, expected_from_dig, negatives_of, rrs_of
from yapdns.agent.inputs.dnstap import DnstapFileInput, DnstapFileOptions
from yapdns.agent.inputs.dnstap_socket import DnstapSocketInput, DnstapSocketOptions
from yapdns.core.model import Evidence, Observation

FIXTURE = Path(__file__).parent / "data" / "go-dnscollector_dnstap.fstrm"
QUERIES = [
    ("example.test", "SOA", ""),  # also the readiness probe of dnsservers
    ("www.example.test", "A", "+norec"),
    ("www.example.test", "A", ""),
    ("nx.example.test", "A", ""),
    ("onlyv4.example.test", "AAAA", ""),
    ("example.test", "MX", ""),
    ("txt.example.test", "TXT", ""),
    ("_sip._tcp.example.test", "SRV", ""),
    ("host.example.test", "AAAA", ""),
    ("big.example.test", "A", ""),  # > 1232 bytes: truncated over UDP, dig retries over TCP
    ("Caps.Example.TEST", "A", "+norec"),
]


def _query(port: int):  # type: ignore[no-untyped-def]
    return lambda name, rrtype, flag: ds.dig(port, name, rrtype, *([flag] if flag else []))


def _check_against_dig(observations: list[Observation], expected: tuple[set[RR], set[RR]]) -> None:
    rrs, negatives = expected
    assert len(rrs) > 90  # the big RRset and the rest
    assert rrs_of(observations) == rrs
    assert negatives_of(observations) == negatives
    assert ("nx.example.test", "A", "NXDOMAIN") in negatives and ("onlyv4.example.test", "AAAA", "NODATA") in negatives
    assert all(o.evidence == Evidence.DIRECT and o.source == "dnstap" for o in observations)


def test_dnsdist_sample_matches_dnstap_ldns() -> None:
    inp = DnstapFileInput("t", DnstapFileOptions(paths=[str(FIXTURE)]))
    out: list[Observation] = []
    inp.run(out.extend, threading.Event(), once=True)
    text = (FIXTURE.parent / (FIXTURE.name + ".dnstap-ldns.yaml")).read_text()
    docs = [d for d in yaml.safe_load_all(text) if d]
    response = next(d for d in docs if d["message"]["type"] == "CLIENT_RESPONSE")
    answer_lines = response["message"]["response_message"].split(";; ANSWER SECTION:\n")[1].split("\n\n")[0]
    owner, ttl, _, rrtype, rdata = answer_lines.split()
    assert len(out) == 1
    obs = out[0]
    assert (obs.rrname + ".", obs.rrtype, obs.rdata, obs.ttl) == (owner, rrtype, (rdata,), int(ttl))
    assert obs.time_first == int(response["message"]["response_time"].replace(tzinfo=UTC).timestamp())
    assert obs.sensor_id == response["identity"]
    assert inp.stats.lines == len(docs) and inp.counters["skipped_message_type"] == 1


def test_bind_unix_socket_matches_dig(tmp_path: Path) -> None:
    sock = tmp_path / "dnstap.sock"
    inp = DnstapSocketInput("bind", DnstapSocketOptions(unix=str(sock)))
    inp.open()
    with Collector(inp.run) as col, ds.bind_server(tmp_path, f'unix "{sock}"') as port:
        expected = expected_from_dig(QUERIES, _query(port))
        col.wait_for(lambda obs: rrs_of(obs) >= expected[0])
    _check_against_dig(col.observations, expected)
    assert {o.sensor_id for o in col.observations} == {"bind-test"}
    # +norec queries are AUTH_RESPONSE messages, which carry the zone: the bailiwick
    assert any(o.bailiwick == "example.test" for o in col.observations)
    assert inp.counters["truncated_response"] >= 1  # the UDP answer for big.example.test
    assert inp.stats.error_count == 0


def test_bind_file_is_followed_while_written(tmp_path: Path) -> None:
    path = tmp_path / "bind.dnstap"
    inp = DnstapFileInput("bindfile", DnstapFileOptions(paths=[str(path)], poll_interval=0.05, sensor_id="ns-a"))
    with Collector(inp.run) as col:
        with ds.bind_server(tmp_path, f'file "{path}"') as port:
            expected = expected_from_dig(QUERIES, _query(port))
        col.wait_for(lambda obs: not inp._files and path.exists())  # STOP frame read: file finished
    _check_against_dig(col.observations, expected)
    assert {o.sensor_id for o in col.observations} == {"ns-a"}
    assert inp.stats.error_count == 0


def test_unbound_resolver_responses_carry_the_bailiwick(tmp_path: Path) -> None:
    sock = tmp_path / "unbound.sock"
    inp = DnstapSocketInput("unbound", DnstapSocketOptions(unix=str(sock), message_types=["RESOLVER_RESPONSE"]))
    inp.open()
    auth_dir = tmp_path / "auth"
    auth_dir.mkdir()
    with (
        Collector(inp.run) as col,
        ds.bind_server(auth_dir, f'file "{auth_dir}/unused.dnstap"') as auth_port,
        ds.unbound_server(tmp_path, auth_port, sock) as port,
    ):
        rrs, _ = expected_from_dig(QUERIES, _query(port))
        col.wait_for(lambda obs: rrs_of(obs) >= rrs)
    assert len(rrs) > 90  # dig really got the zone's answers through unbound
    assert rrs_of(col.observations) == rrs
    assert {o.bailiwick for o in col.observations} == {"example.test"}
    assert {o.sensor_id for o in col.observations} == {"unbound-test"}
    assert ("nx.example.test", "A", "NXDOMAIN") in negatives_of(col.observations)
    assert inp.stats.error_count == 0, inp.stats_dict()
