"""The `yapdns` command: help, accounts, sensors, import, query, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from yapdns.cli import importer, main

COF_SAMPLE = ROOT / "tests/agent/parsers/golden/cof/pdns-qof-server_README.ndjson"


@pytest.fixture
def run() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str, ok: bool = True, input: str | None = None) -> str:
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def test_every_command_has_help(run: CliRunner) -> None:
    top = invoke(run, "--help")
    for name, command in main.commands.items():
        assert name in top
        text = invoke(run, name, "--help")
        assert command.help and len(text) > 80


@pytest.mark.django_db(transaction=True)  # `import` matches against the watchlist (application database)
def test_import_then_query_in_every_format(run: CliRunner, tmp_path: Path) -> None:
    out = invoke(run, "import", str(COF_SAMPLE), "-F", "cof")
    assert "8 lines, 8 observations stored" in out
    again = invoke(run, "import", str(COF_SAMPLE), "-F", "cof")
    assert "8 already imported before (skipped)" in again
    rows = json.loads(invoke(run, "query", "www.microsoft.com", "-f", "json"))
    assert rows == [{"rrname": "www.microsoft.com", "rrtype": "CNAME", "rdata": "toggle.www.ms.akadns.net",
                     "time_first": 1298398002, "time_last": 1389022792, "count": 127814}]
    cof_lines = invoke(run, "query", "-n", "toggle.www.ms.akadns.net", "-f", "cof").splitlines()
    assert json.loads(cof_lines[0])["rrname"] == "www.microsoft.com"
    assert invoke(run, "query", "212.35.116.0/24", "-f", "csv").splitlines()[0].startswith("rrname,rrtype,rdata")
    assert "infosports" in invoke(run, "query", "212.35.116.234")  # a table, wrapped to the terminal
    stats = json.loads(invoke(run, "stats", "--json"))
    assert stats["observations"] == sum(
        json.loads(line).get("count", 1) for line in COF_SAMPLE.read_text().splitlines() if line.strip()
    )


@pytest.mark.django_db(transaction=True)  # `import` matches against the watchlist (application database)
def test_import_reports_bad_lines_without_failing(run: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(COF_SAMPLE.read_bytes().splitlines()[0] + b"\n\xff\xfe{junk\n" + b'{"rrname":"a..b","rrtype":"A","rdata":"1.2.3.4","time_first":1,"time_last":2}\n')
    out = invoke(run, "import", str(bad), "-F", "cof")
    assert "1 observations stored, 2 bad lines" in out
    assert "parse_error: 1" in out and "bad_name: 1" in out


def test_errors_are_one_clear_line(run: CliRunner, tmp_path: Path) -> None:
    out = invoke(run, "import", str(COF_SAMPLE), "-F", "nope", ok=False)
    assert "unknown format 'nope'" in out and "known formats:" in out
    out = invoke(run, "query", "a..b", ok=False)
    assert "empty" in out
    out = invoke(run, "query", "x", "--last-after", "yesterday-ish", ok=False)
    assert "is not a time" in out


@pytest.mark.django_db(transaction=True)
def test_users_sensors_and_tokens(run: CliRunner) -> None:
    out = invoke(run, "user", "add", "alice", "--role", "admin")
    password = out.split("password: ")[1].strip()
    assert len(password) >= 12
    invoke(run, "user", "add", "alice", ok=False)
    invoke(run, "user", "add", "bob", "--password-stdin", input="short\n", ok=False)
    assert "alice\tadmin" in invoke(run, "user", "list")
    token = invoke(run, "sensor", "add", "dc1", "--token-only").strip()
    assert token.startswith("ys_") and len(token) > 40
    assert "dc1\tactive" in invoke(run, "sensor", "list")
    invoke(run, "sensor", "revoke", "dc1")
    assert "dc1\trevoked" in invoke(run, "sensor", "list")
    invoke(run, "sensor", "add", "bad name!", ok=False)
    query_token = invoke(run, "token", "add", "alice").splitlines()[-1]
    assert query_token.startswith("yq_")
    assert "active" in invoke(run, "token", "list", "alice")


@pytest.mark.django_db(transaction=True)  # `import` matches against the watchlist (application database)
def test_import_passes_format_options(run: CliRunner) -> None:
    sample = ROOT / "tests/agent/parsers/golden/msdns/usiem-windns_parsers_test_line.log"
    out = invoke(run, "import", str(sample), "-F", "msdns", "-o", "date_order=mdy", "--timezone", "UTC")
    assert "1 lines" in out and "bad lines" not in out
    out = invoke(run, "import", str(sample), "-F", "msdns", "-o", "no-equals-sign", ok=False)
    assert "is not KEY=VALUE" in out


@pytest.mark.django_db(transaction=True)  # `import` matches against the watchlist (application database)
def test_importing_the_same_file_again_changes_nothing(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same content (under any name), format and options: every batch is a replay, even with held lines."""
    monkeypatch.setattr(importer, "BATCH", 5)  # many batches; dnsmasq holds an RRset across their boundaries
    sample = ROOT / "tests/agent/parsers/golden/dnsmasq/dnsmasq-2.90_log-queries-extra.log"
    options = ["-F", "dnsmasq", "--timezone", "Europe/Berlin", "--year", "2026"]
    first = invoke(run, "import", str(sample), *options)
    stored = json.loads(invoke(run, "stats", "--json"))["observations"]
    assert stored > 10 and "already imported" not in first
    copy = tmp_path / "renamed.log"
    copy.write_bytes(sample.read_bytes())
    again = invoke(run, "import", "--year", "2026", "--timezone", "Europe/Berlin", "-F", "dnsmasq", str(copy))
    assert ", 0 observations stored" in again and "already imported before (skipped)" in again
    assert json.loads(invoke(run, "stats", "--json"))["observations"] == stored
    other = invoke(run, "import", str(copy), "-F", "dnsmasq", "--timezone", "UTC", "--year", "2026")
    assert "already imported" not in other  # other options read other times: another import, counted
    assert json.loads(invoke(run, "stats", "--json"))["observations"] == 2 * stored


@pytest.mark.parametrize("value", ["\u00b2/60", "10/\u0663", "1_0/60", "10/0", "10"])
def test_quota_burst_takes_ascii_numbers_only(value: str) -> None:
    from yapdns.cli.quota import _burst
    from yapdns.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="QUERIES/SECONDS"):
        _burst(value)
    assert _burst("10/60") == (10, 60)


@pytest.mark.django_db(transaction=True)  # `import` matches against the watchlist (application database)
def test_zone_file_times_from_an_import_stay_zone_times(run: CliRunner, tmp_path: Path) -> None:
    export = tmp_path / "dnsdb.json"
    export.write_text(
        '{"count": 2411, "zone_time_first": 1275401003, "zone_time_last": 1484841664, "rrname": "wikipedia.org.",'
        ' "rrtype": "NS", "bailiwick": "org.", "rdata": ["ns0.wikimedia.org."]}\n'
        '{"count": 5, "time_first": 1400000000, "time_last": 1400000100, "zone_time_first": 1275401003,'
        ' "zone_time_last": 1484841664, "rrname": "wikipedia.org.", "rrtype": "NS", "bailiwick": "org.",'
        ' "rdata": ["ns1.wikimedia.org."]}\n'
    )
    assert "2 observations stored" in invoke(run, "import", str(export), "-F", "dnsdb")
    rows = json.loads(invoke(run, "query", "wikipedia.org", "-f", "json"))
    assert rows == [
        {"rrname": "wikipedia.org", "rrtype": "NS", "rdata": "ns0.wikimedia.org", "zone_time_first": 1275401003,
         "zone_time_last": 1484841664, "count": 2411},
        {"rrname": "wikipedia.org", "rrtype": "NS", "rdata": "ns1.wikimedia.org", "time_first": 1400000000,
         "time_last": 1400000100, "zone_time_first": 1275401003, "zone_time_last": 1484841664, "count": 5},
    ]
    table = run.invoke(main, ["query", "wikipedia.org"], env={"COLUMNS": "250"}).output
    assert "in zone files (UTC)" in table and "2010-06-01 14:03:23 .. 2017-01-19 16:01:04" in table
    csv_rows = invoke(run, "query", "wikipedia.org", "-f", "csv").splitlines()
    assert csv_rows[0].endswith(",zone_time_first,zone_time_last")
    assert csv_rows[1].startswith("wikipedia.org,NS,ns0.wikimedia.org,,,2411,,,1275401003,1484841664")


@pytest.mark.django_db(transaction=True)
def test_a_document_of_many_batches_is_stored_whole_and_once(run: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document is read at once, so its batches cover the same bytes: each still needs an id of its own."""
    monkeypatch.setattr(importer, "BATCH", 2)  # the golden bundle's 9 observations make 5 batches
    sample = ROOT / "tests/agent/parsers/golden/stix/yapdns_export_suricata-bind9.stix.json"
    first = invoke(run, "import", str(sample), "-F", "stix")
    assert "9 observations stored" in first and "already imported" not in first, first
    stored = json.loads(invoke(run, "stats", "--json"))["observations"]
    assert stored == 19  # the sum of the bundle's number_observed
    again = invoke(run, "import", str(sample), "-F", "stix")
    assert ", 0 observations stored" in again and "9 already imported before" in again
    assert json.loads(invoke(run, "stats", "--json"))["observations"] == stored
