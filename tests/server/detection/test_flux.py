"""The fast-flux score on real data: a BIND zone rotating short-TTL A records across address blocks, resolved
through unbound (fluxlab.py); n_ASN from the enrichment's context (an MMDB written with mmdb-writer, read by
the real enricher) or the network proxy; the suspicious listing, the domain page and the search warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.enrich.test_mmdb import write_mmdb
from tests.server.conftest import auth
from tests.server.detection import fluxlab
from yapdns.enrich.enricher import GeoIpEnricher
from yapdns.enrich.mmdb import MmdbDataset
from yapdns.server.detection import flux, jobs
from yapdns.server.detection.models import NameScore
from yapdns.storage.base import BatchRef, Store

ROUNDS = 4


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    return list(fluxlab.resolve_rotating(tmp_path_factory.mktemp("fluxlab"), ROUNDS))


@pytest.fixture
def lab(store: Store, resolutions: list[object]) -> Store:
    store.write(resolutions, BatchRef("lab", "flux"))  # type: ignore[arg-type]
    return store


def enrich(store: Store, path: Path) -> int:
    """Run the real enricher over every stored address with one MMDB; the rows it kept."""
    dataset = MmdbDataset(path)
    enricher, cursor, kept = GeoIpEnricher([dataset]), None, 0
    while True:
        step = enricher.enrich_step(store, dataset, cursor)
        if step.addresses == 0:
            return kept
        cursor, kept = step.next_cursor, kept + step.kept


def test_the_score_follows_holz_et_al() -> None:
    assert flux.score(1, 1, 2) == pytest.approx(1.32 + 18.54 - 142.38)
    assert flux.score(20, 20, 2) > 0 > flux.score(4, 1, 2)  # 20 addresses in 20 networks; a CDN of 4 in one


def test_a_rotating_name_scores_as_fast_flux_and_stable_ones_do_not(lab: Store) -> None:
    www = flux.flux_score(lab, "www.flux.test")
    assert (www.n_a, www.n_asn, www.n_ns) == (ROUNDS * fluxlab.PER_ROUND, ROUNDS * fluxlab.PER_ROUND, 2)
    assert www.ttl_min is not None and www.ttl_min <= 1 and www.flux
    assert www.basis_label == "network"  # no dataset knows these addresses: the /16 proxy, and it says so
    for name in ("stable.flux.test", "cdn.flux.test"):
        assert not flux.flux_score(lab, name).flux, name
    assert flux.flux_score(lab, "cdn.flux.test").n_asn == 1


def _halves(first: dict[str, object], second: dict[str, object]) -> dict[str, dict[str, object]]:
    """The lab's first 16 /16s split over two ASes (100.64/13 and 100.72/13); 100.80-83 stay unknown."""
    return {"100.64.0.0/13": first, "100.72.0.0/13": second}


def test_as_numbers_replace_the_proxy_where_context_is_known(lab: Store, tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", _halves(
        {"autonomous_system_number": 64500, "autonomous_system_organization": "FLUX-A"},
        {"autonomous_system_number": 64501, "autonomous_system_organization": "FLUX-B"}), 1_700_000_000)
    assert enrich(lab, path) == 16
    www = flux.flux_score(lab, "www.flux.test")
    unknown = ROUNDS * fluxlab.PER_ROUND - 16
    assert www.basis == {"asn": 16, "network": unknown} and www.basis_label == "mixed"
    assert www.n_asn == 2 + unknown and www.score == pytest.approx(flux.score(www.n_a, 2 + unknown, 2))
    assert not www.flux  # 20 addresses in 6 ASes: below Holz et al.'s line, where 20 /16s were above it
    shown = www.as_json()
    assert shown["asn_basis"] == "mixed" and shown["addresses_by_basis"] == {"asn": 16, "as_name": 0, "network": 4}


def test_as_names_count_where_a_dataset_has_no_numbers(lab: Store, tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "names.mmdb", "names-only", _halves(
        {"autonomous_system_organization": "FLUX-A"}, {"autonomous_system_organization": "FLUX-A"}), 1_700_000_000)
    assert enrich(lab, path) == 16
    www = flux.flux_score(lab, "www.flux.test")
    assert www.basis == {"as_name": 16, "network": 4} and www.n_asn == 1 + 4


def test_a_name_not_seen_in_the_window_is_not_scanned(lab: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollup's last sighting rules the window out (a fast-flux name of 100k old records cost seconds)."""
    scanned: list[object] = []
    real = lab.iter_records
    monkeypatch.setattr(lab, "iter_records", lambda q: scanned.append(q) or real(q))
    later = flux.flux_score(lab, "www.flux.test", now=2**40)  # every record is long before that window
    assert (later.n_a, later.n_asn, scanned) == (0, 0, [])
    assert flux.flux_score(lab, "www.flux.test").n_a == ROUNDS * fluxlab.PER_ROUND and scanned  # in it: scanned


def test_suspicious_listing_domain_page_and_search(client: Client, lab: Store, query_token: str, analyst: User) -> None:
    assert jobs.rescore(lab) == 4
    assert set(NameScore.objects.values_list("name", flat=True)) == {
        "www.flux.test", "stable.flux.test", "cdn.flux.test",  # they got addresses
        "flux.test",  # newly observed, with its NS records only
    }
    names = client.get("/api/v1/suspicious", **auth(query_token)).json()["names"]
    assert [n["name"] for n in names] == ["www.flux.test"] and names[0]["distinct_asns"] == 20
    assert names[0]["asn_basis"] == "network"
    assert client.get("/api/v1/flux", {"name": "www.flux.test"}, **auth(query_token)).json()["flux"] is True
    assert client.get("/api/v1/flux", {"name": "*.flux.test"}, **auth(query_token)).status_code == 400
    client.force_login(analyst)
    page = client.get("/domain/www.flux.test").content.decode()
    assert 'id="flux-tile"' in page and "fast-flux" in page and "20 AS (by network)" in page
    assert 'class="badge flux"' not in client.get("/domain/stable.flux.test").content.decode()
    quiet = client.get("/domain/ns1.example.test").content.decode()  # no answers at all in the past 7 days
    assert "no A/AAAA answers in the past 7 days" in quiet and "-142" not in quiet
    assert 'id="flux-warning"' in client.get("/search", {"q": "*.flux.test"}).content.decode()
    assert "www.flux.test" in client.get("/suspicious").content.decode()
    assert jobs.rescore(lab) == 0  # nothing new since


def test_the_lab_really_rotated(resolutions: list[object], tmp_path: Path) -> None:
    www = [o for o in resolutions if getattr(o, "rrname", "") == "www.flux.test"]
    assert len(www) == ROUNDS and len({o.rdata for o in www}) == ROUNDS  # type: ignore[attr-defined]
