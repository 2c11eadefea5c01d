"""One expansion step of the pivot graph: a node's neighbours, paged and bounded.

Nodes are names (``n:<name>``) and addresses (``ip:<address>``). Expanding

* a name follows its records out (A/AAAA to addresses; CNAME, NS, MX, PTR,
  SRV, DNAME targets to names) and the records pointing in at it (names
  whose CNAME/NS/MX... target it);
* an address follows the A/AAAA records pointing at it to their names.

Each direction is one cursor page of at most ``MAX_LIMIT`` records, inside the
optional time window (records active in it: last seen after its start and
first seen before its end). ``more`` carries the cursors of the next pages.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Record
from yapdns.core.names import to_unicode
from yapdns.core.rdata import target_name
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, RecordQuery, TimeFence

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class PivotRequest:
    node: str
    limit: int = DEFAULT_LIMIT
    cursor_out: str | None = None
    cursor_in: str | None = None
    fence: TimeFence = field(default_factory=TimeFence)


@dataclass
class PivotGraph:
    """Nodes and edges found by one expansion, ready for JSON."""

    center: str
    nodes: dict[str, dict[str, object]] = field(default_factory=dict)
    edges: dict[str, dict[str, object]] = field(default_factory=dict)
    more: dict[str, str | None] = field(default_factory=lambda: {"out": None, "in": None})
    skipped: int = 0

    def node(self, key: str) -> str:
        kind, _, value = key.partition(":")
        label = to_unicode(value) if kind == "n" else value
        self.nodes.setdefault(key, {"id": key, "kind": "name" if kind == "n" else "ip", "value": value, "label": label})
        return key

    def edge(self, source: str, target: str, record: Record) -> None:
        key = f"{source}|{record.rrtype}|{target}"
        self.edges.setdefault(
            key,
            {
                "id": key,
                "source": self.node(source),
                "target": self.node(target),
                "rrtype": record.rrtype,
                "first": record.time_first,
                "last": record.time_last,
                "count": record.count,
            },
        )

    def as_json(self) -> dict[str, object]:
        return {
            "node": self.center,
            "nodes": list(self.nodes.values()),
            "edges": list(self.edges.values()),
            "more": self.more,
            "limited": any(self.more.values()),
            "skipped": self.skipped,
        }


def node_key(text: str) -> str:
    """``ip:<address>`` for an address, ``n:<canonical name>`` otherwise."""
    text = text.strip()
    for prefix in ("ip:", "n:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    try:
        return f"ip:{ipaddress.ip_address(text)}"
    except ValueError:
        match = NameMatch.parse(text)
        if match.kind != "exact":
            raise InvalidQuery("pivot on an exact name or a single address") from None
        return f"n:{match.name}"


def expand(store: Store, request: PivotRequest) -> PivotGraph:
    """The neighbours of ``request.node`` (one page each way)."""
    center = node_key(request.node)
    graph = PivotGraph(center)
    graph.node(center)
    limit = max(1, min(request.limit, MAX_LIMIT))
    kind, _, value = center.partition(":")
    common = {"limit": limit, "fence": request.fence}
    if kind == "ip":
        page = store.records(RecordQuery(rdata_ip=IpRange.parse(value), cursor=request.cursor_out, **common))  # type: ignore[arg-type]
        for record in page.rows:
            graph.edge(f"n:{record.rrname}", center, record)
        graph.more["out"] = page.next_cursor if page.limited else None
        return graph
    match = NameMatch("exact", value)
    out = store.records(RecordQuery(rrname=match, cursor=request.cursor_out, **common))  # type: ignore[arg-type]
    for record in out.rows:
        _follow(graph, center, record)
    inbound = store.records(RecordQuery(rdata_name=match, cursor=request.cursor_in, **common))  # type: ignore[arg-type]
    for record in inbound.rows:
        graph.edge(f"n:{record.rrname}", center, record)
    graph.more = {
        "out": out.next_cursor if out.limited else None,
        "in": inbound.next_cursor if inbound.limited else None,
    }
    return graph


def _follow(graph: PivotGraph, center: str, record: Record) -> None:
    code = rrtypes.rrtype_code(record.rrtype)
    if code in rrtypes.IP_TYPES:
        graph.edge(center, f"ip:{record.rdata}", record)
        return
    target = target_name(code, record.rdata)
    if target and target != ".":
        graph.edge(center, f"n:{target}", record)
    else:
        graph.skipped += 1
