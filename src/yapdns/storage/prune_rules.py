"""Retention rules: their own ages per RR type, per sensor and per evidence kind, as SQL for the prune.

A rule is written ``KIND:VALUE=DAYS``: ``type:TXT=7``, ``sensor:lab=3``,
``evidence:imported=365`` (0: for ever). Rules combine so that nothing a rule
keeps is ever removed:

- a record is kept while *any* provenance (sensor, evidence) that saw it keeps
  it; a provenance keeps a record of type T for the longest of the rules that
  match T, its sensor and its evidence, or, when none matches, for the default
  age (``YAPDNS_RETENTION_DAYS``); a record without a provenance row keeps its
  type rule, else the default;
- RRsets carry no provenance: their type rule, else the default;
- negative answers and bare queries keep their own age
  (``YAPDNS_RETENTION_NEGATIVE_DAYS``) unless the rules that match them give a
  shorter one: a rule can shorten them, never lengthen them.

The SQL is the same for SQLite and PostgreSQL (``?`` placeholders): each rule
family is one ``CASE`` over parameters, ``NULL`` where no rule matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from yapdns.core import rrtypes
from yapdns.core.errors import ConfigurationError, InvalidRRType
from yapdns.core.model import Evidence

DAY = 86_400
NEVER = 2**62  # a cut-off no time reaches: "this rule does not match"
KINDS = ("type", "sensor", "evidence")


class RetentionRule(msgspec.Struct, frozen=True):
    """One rule: rows matching ``kind`` = ``value`` whose ``time_last`` is before ``before`` may go (0: never)."""

    kind: str  # type | sensor | evidence
    value: str  # a canonical type mnemonic, a sensor name or an evidence kind
    days: int
    before: int

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.value}={self.days}"

    @property
    def key(self) -> object:
        """What the SQL compares with: the type code for a type rule, else the text."""
        return rrtypes.rrtype_code(self.value) if self.kind == "type" else self.value


def parse_rules(items: Iterable[str], now: int) -> tuple[RetentionRule, ...]:
    """Rules from ``KIND:VALUE=DAYS`` items (each may hold several, comma-separated); raise ConfigurationError."""
    rules: dict[tuple[str, str], RetentionRule] = {}
    for item in items:
        for text in (t.strip() for t in item.split(",")):
            if text:
                rule = parse_rule(text, now)
                if (rule.kind, rule.value) in rules:
                    raise ConfigurationError(f"retention rule {text!r}: {rule.kind}:{rule.value} is given twice")
                rules[(rule.kind, rule.value)] = rule
    return tuple(rules.values())


def parse_rule(text: str, now: int) -> RetentionRule:
    """One ``KIND:VALUE=DAYS`` rule, its value made canonical."""
    kind, _, rest = text.partition(":")
    value, _, days_text = rest.rpartition("=")
    kind, value = kind.strip().lower(), value.strip()
    if kind not in KINDS or not value or not days_text.strip().isdigit():
        raise ConfigurationError(f"retention rule {text!r}: write KIND:VALUE=DAYS with KIND one of "
                                 f"{', '.join(KINDS)} and DAYS a whole number (0: for ever)")
    days = int(days_text)
    return RetentionRule(kind, _canonical(kind, value, text), days, max(now - days * DAY, 0) if days else 0)


def _canonical(kind: str, value: str, text: str) -> str:
    if kind == "type":
        try:
            return rrtypes.rrtype_text(rrtypes.rrtype_code(value.upper()))
        except InvalidRRType as exc:
            raise ConfigurationError(f"retention rule {text!r}: {exc}") from exc
    if kind == "evidence" and value.lower() not in {e.value for e in Evidence}:
        raise ConfigurationError(f"retention rule {text!r}: evidence is one of {', '.join(e.value for e in Evidence)}")
    return value.lower() if kind == "evidence" else value


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL and its parameters, in order."""

    sql: str
    params: tuple[object, ...] = ()

    def __and__(self, other: Fragment) -> Fragment:
        return Fragment(f"({self.sql}) AND ({other.sql})", self.params + other.params)


@dataclass(frozen=True)
class RuleSql:
    """The rules of one policy as SQL over a row ``r`` (its ``rrtype``, ``time_last``) and a provenance ``p``."""

    rules: tuple[RetentionRule, ...]

    def families(self, row: str, prov: str | None) -> list[Fragment]:
        """One ``CASE`` per rule family that has rules (the sensor and evidence ones only with ``prov``)."""
        columns = {"type": f"{row}.rrtype", "sensor": f"{prov}.sensor", "evidence": f"{prov}.evidence"}
        out = []
        for kind in KINDS if prov else ("type",):
            chosen = sorted((r for r in self.rules if r.kind == kind), key=lambda r: -len(r.value))
            if kind == "sensor" and chosen:  # a sub-sensor "lab/x" is lab's unless it has a rule of its own
                whens = " ".join(f"WHEN {_SENSOR_MATCH.format(column=columns[kind])} THEN ?" for _ in chosen)
                out.append(Fragment(f"CASE {whens} END",
                                    tuple(v for r in chosen for v in (*_sensor_params(r.value), r.before))))
            elif chosen:
                whens = " ".join("WHEN ? THEN ?" for _ in chosen)
                out.append(Fragment(f"CASE {columns[kind]} {whens} END",
                                    tuple(v for r in chosen for v in (r.key, r.before))))
        return out

    @property
    def by_provenance(self) -> bool:
        return any(r.kind != "type" for r in self.rules)

    def kept_by_rules(self, row: str, prov: str | None) -> Fragment:
        """True when a matching rule keeps the row (false when none matches)."""
        parts = [Fragment(f"{row}.time_last >= COALESCE({f.sql}, {NEVER})", f.params) for f in self.families(row, prov)]
        return _join(parts, " OR ", Fragment("1 = 0"))

    def unmatched(self, row: str, prov: str | None) -> Fragment:
        """True when no rule matches the row."""
        parts = [Fragment(f"({f.sql}) IS NULL", f.params) for f in self.families(row, prov)]
        return _join(parts, " AND ", Fragment("1 = 1"))

    def record_expired(self, table: str, default: int) -> Fragment:
        """A record (``rr``, ``rrset``) no provenance keeps; ``default`` is the cut-off where no rule matches."""
        if table != "rr" or not self.by_provenance:
            return self._type_cutoff(table, default)
        by_rule, unmatched = self.kept_by_rules(table, "p"), self.unmatched(table, "p")
        kept = Fragment(f"({by_rule.sql}) OR (({unmatched.sql}) AND {table}.time_last >= ?)",
                        (*by_rule.params, *unmatched.params, default))
        seen = f"SELECT 1 FROM rr_seen s JOIN prov p ON p.id = s.prov WHERE s.rr_id = {table}.id"
        unseen = self._type_cutoff(table, default)
        return Fragment(f"NOT EXISTS ({seen} AND ({kept.sql})) AND (EXISTS ({seen}) OR ({unseen.sql}))",
                        (*kept.params, *unseen.params))

    def _type_cutoff(self, table: str, default: int) -> Fragment:
        types = self.families(table, None)
        if not types:
            return Fragment(f"{table}.time_last < ?", (default,))
        return Fragment(f"{table}.time_last < COALESCE({types[0].sql}, ?)", (*types[0].params, default))

    def negative_expired(self, table: str, own: int) -> Fragment:
        """A negative answer or bare query (one provenance, ``{table}.prov``): past its own cut-off ``own``, or
        past the longest of the rules that match it."""
        if not self.by_provenance:
            cut = self._shortened(table, None)
            return Fragment(f"{table}.time_last < ? OR ({cut.sql})", (own, *cut.params))
        cut = self._shortened(table, "p")
        return Fragment(f"{table}.time_last < ? OR EXISTS (SELECT 1 FROM prov p WHERE p.id = {table}.prov "
                        f"AND {cut.sql})", (own, *cut.params))

    def _shortened(self, table: str, prov: str | None) -> Fragment:
        unmatched, kept = self.unmatched(table, prov), self.kept_by_rules(table, prov)
        return Fragment(f"NOT ({unmatched.sql}) AND NOT ({kept.sql})", (*unmatched.params, *kept.params))

    def matches(self, rule: RetentionRule, table: str) -> Fragment | None:
        """The rows of ``table`` that ``rule`` applies to (None: it applies to none there)."""
        if rule.kind == "type":
            return Fragment(f"{table}.rrtype = ?", (rule.key,))
        if rule.kind == "sensor":
            match = Fragment(_SENSOR_MATCH.format(column="p.sensor"), _sensor_params(rule.value))
        else:
            match = Fragment("p.evidence = ?", (rule.key,))
        if table == "rr":
            return Fragment(f"EXISTS (SELECT 1 FROM rr_seen s JOIN prov p ON p.id = s.prov WHERE s.rr_id = rr.id "
                            f"AND {match.sql})", match.params)
        if table in ("negative", "qname"):
            return Fragment(f"EXISTS (SELECT 1 FROM prov p WHERE p.id = {table}.prov AND {match.sql})", match.params)
        return None


_SENSOR_MATCH = "({column} = ? OR substr({column}, 1, ?) = ?)"


def _sensor_params(sensor: str) -> tuple[object, ...]:
    return sensor, len(sensor) + 1, sensor + "/"


@dataclass(frozen=True)
class RuleAges:
    """The same rules evaluated in Python, for a store that reads a key's provenances and applies them itself
    (ClickHouse). ``provs`` are ``(sensor, evidence)`` pairs; a cut-off of 0 keeps for ever."""

    rules: tuple[RetentionRule, ...]

    def matching(self, rrtype: int, prov: tuple[str, str] | None) -> list[RetentionRule]:
        """The rules that match a row of ``rrtype`` seen by ``prov`` (the longest sensor name only)."""
        out = [r for r in self.rules if r.kind == "type" and r.key == rrtype]
        if prov is not None:
            sensor, evidence = prov
            named = [r for r in self.rules if r.kind == "sensor" and (sensor == r.value or
                                                                      sensor.startswith(r.value + "/"))]
            out += sorted(named, key=lambda r: -len(r.value))[:1]
            out += [r for r in self.rules if r.kind == "evidence" and r.value == evidence]
        return out

    def labels(self, rrtype: int, provs: Sequence[tuple[str, str]]) -> set[str]:
        """The rules that apply to a row of ``rrtype`` seen by ``provs`` (for the report's per-rule counts)."""
        return {r.label for p in _or_none(provs) for r in self.matching(rrtype, p)}

    def record_cutoff(self, rrtype: int, provs: Sequence[tuple[str, str]], default: int) -> int:
        """A record goes when last seen before this: the earliest of its provenances' cut-offs."""
        return min(self._kept_until(rrtype, p, default) for p in _or_none(provs))

    def _kept_until(self, rrtype: int, prov: tuple[str, str] | None, default: int) -> int:
        found = [r.before for r in self.matching(rrtype, prov)]
        return min(found) if found else default

    def negative_cutoff(self, rrtype: int, provs: Sequence[tuple[str, str]], own: int) -> int:
        """A negative answer or bare query goes when last seen before this: its own cut-off, moved later by the
        rules that match it (for each provenance; the earliest of them)."""
        cuts = []
        for prov in _or_none(provs):
            found = [r.before for r in self.matching(rrtype, prov)]
            cuts.append(max(own, min(found)) if found else own)
        return min(cuts)


def _join(parts: Sequence[Fragment], op: str, empty: Fragment) -> Fragment:
    if not parts:
        return empty
    return Fragment(op.join(f"({p.sql})" for p in parts), tuple(v for p in parts for v in p.params))


def _or_none(provs: Sequence[tuple[str, str]]) -> list[tuple[str, str] | None]:
    """The provenances, or one unknown (``None``: only type rules apply) when there are none."""
    return [*provs] if provs else [None]
