"""``WatchlistMatcher``: every watchlist entry compiled into lookups that cost a few hash probes per observation.

* exact names: one set lookup of the owner name;
* ``*.x`` (strict subdomains): one lookup per parent of the owner name;
* ``x.*`` (names starting with those labels): one lookup per proper label prefix;
* IPs and CIDRs: per address, one lookup per distinct prefix length in the
  watchlist (the address masked to it), so 10,000 /32s cost one probe;
* regexes: one combined search per distinct owner name (bounded by
  ``REGEX_MAX`` entries).

Names and addresses repeat a lot, so the matcher remembers the result of
each (up to ``CACHE_MAX`` of each, then starts over), and looks a batch's
distinct names and rdata up as sets: what it saw before costs nothing more,
and only a batch with a hit is walked observation by observation. ``nod`` entries match newly observed names,
not observations (``nod_suffixes``); ``asn`` entries need each address's
AS, which the matcher does not know: ``asn_entries`` answers for a number
and ``asnmatch.py`` finds the numbers.
"""

from __future__ import annotations

import ipaddress
import itertools
import operator
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import regex

from yapdns.core.model import Observation

REGEX_MAX = 1000
ADDRESS_TYPES = frozenset({"A", "AAAA"})
CACHE_MAX = 200_000  # names and addresses whose results the matcher remembers (cleared when full)
_RRNAME = operator.attrgetter("rrname")
_RDATA = operator.attrgetter("rdata")


@dataclass(frozen=True)
class EntryRule:
    """The part of a watchlist entry matching needs."""

    entry_id: int
    kind: str
    value: str


@dataclass(frozen=True)
class Hit:
    """One observation's record matched one entry."""

    entry_id: int
    rrname: str
    rrtype: str
    rdata: str
    sensor: str
    time_first: int
    time_last: int
    count: int
    matches: int = 1  # the observations this hit stands for (a logged match sums a batch's)


class WatchlistMatcher:
    """The compiled watchlist; immutable once built."""

    def __init__(self, rules: Iterable[EntryRule]) -> None:
        self.exact: dict[str, list[int]] = defaultdict(list)
        self.suffix: dict[str, list[int]] = defaultdict(list)
        self.prefix: dict[str, list[int]] = defaultdict(list)
        self.nets: dict[tuple[int, int], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        self.nod_suffixes: dict[str, list[int]] = defaultdict(list)
        self.asns: dict[int, list[int]] = defaultdict(list)
        self.regexes: list[tuple[int, regex.Pattern[str]]] = []
        self.size = 0
        for rule in rules:
            self._add(rule)
        self.prefix_lengths = sorted(self.nets)
        self._names = _Seen()
        self._addresses = _Seen()

    def _add(self, rule: EntryRule) -> None:
        self.size += 1
        if rule.kind == "name":
            table, name = self._name_table(rule.value)
            table[name].append(rule.entry_id)
        elif rule.kind == "ip":
            net = ipaddress.ip_network(rule.value, strict=False)
            self.nets[(net.version, net.prefixlen)][int(net.network_address)].append(rule.entry_id)
        elif rule.kind == "regex" and len(self.regexes) < REGEX_MAX:
            self.regexes.append((rule.entry_id, regex.compile(rule.value)))
        elif rule.kind == "nod":
            self.nod_suffixes[rule.value].append(rule.entry_id)
        elif rule.kind == "asn":
            self.asns[int(rule.value[2:])].append(rule.entry_id)

    def _name_table(self, value: str) -> tuple[dict[str, list[int]], str]:
        if value.startswith("*."):
            return self.suffix, value[2:]
        if value.endswith(".*"):
            return self.prefix, value[:-2]
        return self.exact, value

    @property
    def empty(self) -> bool:
        return self.size == 0

    def match(self, observations: Sequence[Observation]) -> list[Hit]:
        """Every (entry, record) the observations match, in observation order.

        The batch's distinct names and rdata are looked up as sets first (set operations run in C; a name or
        address seen before costs nothing more); then the observations with a hot name or address are picked
        in C (``itertools.compress``), so Python walks only those, not the whole batch.
        """
        if self.empty:
            return []
        names = list(map(_RRNAME, observations))
        hot_names = self._hot(set(names), self._names, self.name_entries)
        hot_ips: dict[str, tuple[int, ...]] = {}
        if self.nets:
            rdatas = set(itertools.chain.from_iterable(map(_RDATA, observations)))
            hot_ips = self._hot(rdatas, self._addresses, self.ip_entries)
        if not hot_names and not hot_ips:
            return []
        ips = hot_ips.keys()
        picked: Iterable[object] = map(hot_names.__contains__, names)
        if ips:
            has_ip = map(operator.not_, map(ips.isdisjoint, map(_RDATA, observations)))
            picked = map(operator.or_, picked, has_ip)
        hits: list[Hit] = []
        for obs in itertools.compress(observations, picked):
            by_name = hot_names.get(obs.rrname, ())
            if ips and obs.rrtype in ADDRESS_TYPES and not ips.isdisjoint(obs.rdata):
                for rdata in obs.rdata:
                    by_ip = hot_ips.get(rdata, ())
                    if by_name or by_ip:
                        hits.extend(_hit(i, obs, rdata) for i in (*by_name, *by_ip))
            elif by_name:
                hits.extend(_hit(i, obs, rdata) for rdata in obs.rdata for i in by_name)
        return hits

    @staticmethod
    def _hot(keys: set[str], seen: _Seen, lookup: Callable[[str], list[int]]) -> dict[str, tuple[int, ...]]:
        """The entries of each of ``keys`` that has any (every key's answer remembered in ``seen``)."""
        if len(seen.all) > CACHE_MAX:
            seen.all.clear()
            seen.hits.clear()
        for key in keys - seen.all:
            seen.all.add(key)
            found = lookup(key)
            if found:
                seen.hits[key] = tuple(found)
        return {key: seen.hits[key] for key in keys & seen.hits.keys()}

    def name_entries(self, name: str) -> list[int]:
        """The entries a name matches (exact, wildcards, regexes)."""
        found = list(self.exact.get(name, ()))
        if self.suffix:
            dot = name.find(".")
            while dot >= 0:
                found.extend(self.suffix.get(name[dot + 1 :], ()))
                dot = name.find(".", dot + 1)
        if self.prefix:
            dot = name.find(".")
            while dot >= 0:
                found.extend(self.prefix.get(name[:dot], ()))
                dot = name.find(".", dot + 1)
        found.extend(entry for entry, pattern in self.regexes if pattern.search(name))
        return found

    def ip_entries(self, text: str) -> list[int]:
        """The entries an address lies in."""
        version, value = _address(text)
        if not version:
            return []
        bits = 32 if version == 4 else 128
        found: list[int] = []
        for net_version, length in self.prefix_lengths:
            if net_version == version:
                found.extend(self.nets[(version, length)].get(value >> (bits - length) << (bits - length), ()))
        return found

    def asn_entries(self, asn: int) -> list[int]:
        """The ``asn`` entries of an AS number."""
        return list(self.asns.get(asn, ()))

    def nod_entries(self, name: str) -> list[int]:
        """The ``nod`` entries whose suffix a newly observed name falls under (or is)."""
        labels = name.split(".")
        return [e for i in range(len(labels)) for e in self.nod_suffixes.get(".".join(labels[i:]), ())]


class _Seen:
    """Names (or rdata) looked up before, and the entries of those that have any."""

    def __init__(self) -> None:
        self.all: set[str] = set()
        self.hits: dict[str, tuple[int, ...]] = {}


def _address(text: str) -> tuple[int, int]:
    """(4 or 6, the address as an integer), or (0, 0) when ``text`` is not an address."""
    try:
        if ":" in text:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text))
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        return 0, 0


def _hit(entry_id: int, obs: Observation, rdata: str) -> Hit:
    return Hit(entry_id, obs.rrname, obs.rrtype, rdata, obs.sensor_id or "", obs.time_first, obs.time_last, obs.count)
