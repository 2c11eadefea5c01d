"""The reporting module inside a Cuckoo 2.0.x and a CAPEv2 layout: files, reprocessing, bad input."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.integrations.cuckoo.conftest import GOLDEN, MODULE, Framework, real_report
from yapdns.agent.parsers.dnsdump2 import DnsDump2Parser
from yapdns.agent.parsing import ParseRun

SHA = "74af85a2e5f7be17e668bf7dda5648823f99167bdad8e8701108a604723777f1"


def _tsv_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.dnsdump2.tsv"))


def test_it_is_a_reporting_module_of_the_framework(framework: Framework) -> None:
    assert issubclass(framework.module.Yapdns, framework.base)
    expected = "lib.cuckoo.common.abstracts" if framework.name == "capev2" else "cuckoo.common.abstracts"
    assert framework.module.Report.__module__ == expected


@pytest.mark.parametrize("task", [7, 8, 9, 10])
def test_real_reports_give_the_checked_in_dnsdump2_files(framework: Framework, tmp_path: Path, task: int) -> None:
    out = tmp_path / "out"
    framework.run(real_report(task), tmp_path / "analysis", {"id": task}, output_dir=str(out), started_timezone="utc")
    (written,) = _tsv_files(out)
    assert written.read_bytes() == (GOLDEN / "dnsdump2" / written.name).read_bytes()


def test_default_output_is_the_analysis_reports_folder(framework: Framework, tmp_path: Path) -> None:
    framework.run(real_report(10), tmp_path / "analysis", {"id": 10}, started_timezone="utc")
    assert [p.name for p in _tsv_files(tmp_path / "analysis" / "reports")] == ["cuckoo-task10-1714557600.dnsdump2.tsv"]


def test_reprocessing_adds_only_new_lines_and_never_overwrites(framework: Framework, tmp_path: Path) -> None:
    out, report = tmp_path / "out", real_report(7)
    framework.run(report, tmp_path / "a", {"id": 7}, output_dir=str(out))
    (first,) = _tsv_files(out)
    original = first.read_bytes()
    framework.run(report, tmp_path / "a", {"id": 7}, output_dir=str(out))  # same results: nothing new
    assert _tsv_files(out) == [first]
    report["network"]["dns"].append({"request": "late.example", "type": "A", "answers": [], "first_seen": 1.3e9})
    framework.run(report, tmp_path / "a", {"id": 7}, output_dir=str(out))
    files = _tsv_files(out)
    assert len(files) == 2 and files[0].read_bytes() == original
    data = [line for line in files[1].read_text().splitlines() if not line.startswith("#")]
    assert len(data) == 1 and "\tlate.example\tA\tquery\t" in data[0]


@pytest.mark.parametrize(
    "results",
    [{"info": {"id": 3}}, {"network": None}, {"network": {"dns": "not a list"}}, None, "garbage"],
    ids=["no-network", "network-none", "dns-not-a-list", "none", "not-a-dict"],
)
def test_malformed_results_log_a_warning_and_never_raise(
    framework: Framework, tmp_path: Path, caplog: pytest.LogCaptureFixture, results: object
) -> None:
    with caplog.at_level(logging.WARNING):
        framework.run(results, tmp_path / "a", {"id": 3}, output_dir=str(tmp_path / "out"))  # type: ignore[arg-type]
    assert any(r.levelno == logging.WARNING and "yapdns" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "out").exists()


def test_hostile_names_and_answers_are_escaped_or_skipped(
    framework: Framework, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report = {
        "info": {"id": 5, "started": "2024-05-01 10:00:00"},
        "target": {"file": {"sha256": SHA.upper()}},
        "network": {"dns": [
            {"request": b"\xff\xfebad.example", "type": "A", "answers": [{"type": "A", "data": "192.0.2.1"}]},
            {"request": "caf\udce9.example", "type": "A", "answers": [{"type": "A", "data": "192.0.2.2"}]},
            {"request": "tab\there.example", "type": "TXT", "answers": [{"type": "TXT", "data": "a\tb"}]},
            {"request": "ok.example", "type": "A", "answers": [{}, "x", None, {"type": "A", "data": "not-an-ip"}]},
            {"request": None, "type": "A", "answers": []},
            "not an entry",
        ]},
    }
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        framework.run(report, tmp_path / "a", {"id": 5}, output_dir=str(out))
    (written,) = _tsv_files(out)
    text = written.read_text()
    assert "\\255\\254bad.example" in text and "caf\\233.example" in text and "tab\\009here.example" in text
    assert any("2 malformed DNS entries skipped" in r.getMessage() for r in caplog.records)
    run = ParseRun(DnsDump2Parser())
    observed = {(o.rrname, o.rrtype, o.rdata) for o in run.lines(text.splitlines())}
    assert run.stats.error_count == 0
    assert ("\\255\\254bad.example", "A", ("192.0.2.1",)) in observed
    assert ("caf\\233.example", "A", ("192.0.2.2",)) in observed
    assert ("ok.example", "A", ()) in observed  # answers unusable: a bare query
    assert all(o.sample and o.sample.sha256 == SHA for o in run.lines(text.splitlines()))


def test_cuckoo2_results_use_the_analysis_start(framework: Framework, tmp_path: Path) -> None:
    """Cuckoo 2.0.x: no first_seen, a naive local datetime, "All"/"None" types, hosts as strings."""
    report = {
        "info": {"id": 11, "started": datetime(2016, 8, 1, 12, 0, 0)},
        "target": {"category": "file", "file": {"sha256": SHA}},
        "network": {
            "hosts": ["192.0.2.10"],
            "domains": [{"domain": "c2.example", "ip": "198.51.100.99"}],
            "dns": {("A", "c2.example"): {"type": "A", "request": "c2.example",
                                          "answers": [{"type": "A", "data": "192.0.2.10"}]},
                    ("All", "m.local"): {"type": "All", "request": "m.local", "answers": []},
                    ("None", "x.example"): {"type": "None", "request": "x.example", "answers": []}}.values(),
        },
    }
    out = tmp_path / "out"
    framework.run(report, tmp_path / "a", {"id": 11}, output_dir=str(out), started_timezone="utc")
    (written,) = _tsv_files(out)
    rows = [line.split("\t") for line in written.read_text().splitlines() if not line.startswith("#")]
    assert {tuple(r[:2]) for r in rows} == {("1470052800.000000", "analysis")}
    assert [(r[4], r[5], r[6], r[9]) for r in rows] == [
        ("c2.example", "A", "answer", "192.0.2.10"),
        ("m.local", "ANY", "query", "-"),
        ("x.example", "-", "query", "-"),
    ]
    assert "198.51.100.99" not in written.read_text()  # domains[].ip: resolved after the analysis, not evidence


def test_fake_dns_answers_are_dropped(framework: Framework, tmp_path: Path) -> None:
    report = real_report(7)
    framework.run(report, tmp_path / "a", {"id": 7}, output_dir=str(tmp_path / "o"), ignore_addresses="208.80.152.3")
    text = _tsv_files(tmp_path / "o")[0].read_text()
    assert "208.80.152.3" not in text and "upload.wikimedia.org\tA\tquery" in text


@pytest.mark.parametrize("flag", [False, "no", 0])
def test_files_can_be_turned_off(framework: Framework, tmp_path: Path, flag: object) -> None:
    framework.run(real_report(10), tmp_path / "a", {"id": 10}, output_dir=str(tmp_path / "o"), write_tsv=flag)
    assert not (tmp_path / "o").exists()


def test_the_module_is_python_2_7_and_3_compatible(tmp_path: Path) -> None:
    vermin = shutil.which("vermin", path=str(Path(sys.executable).parent))
    if vermin is None:
        pytest.skip("vermin is not installed (dev extra)")
    checked = subprocess.run(
        [vermin, "-t=2.7", "-t=3.6-", "--violations", "--no-tips", str(MODULE)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_real_cuckoo2_network_section(framework: Framework, tmp_path: Path) -> None:
    """Cuckoo 2.0.7's own output for the wikipedia capture, in memory as Cuckoo hands it to reporting modules."""
    network = json.loads((Path(__file__).parent / "data" / "cuckoo2.0.7_wikipedia_network.json").read_text())
    by_key = {(e["type"], e["request"]): e for e in network["dns"]}
    report = {
        "info": {"id": 12, "started": datetime(2011, 3, 18, 19, 6, 0)},
        "target": {"category": "file", "file": {"sha256": SHA}},
        "network": {"dns": by_key.values(), "domains": network["domains"], "hosts": []},
    }
    framework.run(report, tmp_path / "a", {"id": 12}, output_dir=str(tmp_path / "o"), started_timezone="utc")
    (written,) = _tsv_files(tmp_path / "o")
    rows = {tuple(line.split("\t")[4:]) for line in written.read_text().splitlines() if not line.startswith("#")}
    assert rows == {
        ("gemini._sftp-ssh._tcp.local", "SRV", "query", "-", "-", "-"),
        ("upload.wikimedia.org", "AAAA", "query", "-", "-", "-"),
        ("upload.wikimedia.org.ncsa.uiuc.edu", "AAAA", "query", "-", "-", "-"),  # Cuckoo 2 keeps no rcode
        ("upload.wikimedia.org", "A", "answer", "-", "A", "208.80.152.3"),
        ("upload.wikimedia.org", "A", "cname", "-", "CNAME", "upload.pmtpa.wikimedia.org"),
        ("meta.wikimedia.org", "AAAA", "cname", "-", "CNAME", "text.pmtpa.wikimedia.org"),
        ("meta.wikimedia.org", "AAAA", "cname", "-", "CNAME", "text.wikimedia.org"),
        ("meta.wikimedia.org", "AAAA", "query", "-", "-", "-"),
        ("meta.wikimedia.org", "A", "cname", "-", "CNAME", "text.pmtpa.wikimedia.org"),
        ("meta.wikimedia.org", "A", "cname", "-", "CNAME", "text.wikimedia.org"),
        ("meta.wikimedia.org", "A", "answer", "-", "A", "208.80.152.2"),
        ("gomez._sftp-ssh._tcp.local", "TXT", "partial", "-", "TXT", "-"),
        ("gomez._sftp-ssh._tcp.local", "TXT", "query", "-", "-", "-"),
    }
    assert {line.split("\t")[1] for line in written.read_text().splitlines()[5:]} == {"analysis"}
