"""`yapdns import` matches what it stores against the watchlist, after each commit, and loses no match to a crash."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from click.testing import CliRunner

from tests.cli.test_cli import COF_SAMPLE, invoke
from yapdns.cli import main
from yapdns.server.detection import services
from yapdns.server.detection.models import Alert

pytestmark = pytest.mark.django_db(transaction=True)
DHNET = {("infosports.dhnet.be", "A", "212.35.116.234")}  # the one *.dhnet.be record of the COF sample


@pytest.fixture(autouse=True)
def fresh_matcher() -> Iterator[None]:
    """The process's compiled watchlist belongs to this test's database only."""
    services.forget_matcher()
    yield
    services.forget_matcher()


class Crash(BaseException):
    """The process stops here (as a kill would): nothing after it runs."""


def alerts() -> set[tuple[str, str, str]]:
    return {(a.rrname, a.rrtype, a.rdata) for a in Alert.objects.filter(origin="live", sensor="import")}


def test_import_raises_alerts_for_what_it_stores() -> None:
    run = CliRunner()
    invoke(run, "detection", "watch", "*.dhnet.be")
    invoke(run, "import", str(COF_SAMPLE), "-F", "cof")
    assert alerts() == DHNET
    [alert] = Alert.objects.all()
    assert (alert.count, alert.time_first, alert.time_last) == (112, 1298398002, 1354530214)


def test_an_import_stopped_between_commit_and_match_matches_when_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    run = CliRunner()
    invoke(run, "detection", "watch", "*.dhnet.be")

    def crash(*args: Sequence[object]) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(services, "log_matches", crash)
        with pytest.raises(Crash):
            run.invoke(main, ["import", str(COF_SAMPLE), "-F", "cof"], catch_exceptions=False)
    assert alerts() == set()  # the batch committed, its match did not happen
    again = invoke(run, "import", str(COF_SAMPLE), "-F", "cof")
    assert "already imported before (skipped)" in again  # nothing stored twice...
    assert alerts() == DHNET  # ...and the replay was matched


def test_a_failed_match_is_reported_and_made_good_by_importing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    run = CliRunner()
    invoke(run, "detection", "watch", "*.dhnet.be")

    def broken(*args: Sequence[object]) -> None:
        raise RuntimeError("watchlist database unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(services, "live_matcher", broken)
        out = invoke(run, "import", str(COF_SAMPLE), "-F", "cof", ok=False)
    assert "watchlist matching failed for 1 batch(es)" in out and "run the same import again" in out
    invoke(run, "import", str(COF_SAMPLE), "-F", "cof")
    invoke(run, "import", str(COF_SAMPLE), "-F", "cof")  # matched twice: the batch counted once
    assert alerts() == DHNET and Alert.objects.get().matches == 1


def test_matching_switched_off_raises_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    run = CliRunner()
    invoke(run, "detection", "watch", "*.dhnet.be")
    monkeypatch.setenv("YAPDNS_WATCHLIST_MATCHING", "false")
    invoke(run, "import", str(COF_SAMPLE), "-F", "cof")
    assert alerts() == set()
