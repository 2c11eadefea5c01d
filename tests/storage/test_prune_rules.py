"""Retention rules per RR type, sensor and evidence kind: a rule shortens or lengthens the age of what it
matches, a record goes only when no provenance that saw it keeps it, negatives are only ever shortened,
and the dry run's per-rule counts are what the real prune removes; on every backend."""

from __future__ import annotations

import random

import pytest

from tests.storage.builders import T0, by_name, obs
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Evidence, Observation
from yapdns.storage.base import Store
from yapdns.storage.prune import Prunable, RetentionPolicy
from yapdns.storage.prune_rules import RetentionRule, RuleAges, parse_rules
from yapdns.storage.query import NameMatch, RecordQuery

OLD, NEW = T0, T0 + 1000
CUT = T0 + 500  # OLD is before it, NEW after
KEEP = OLD - 1  # OLD is not before it


def seed(store: Store) -> None:
    store.write([
        obs("txt.example", "TXT", '"v=spf1 -all"', first=OLD),
        obs("lab.example", "A", "192.0.2.1", first=OLD, sensor="lab"),
        obs("sub.example", "A", "192.0.2.4", first=OLD, sensor="lab/edge"),  # a sub-sensor: lab's rules
        obs("laboratory.example", "A", "192.0.2.5", first=OLD, sensor="laboratory"),  # another sensor
        obs("both.example", "A", "192.0.2.2", first=OLD, sensor="lab"),
        obs("both.example", "A", "192.0.2.2", first=OLD, sensor="s1"),
        obs("imported.example", "A", "192.0.2.3", first=OLD, sensor="s2", evidence=Evidence.IMPORTED),
        obs("labnx.example", "A", rcode="NXDOMAIN", first=OLD, sensor="lab"),
        obs("s1nx.example", "A", rcode="NXDOMAIN", first=OLD, sensor="s1"),
    ])
    store.write([obs("new.example", "A", "192.0.2.9", first=NEW), obs("new.example", "A", rcode="NXDOMAIN",
                                                                        first=NEW, sensor="s2")])


def left(store: Store) -> set[str]:
    names = NameMatch.parse("*.example")
    found = {r.rrname for r in store.records(RecordQuery(rrname=names, limit=1000)).rows}
    return found | {f"nx:{r.rrname}" for r in store.negatives(RecordQuery(rrname=names, limit=1000)).rows}


def prunable(store: Store) -> Prunable:
    assert isinstance(store, Prunable)
    return store


def rule(kind: str, value: str, before: int) -> RetentionRule:
    return RetentionRule(kind, value, 1, before)


SHORTEN = RetentionPolicy(KEEP, None, rules=(rule("type", "TXT", CUT), rule("sensor", "lab", CUT)))
LENGTHEN = RetentionPolicy(CUT, CUT, rules=(rule("evidence", "imported", 0), rule("sensor", "lab", KEEP)))
ALL = {"txt.example", "lab.example", "sub.example", "laboratory.example", "both.example", "imported.example", "new.example", "nx:labnx.example",
       "nx:s1nx.example", "nx:new.example"}


def test_rules_shorten_what_they_match_and_spare_what_another_sensor_keeps(store: Store) -> None:
    seed(store)
    dry = prunable(store).prune(SHORTEN, dry_run=True)
    assert left(store) == ALL
    report = prunable(store).prune(SHORTEN)
    assert left(store) == ALL - {"txt.example", "lab.example", "sub.example", "nx:labnx.example"}
    assert (report.records, report.negatives, report.queries) == (dry.records, dry.negatives, 0) == (3, 1, 0)
    assert report.by_rule == dry.by_rule
    assert report.rrsets == 1  # the TXT RRset; RRsets carry no provenance: the sensor rule spares lab.example's
    assert report.by_rule["type:TXT=1"] == 2  # the TXT record and its RRset
    assert report.by_rule["sensor:lab=1"] == 3  # lab's and lab/edge's records, and labnx.example's negative
    assert store.provenance("both.example", "A", "192.0.2.2") != []
    stats = store.stats()
    assert stats.records_by_type == {"A": stats.records}


def test_rules_lengthen_records_but_never_negatives(store: Store) -> None:
    seed(store)
    prunable(store).prune(LENGTHEN)
    assert left(store) == {"lab.example", "sub.example", "both.example", "imported.example", "new.example",
                           "nx:new.example"}
    assert [p.sensor_id for p in store.provenance("lab.example", "A", "192.0.2.1")] == ["lab"]


def test_type_rules_on_every_backend(store: Store) -> None:
    """A TXT rule alone, the default keeping everything: only the TXT record and its RRset go."""
    seed(store)
    policy = RetentionPolicy(None, None, rules=(rule("type", "TXT", CUT),))
    dry = prunable(store).prune(policy, dry_run=True)
    report = prunable(store).prune(policy)
    assert left(store) == ALL - {"txt.example"}
    assert store.records(by_name("txt.example")).rows == []
    assert (report.records, report.negatives, dry.records, dry.by_rule["type:TXT=1"]) == (1, 0, 1, report.by_rule[
        "type:TXT=1"])


def test_rules_are_parsed_and_checked() -> None:
    now = T0 + 100 * 86_400
    rules = parse_rules(["type:txt=7, sensor:lab=3", "evidence:Imported=0"], now)
    assert [(r.kind, r.value, r.before) for r in rules] == [
        ("type", "TXT", now - 7 * 86_400), ("sensor", "lab", now - 3 * 86_400), ("evidence", "imported", 0)]
    assert RetentionPolicy.from_days(0, rules=["type:TXT=7"], now=now).active
    for bad, message in [("color:red=3", "KIND:VALUE=DAYS"), ("type:NOPE=3", "NOPE"), ("sensor:lab=-1", "DAYS"),
                         ("evidence:rumour=3", "evidence is one of"), ("sensor:lab=1,sensor:lab=2", "twice")]:
        with pytest.raises(ConfigurationError, match=message):
            parse_rules([bad], now)


SENSORS = ("lab", "lab/edge", "lab/core", "laboratory", "s1")
CUTS = (0, T0 + 100, T0 + 500, T0 + 900, KEEP)


def random_case(rng: random.Random) -> tuple[RetentionPolicy, list[Observation], dict[str, tuple[int, int, list[
        tuple[str, str]]]]]:
    """Random rules and sightings; what each name is: (type code, last time, its provenances)."""
    choices = [("type", "TXT"), ("sensor", "lab"), ("sensor", "lab/edge"), ("sensor", "laboratory"),
               ("evidence", "imported")]
    rules = tuple(rule(k, v, rng.choice(CUTS)) for k, v in rng.sample(choices, rng.randint(0, len(choices))))
    policy = RetentionPolicy(rng.choice((None, T0 + 300, T0 + 700)), rng.choice((None, T0 + 400)), rules=rules)
    sightings: list[Observation] = []
    truth: dict[str, tuple[int, int, list[tuple[str, str]]]] = {}
    for i in range(30):
        negative = i % 3 == 0
        name, rrtype = f"r{i}.example", rng.choice(("A", "TXT"))
        provs = [(rng.choice(SENSORS), rng.choice(list(Evidence)).value) for _ in range(1 if negative else
                                                                                       rng.randint(1, 3))]
        times = [T0 + rng.randint(0, 1000) for _ in provs]
        for (sensor, evidence), when in zip(provs, times, strict=True):
            rdata = () if negative else ("192.0.2.1",) if rrtype == "A" else ('"t"',)
            sightings.append(obs(name, rrtype, *rdata, first=when, sensor=sensor, evidence=Evidence(evidence),
                                 rcode="NXDOMAIN" if negative else None))
        truth[("nx:" if negative else "") + name] = (1 if rrtype == "A" else 16, max(times), provs)
    return policy, sightings, truth


@pytest.mark.parametrize("seed", [10, 26, 35])  # each with 4-5 rules and 8-22 of 30 names kept
def test_every_backend_prunes_what_the_rules_say(store: Store, seed: int) -> None:
    """Random rules and sightings: the survivors are exactly what ``RuleAges`` (the rules in Python) keeps."""
    policy, sightings, truth = random_case(random.Random(seed))
    store.write(sightings)
    store.write([obs("top.example", "A", "192.0.2.9", first=T0 + 5000)])  # the highest ids (kept by design)
    ages = RuleAges(policy.rules)
    base, own = policy.records_before or 0, policy.negatives_before or 0
    kept = {name for name, (code, last, provs) in truth.items()
            if last >= (ages.negative_cutoff(code, provs, own) if name.startswith("nx:")
                        else ages.record_cutoff(code, provs, base))}
    prunable(store).prune(policy)
    assert left(store) - {"top.example"} == kept, policy
