"""The first run, as a new user meets it (issue 13, section 6): `yapdns formats`, a store never migrated,
`token add --token-only`, results cut by --limit said on stderr, tables one record a line when piped."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.test_cli import COF_SAMPLE
from tests.conftest import PG_URL
from tests.storage.conftest import _drop_schema, _with_schema
from yapdns.agent.parsers import registry
from yapdns.cli import main


def invoke(*args: str, ok: bool = True) -> tuple[str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output + result.stderr
    return result.stdout, result.stderr


def test_formats_lists_every_format_with_its_evidence_kind() -> None:
    lines = invoke("formats")[0].splitlines()
    assert [line.split()[0] for line in lines] == registry.available()
    for line in lines:
        name, evidence, description = line.split(None, 2)
        assert evidence == registry.parser_class(name).evidence.value and description
    assert "yapdns formats" in invoke("import", "--help")[0]


@pytest.mark.parametrize("command", [["query", "www.example.com"], ["stats"], ["query", "10.0.0.0/8", "-f", "csv"]])
def test_a_store_never_migrated_gets_one_line_saying_what_to_do(command: list[str], tmp_path: Path) -> None:
    out, err = invoke(*command, ok=False)
    assert err.strip().count("\n") == 0 and "run `yapdns migrate`" in err and "Traceback" not in out + err
    assert not (tmp_path / "data" / "store.sqlite3").exists()  # nothing left behind
    invoke("migrate", "--store-only")
    invoke(*command)


@pytest.mark.postgres
def test_a_postgresql_store_never_migrated_gets_the_same_line(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = f"never_migrated_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("YAPDNS_DATABASE_URL", _with_schema(PG_URL, schema))
    try:
        for command in (["query", "www.example.com"], ["stats"]):
            out, err = invoke(*command, ok=False)
            assert "run `yapdns migrate`" in err and err.strip().count("\n") == 0 and "Traceback" not in out + err
    finally:
        _drop_schema(schema)


@pytest.mark.django_db(transaction=True)
def test_token_add_token_only_prints_just_the_token() -> None:
    invoke("user", "add", "alice", "--password", "a-long-enough-pass")
    out = invoke("token", "add", "alice", "--token-only")[0]
    assert out.startswith("yq_") and out.count("\n") == 1


@pytest.mark.django_db(transaction=True)  # `import` matches against the watchlist (application database)
def test_results_cut_by_the_limit_are_said_on_stderr_in_every_format() -> None:
    invoke("import", str(COF_SAMPLE), "-F", "cof")
    everything = json.loads(invoke("query", "*.be", "-f", "json", "-l", "0")[0])
    assert len(everything) == 7
    for fmt in ("json", "csv", "cof", "table"):
        out, err = invoke("query", "*.be", "-f", fmt, "-l", "3")
        assert "limited: more records match '*.be' than the 3 shown" in err and "-l 0 for all" in err, fmt
        assert "limited" not in out
        out, err = invoke("query", "*.be", "-f", fmt, "-l", "0")
        assert err == "", fmt
    assert len(json.loads(invoke("query", "*.be", "-f", "json", "-l", "3")[0])) == 3


@pytest.mark.django_db(transaction=True)  # `import` matches against the watchlist (application database)
def test_a_piped_table_has_one_record_a_line() -> None:
    invoke("import", str(COF_SAMPLE), "-F", "cof")
    out = invoke("query", "*.be", "-l", "0")[0]
    rows = [line for line in out.splitlines() if ".be" in line and "*.be" not in line]
    assert len(rows) == 7, out
    assert all(len(line.split("│")) == 8 for line in rows), out  # every cell on its record's line
    assert "\x1b[" not in out  # no colours into a pipe
