"""The fast-flux score on real data: a BIND zone rotating short-TTL A records across address blocks, resolved
through unbound (fluxlab.py); the score, the suspicious listing, the domain page and the search warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.server.conftest import auth
from tests.server.detection import fluxlab
from yapdns.server.detection import flux, jobs
from yapdns.storage.base import BatchRef, Store

ROUNDS = 4


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    return list(fluxlab.resolve_rotating(tmp_path_factory.mktemp("fluxlab"), ROUNDS))


@pytest.fixture
def lab(store: Store, resolutions: list[object]) -> Store:
    store.write(resolutions, BatchRef("lab", "flux"))  # type: ignore[arg-type]
    return store


def test_the_score_follows_holz_et_al() -> None:
    assert flux.score(1, 1, 2) == pytest.approx(1.32 + 18.54 - 142.38)
    assert flux.score(20, 20, 2) > 0 > flux.score(4, 1, 2)  # 20 addresses in 20 networks; a CDN of 4 in one


def test_a_rotating_name_scores_as_fast_flux_and_stable_ones_do_not(lab: Store) -> None:
    www = flux.flux_score(lab, "www.flux.test")
    assert (www.n_a, www.n_networks, www.n_ns) == (ROUNDS * fluxlab.PER_ROUND, ROUNDS * fluxlab.PER_ROUND, 2)
    assert www.ttl_min is not None and www.ttl_min <= 1 and www.flux
    for name in ("stable.flux.test", "cdn.flux.test"):
        assert not flux.flux_score(lab, name).flux, name
    assert flux.flux_score(lab, "cdn.flux.test").n_networks == 1


def test_a_name_not_seen_in_the_window_is_not_scanned(lab: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollup's last sighting rules the window out (a fast-flux name of 100k old records cost seconds)."""
    scanned: list[object] = []
    real = lab.iter_records
    monkeypatch.setattr(lab, "iter_records", lambda q: scanned.append(q) or real(q))
    later = flux.flux_score(lab, "www.flux.test", now=2**40)  # every record is long before that window
    assert (later.n_a, later.n_networks, scanned) == (0, 0, [])
    assert flux.flux_score(lab, "www.flux.test").n_a == ROUNDS * fluxlab.PER_ROUND and scanned  # in it: scanned


def test_suspicious_listing_domain_page_and_search(client: Client, lab: Store, query_token: str, analyst: User) -> None:
    assert jobs.rescore(lab) == 3  # www, stable, cdn got addresses
    names = client.get("/api/v1/suspicious", **auth(query_token)).json()["names"]
    assert [n["name"] for n in names] == ["www.flux.test"] and names[0]["distinct_networks"] == 20
    assert client.get("/api/v1/flux", {"name": "www.flux.test"}, **auth(query_token)).json()["flux"] is True
    assert client.get("/api/v1/flux", {"name": "*.flux.test"}, **auth(query_token)).status_code == 400
    client.force_login(analyst)
    page = client.get("/domain/www.flux.test").content.decode()
    assert 'id="flux-tile"' in page and "fast-flux" in page and "20 networks" in page
    assert 'class="badge flux"' not in client.get("/domain/stable.flux.test").content.decode()
    assert 'id="flux-warning"' in client.get("/search", {"q": "*.flux.test"}).content.decode()
    assert "www.flux.test" in client.get("/suspicious").content.decode()
    assert jobs.rescore(lab) == 0  # nothing new since


def test_the_lab_really_rotated(resolutions: list[object], tmp_path: Path) -> None:
    www = [o for o in resolutions if getattr(o, "rrname", "") == "www.flux.test"]
    assert len(www) == ROUNDS and len({o.rdata for o in www}) == ROUNDS  # type: ignore[attr-defined]
