"""The real ``dnsdbq`` (Debian package, C + libcurl) against a live YAPDNS server, in its dnsdb2 and circl
systems. ``scripts/test-deps`` installs it; without it these tests fail with that hint."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server.compat import dataset
from tests.server.compat.conftest import CompatServer


@pytest.fixture(autouse=True, scope="module")
def _dnsdbq_installed() -> None:
    if shutil.which("dnsdbq") is None:
        pytest.fail("dnsdbq is missing: run scripts/test-deps (Debian package dnsdbq)")


def _run(live: CompatServer, tmp: Path, *args: str, system: str = "dnsdb2") -> subprocess.CompletedProcess[str]:
    conf = tmp / "dnsdb-query.conf"
    conf.write_text(
        f"DNSDBQ_SYSTEM={system}\nDNSDB_SERVER={live.url}\nDNSDB_API_KEY={live.token}\n"
        f"CIRCL_SERVER={live.url}/pdns/query\nCIRCL_AUTH={live.user}:{live.token}\n"
    )
    env = {"HOME": str(tmp), "DNSDBQ_CONFIG_FILE": str(conf), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["dnsdbq", *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def _json(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_rrset_lookup(live: CompatServer, tmp_path: Path) -> None:
    rows = _json(_run(live, tmp_path, "-j", "-r", "www.example.com/A/example.com"))
    assert sorted(tuple(r["rdata"]) for r in rows) == [("192.0.2.1",), ("192.0.2.2", "192.0.2.3")]  # type: ignore[arg-type]


def test_rrset_lookup_presentation_output(live: CompatServer, tmp_path: Path) -> None:
    done = _run(live, tmp_path, "-r", "example.com/SOA")
    assert "example.com.  SOA  ns1.example.com. hostmaster.example.com. 2024010101" in done.stdout


def test_wildcards_and_limit(live: CompatServer, tmp_path: Path) -> None:
    rows = _json(_run(live, tmp_path, "-j", "-l", "3", "-r", "*.example.com"))
    assert len(rows) == 3 and all(str(r["rrname"]).endswith(".example.com.") for r in rows)


def test_rdata_name_ip_cidr_and_raw(live: CompatServer, tmp_path: Path) -> None:
    names = {r["rrname"] for r in _json(_run(live, tmp_path, "-j", "-n", "mail.example.com"))}
    assert names == {"example.com.", "1.2.0.192.in-addr.arpa."}
    v6 = {r["rrname"] for r in _json(_run(live, tmp_path, "-j", "-i", "2001:db8::/32"))}
    assert v6 == {"www.example.com.", "v6.example.org."}
    v4 = {r["rdata"][0] for r in _json(_run(live, tmp_path, "-j", "-i", "192.0.2.0/28"))}  # type: ignore[index]
    assert v4 == {"192.0.2.1", "192.0.2.2", "192.0.2.3"}
    raw_owner = _json(_run(live, tmp_path, "-j", "-R", "03777777076578616d706c6503636f6d00/AAAA"))
    assert [r["rdata"] for r in raw_owner] == [["2001:db8::1"]]
    raw_rdata = _json(_run(live, tmp_path, "-j", "-N", "046D61696C076578616D706C6503636F6D00/PTR"))
    assert [r["rrname"] for r in raw_rdata] == ["1.2.0.192.in-addr.arpa."]


def test_summarize_and_max_count(live: CompatServer, tmp_path: Path) -> None:
    (summary,) = _json(_run(live, tmp_path, "-j", "-V", "summarize", "-r", "www.example.com"))
    assert summary == {"count": 182, "num_results": 4, "time_first": dataset.T0, "time_last": dataset.T2}
    (capped,) = _json(_run(live, tmp_path, "-j", "-V", "summarize", "-M", "5", "-i", "203.0.113.10"))
    assert capped["count"] == 5 and capped["num_results"] == 5


def test_loose_and_strict_fences(live: CompatServer, tmp_path: Path) -> None:
    window = ("-A", "2010-03-31", "-B", "2011-01-14")
    assert len(_json(_run(live, tmp_path, "-j", *window, "-r", "old.example.org"))) == 1
    assert _json(_run(live, tmp_path, "-j", "-c", *window, "-r", "old.example.org")) == []
    wide = ("-A", "2009-12-05", "-B", "2011-01-14")
    assert len(_json(_run(live, tmp_path, "-j", "-c", *wide, "-r", "old.example.org"))) == 1


def test_offset_and_graveled(live: CompatServer, tmp_path: Path) -> None:
    rows = _json(_run(live, tmp_path, "-j", "-l", "2", "-O", "5", "-i", "203.0.113.10"))
    assert [r["rrname"] for r in rows] == ["bulk05.example.com.", "bulk06.example.com."]
    assert len(_json(_run(live, tmp_path, "-j", "-g", "-r", "www.example.com/AAAA"))) == 1


def test_idn_as_a_label_and_8bit(live: CompatServer, tmp_path: Path) -> None:
    assert [r["rrname"] for r in _json(_run(live, tmp_path, "-j", "-8", "-r", dataset.IDN_ULABEL))] == [
        dataset.IDN_ALABEL + "."]


def test_rate_limit_and_bad_key(live: CompatServer, tmp_path: Path) -> None:
    done = _run(live, tmp_path, "-I")
    assert "limit: unlimited" in done.stdout and "results_max:" in done.stdout
    conf_run = _run(live, tmp_path, "-j", "-r", "www.example.com")  # writes the conf file
    assert conf_run.stdout
    bad_conf = tmp_path / "bad.conf"
    bad_conf.write_text(f"DNSDBQ_SYSTEM=dnsdb2\nDNSDB_SERVER={live.url}\nDNSDB_API_KEY=wrong\n")
    bad = subprocess.run(["dnsdbq", "-r", "www.example.com"], env={"HOME": str(tmp_path),
                         "DNSDBQ_CONFIG_FILE": str(bad_conf)}, capture_output=True, text=True, timeout=60, check=False)
    assert "403" in bad.stderr and bad.stdout == ""


def test_empty_answer(live: CompatServer, tmp_path: Path) -> None:
    done = _run(live, tmp_path, "-j", "-r", "nothing-here.example.org")
    assert done.stdout == "" and "no results found" in done.stderr


def test_circl_system(live: CompatServer, tmp_path: Path) -> None:
    rows = _json(_run(live, tmp_path, "-j", "-r", "www.example.com", system="circl"))
    assert {(r["rrname"], r["rrtype"]) for r in rows} >= {("www.example.com", "A"), ("alias.example.com", "CNAME")}
    by_ip = _json(_run(live, tmp_path, "-j", "-i", "192.0.2.1", system="circl"))
    assert {r["rrname"] for r in by_ip} == {"www.example.com", "www.example.net"}


def test_zone_only_and_mixed_records(live: CompatServer, tmp_path: Path) -> None:
    """dnsdbq prints ``record times`` for traffic and ``zone times`` for zone files, each only when present."""
    zone_only = _run(live, tmp_path, "-r", dataset.ZONE_ONLY)
    assert ";;   zone times: 2015-12-13 09:46:40 .. 2022-04-15 05:20:00" in zone_only.stdout
    assert "record times" not in zone_only.stdout
    mixed = _run(live, tmp_path, "-r", dataset.MIXED)
    assert ";; record times: 2020-09-13 12:26:40 .. 2020-09-13 12:43:20" in mixed.stdout
    assert ";;   zone times: 2015-12-13 09:46:40 .. 2022-04-15 05:20:00" in mixed.stdout
    (row,) = _json(_run(live, tmp_path, "-j", "-i", "198.18.0.50"))
    assert (row.get("time_first"), row["zone_time_first"], row["zone_time_last"]) == (None, *dataset.ZONE)
    (summary,) = _json(_run(live, tmp_path, "-j", "-V", "summarize", "-r", "*.zones.example/A"))
    assert summary == {"count": 4, "num_results": 2, "time_first": dataset.T1, "time_last": dataset.T1 + 1000,
                       "zone_time_first": dataset.ZONE[0], "zone_time_last": dataset.ZONE[1]}
    circl = _json(_run(live, tmp_path, "-j", "-r", dataset.ZONE_ONLY, system="circl"))
    assert [(r["zone_time_first"], r["zone_time_last"]) for r in circl] == [dataset.ZONE]


def test_dnssec_key_material_is_one_token(live: CompatServer, tmp_path: Path) -> None:
    (row,) = _json(_run(live, tmp_path, "-j", "-r", "zones.example/DNSKEY"))
    assert row["rdata"] == [dataset.DNSKEY]
    assert f"zones.example.  DNSKEY  {dataset.DNSKEY}" in _run(live, tmp_path, "-r", "zones.example/DNSKEY").stdout
