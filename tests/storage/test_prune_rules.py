"""Retention rules per RR type, sensor and evidence kind: a rule shortens or lengthens the age of what it
matches, a record goes only when no provenance that saw it keeps it, negatives are only ever shortened,
and the dry run's per-rule counts are what the real prune removes; on every backend."""

from __future__ import annotations

import pytest

from tests.storage.builders import T0, by_name, obs
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Evidence
from yapdns.storage.base import Store
from yapdns.storage.prune import Prunable, RetentionPolicy
from yapdns.storage.prune_rules import RetentionRule, parse_rules
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
