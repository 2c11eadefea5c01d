"""Further signals from stored data: domain age at first sight, lexical DGA scores against the shipped word list,
re-pointing to a new AS (context from an MMDB written with mmdb-writer and read by the real enricher, else the
network proxy); the signals API, the suspicious listing by signal and the domain page's tiles."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.enrich.test_mmdb import write_mmdb
from tests.server.conftest import auth
from tests.server.detection.test_flux import enrich
from tests.storage.builders import obs
from yapdns.server.detection import jobs, lexical, signals
from yapdns.storage.base import Store

DAY = 86400
NOW = int(time.time())
ASNS = {"1.1.1.0/24": {"autonomous_system_number": 13335, "autonomous_system_organization": "CLOUDFLARENET"},
        "1.0.0.0/24": {"autonomous_system_number": 13335, "autonomous_system_organization": "CLOUDFLARENET"},
        "5.5.5.0/24": {"autonomous_system_number": 64496, "autonomous_system_organization": "MOVED-TO"}}


def test_entropy_is_shannons() -> None:
    assert lexical.entropy("aaaa") == 0 and lexical.entropy("abcd") == pytest.approx(2.0)
    assert lexical.entropy("aabb") == pytest.approx(1.0)


def test_the_bigram_model_separates_random_labels_from_words() -> None:
    model = lexical.model()
    assert model.words > 200_000  # the web2 list the package ships
    rng = random.Random(19)
    letters = "abcdefghijklmnopqrstuvwxyz"
    labels = ["".join(rng.choice(letters) for _ in range(rng.randint(10, 16))) for _ in range(500)]
    flagged = sum(lexical.lexical(f"www.{label}.com").dga for label in labels)
    from english_words import get_english_words_set

    words = sorted(w for w in get_english_words_set(["web2"], alpha=True, lower=True) if len(w) >= 10)
    sample = random.Random(7).sample(words, 500)
    false = sum(lexical.lexical(f"{w}.co.uk").dga for w in sample)
    assert flagged / len(labels) > 0.9 and false / len(sample) < 0.05, (flagged, false)
    short = lexical.lexical("xq.com")
    assert short.label == "xq" and not short.dga  # too short to call
    assert lexical.lexical("a.b.qxhgrtpwkz.co.uk").label == "qxhgrtpwkz"  # the registered label, past the eTLD
    idn = lexical.lexical("xn--bcher-kva.de")  # bücher.de: scored low, never called DGA-like
    assert idn.bigram < idn.threshold and not idn.dga


def test_domain_age_at_first_sight(store: Store) -> None:
    store.write([obs("example.com", "NS", "ns1.example.net", first=NOW - 40 * DAY),
                 obs("www.example.com", "A", "192.0.2.1", first=NOW - 30 * DAY),
                 obs("new.example.com", "A", "192.0.2.2", first=NOW - DAY),
                 obs("fresh.example.org", "A", "192.0.2.3", first=NOW - 3600),
                 obs("mail.fresh.example.org", "A", "192.0.2.4", first=NOW - 1800),
                 obs("old.example.net", "A", "192.0.2.5", first=NOW - 90 * DAY)])
    new = signals.domain_age(store, "new.example.com")
    assert (new.domain, new.age, new.young) == ("example.com", 39 * DAY, False)
    fresh = signals.domain_age(store, "fresh.example.org")
    assert (fresh.age, fresh.young) == (0, True)
    assert signals.domain_age(store, "mail.fresh.example.org").age == 1800
    assert signals.domain_age(store, "unseen.example.com").age is None
    old = signals.domain_age(store, "old.example.net")
    assert (old.age, old.young) == (0, False)  # came with its domain, but 90 days ago: history, not news


def _moving(store: Store) -> None:
    store.write([
        obs("moved.example", "A", "1.1.1.1", first=NOW - 90 * DAY, last=NOW - 8 * DAY),
        obs("moved.example", "A", "5.5.5.5", first=NOW - 2 * DAY, last=NOW - DAY),
        obs("steady.example", "A", "1.1.1.1", first=NOW - 90 * DAY, last=NOW - DAY),
        obs("steady.example", "A", "1.0.0.1", first=NOW - 2 * DAY, last=NOW - DAY),  # same AS, other /16
        obs("young.example", "A", "1.1.1.1", first=NOW - 10 * DAY, last=NOW - 9 * DAY),
        obs("young.example", "A", "5.5.5.5", first=NOW - DAY),
    ])


def test_repointing_by_network_without_context(store: Store) -> None:
    _moving(store)
    moved = signals.repointing(store, "moved.example", NOW)
    assert moved.repointed and moved.basis == "network"
    assert (moved.old_as, moved.new_as, moved.still_old) == (["net:1.1.0.0/16"], ["net:5.5.0.0/16"], False)
    assert signals.repointing(store, "steady.example", NOW).repointed  # 1.0/16 is new to the proxy
    assert not signals.repointing(store, "young.example", NOW).repointed  # not long-lived


def test_repointing_by_as_number_with_context(store: Store, tmp_path: Path) -> None:
    _moving(store)
    assert enrich(store, write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", ASNS, NOW - 365 * DAY)) == 3
    moved = signals.repointing(store, "moved.example", NOW)
    assert (moved.repointed, moved.basis, moved.new_as) == (True, "asn", ["AS64496"])
    steady = signals.repointing(store, "steady.example", NOW)
    assert not steady.repointed and steady.old_as == ["AS13335"]  # a new /16 of the same AS is no move


def _aliased(store: Store) -> None:
    """``shop.example`` CNAMEs to a hoster for 90 days, then to a new target in another AS (a takeover);
    ``blog.example`` keeps its target; ``hop.example``'s target renumbers into another AS; ``gone.example`` left
    its target before that target got its address."""
    store.write([
        obs("lb.hoster.example", "A", "1.1.1.1", first=NOW - 100 * DAY, last=NOW - DAY),
        obs("shop.example", "CNAME", "lb.hoster.example", first=NOW - 90 * DAY, last=NOW - 8 * DAY),
        obs("takeover.attacker.example", "A", "5.5.5.5", first=NOW - 20 * DAY, last=NOW - DAY),  # not new itself
        obs("shop.example", "CNAME", "takeover.attacker.example", first=NOW - 2 * DAY, last=NOW - DAY),
        obs("blog.example", "CNAME", "lb.hoster.example", first=NOW - 90 * DAY, last=NOW - DAY),
        obs("hop.example", "CNAME", "renumbered.example", first=NOW - 95 * DAY, last=NOW - DAY),
        obs("renumbered.example", "A", "1.1.1.3", first=NOW - 95 * DAY, last=NOW - 5 * DAY),
        obs("renumbered.example", "A", "5.5.5.6", first=NOW - 3 * DAY, last=NOW - DAY),
        obs("gone.example", "CNAME", "later.example", first=NOW - 90 * DAY, last=NOW - 60 * DAY),
        obs("later.example", "A", "5.5.5.7", first=NOW - 3 * DAY, last=NOW - DAY),
    ])


def test_repointing_follows_a_cname_only_names_chains(store: Store, tmp_path: Path) -> None:
    _aliased(store)
    enrich(store, write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", ASNS, NOW - 365 * DAY))
    shop = signals.repointing(store, "shop.example", NOW)
    assert (shop.repointed, shop.old_as, shop.new_as, shop.still_old) == (True, ["AS13335"], ["AS64496"], False)
    assert shop.via == ("lb.hoster.example", "takeover.attacker.example")
    assert shop.as_json()["via_cname"] == ["lb.hoster.example", "takeover.attacker.example"]
    blog = signals.repointing(store, "blog.example", NOW)
    assert not blog.repointed and blog.via == ("lb.hoster.example",)
    hop = signals.repointing(store, "hop.example", NOW)  # a lookup of it ends in the target's new AS too
    assert (hop.repointed, hop.new_as, hop.via) == (True, ["AS64496"], ("renumbered.example",))
    gone = signals.repointing(store, "gone.example", NOW)  # the two were never seen at one time
    assert (gone.repointed, gone.via, gone.old_as) == (False, (), [])


def test_a_new_cname_target_rescores_its_alias(store: Store, tmp_path: Path) -> None:
    from yapdns.server.detection.models import NameScore

    _aliased(store)
    enrich(store, write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", ASNS, NOW - 365 * DAY))
    jobs.rescore(store)
    assert NameScore.objects.get(name="shop.example").repointed
    store.write([obs("blog.example", "CNAME", "takeover.attacker.example", first=NOW - 3600),
                 obs("takeover.attacker.example", "A", "5.5.5.5", first=NOW - 60)])  # no new address
    assert jobs.rescore(store) == 1
    assert NameScore.objects.get(name="blog.example").repointed


def test_the_domain_page_says_an_alias_was_repointed_through_its_cnames(client: Client, store: Store,
                                                                       analyst: User) -> None:
    _aliased(store)
    client.force_login(analyst)
    page = client.get("/domain/shop.example").content.decode()
    tile = page[page.index('id="repoint-tile"'):].split("</div>", 1)[0]
    assert "re-pointed" in tile and "net:" not in tile and "5.5.0.0/16" in tile
    assert "via CNAME <bdi>lb.hoster.example</bdi>, <bdi>takeover.attacker.example</bdi>" in tile


def test_signals_api_listing_and_domain_page(client: Client, store: Store, query_token: str, analyst: User,
                                             tmp_path: Path) -> None:
    _moving(store)
    store.write([obs("www.qxhgrtpwkzvb.com", "A", "192.0.2.9", first=NOW - 60)])
    enrich(store, write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", ASNS, NOW - 365 * DAY))
    body = client.get("/api/v1/signals/moved.example", **auth(query_token)).json()
    assert body["repointing"]["new_as"] == ["AS64496"] and body["suspicious"] is True
    assert body["lexical"]["label"] == "moved" and body["flux"]["asn_basis"] == "asn"
    assert client.get("/api/v1/signals/*.example", **auth(query_token)).status_code == 400
    assert client.get("/api/v1/signals/moved.example", {"x": "1"}, **auth(query_token)).status_code == 400
    assert client.get("/api/v1/signals/moved.example").status_code == 401
    assert jobs.rescore(store) == 4
    listed = {s: [n["name"] for n in client.get("/api/v1/suspicious", {"signal": s}, **auth(query_token)).json()
                  ["names"]] for s in ("", "dga", "repointed", "young")}
    assert sorted(listed[""]) == ["moved.example", "www.qxhgrtpwkzvb.com"]
    assert listed["dga"] == ["www.qxhgrtpwkzvb.com"] and listed["repointed"] == ["moved.example"]
    assert "www.qxhgrtpwkzvb.com" in listed["young"]  # came with its registered domain (age 0)
    assert client.get("/api/v1/suspicious", {"signal": "nope"}, **auth(query_token)).status_code == 400
    client.force_login(analyst)
    page = client.get("/domain/moved.example").content.decode()
    assert 'id="repoint-tile"' in page and "AS64496" in page and 'id="dga-tile"' in page and 'id="age-tile"' in page
    listing = client.get("/suspicious", {"signal": "dga"}).content.decode()
    assert "DGA-like" in listing and "moved.example" not in listing
    found = client.get("/search", {"q": "*.qxhgrtpwkzvb.com"}).content.decode()
    assert 'id="flux-warning"' in found and "DGA-like" in found


def test_ns_records_are_the_nearest_zones(store: Store) -> None:
    from yapdns.server.detection import flux

    store.write([obs("example.com", "NS", "ns1.example.net", first=NOW - DAY),
                 obs("example.com", "NS", "ns2.example.net", first=NOW - DAY),
                 *[obs("sub.example.com", "NS", f"ns{i}.sub.example.net", first=NOW - DAY) for i in range(3)],
                 obs("a.sub.example.com", "A", "192.0.2.1", first=NOW - DAY),
                 obs("b.example.com", "A", "192.0.2.2", first=NOW - DAY),
                 obs("x.bare.example", "A", "192.0.2.3", first=NOW - DAY)])
    counts = {n: flux.flux_score(store, n, now=NOW).n_ns for n in ("a.sub.example.com", "b.example.com", "x.bare.example")}
    assert counts == {"a.sub.example.com": 3, "b.example.com": 2, "x.bare.example": 0}


def test_the_cli_prints_a_names_signals(store: Store) -> None:
    import json

    from click.testing import CliRunner

    from yapdns.cli.detection import detection

    _moving(store)
    done = CliRunner().invoke(detection, ["signals", "moved.example"])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert shown["repointing"]["repointed"] and shown["flux"]["asn_basis"] == "network"
    assert CliRunner().invoke(detection, ["signals", "*.example"]).exit_code != 0


def _rotating(store: Store, start: int, n: int) -> None:
    """``www.rotating.example``: ``n`` addresses in ``n`` /16s (no dataset knows them: counted by network)."""
    store.write([obs("www.rotating.example", "A", f"100.{64 + i % 60}.{i}.7", first=NOW - 60, ttl=1)
                 for i in range(start, start + n)])


def test_a_cname_only_name_is_scored_by_its_targets_addresses(store: Store) -> None:
    _rotating(store, 0, 20)
    store.write([obs("alias.example.net", "CNAME", "hop.example.org", first=NOW - 60),
                 obs("hop.example.org", "CNAME", "www.rotating.example", first=NOW - 60)])
    alias = signals.flux.flux_score(store, "alias.example.net")
    assert (alias.n_a, alias.via, alias.flux) == (20, ("www.rotating.example",), True)
    assert alias.as_json()["via_cname"] == ["www.rotating.example"]
    own = signals.flux.flux_score(store, "www.rotating.example")
    assert own.via == () and own.score == alias.score


def test_names_without_new_addresses_get_their_signals(store: Store) -> None:
    from yapdns.server.detection.models import NameScore

    _rotating(store, 0, 4)
    store.write([obs("alias.example.net", "CNAME", "www.rotating.example", first=NOW - 60),
                 obs("mail.qxhgrtpwkzvb.com", "MX", "10 mx.example.net", first=NOW - 60),  # no address at all
                 obs("qxhgrtpwkzvb.com", "NS", "ns1.example.net", first=NOW - 60)])
    assert jobs.rescore(store) == 4
    kept = {row.name: row for row in NameScore.objects.all()}
    assert kept["mail.qxhgrtpwkzvb.com"].dga and kept["mail.qxhgrtpwkzvb.com"].suspicious  # MX only: DGA-like
    assert kept["qxhgrtpwkzvb.com"].dga and kept["qxhgrtpwkzvb.com"].young is not None
    assert not kept["alias.example.net"].flux and kept["alias.example.net"].n_addresses == 4
    _rotating(store, 4, 16)  # the target rotates: its CNAME alias is rescored with it, and now is fast-flux
    assert jobs.rescore(store) == 2
    alias = NameScore.objects.get(name="alias.example.net")
    assert alias.flux and alias.n_addresses == 20 and alias.suspicious


def test_the_domain_page_says_a_cname_only_names_addresses_are_its_targets(client: Client, store: Store,
                                                                          analyst: User) -> None:
    _rotating(store, 0, 20)
    store.write([obs("alias.example.net", "CNAME", "www.rotating.example", first=NOW - 60)])
    client.force_login(analyst)
    page = client.get("/domain/alias.example.net").content.decode()
    assert "fast-flux" in page and "via CNAME <bdi>www.rotating.example</bdi>" in page
