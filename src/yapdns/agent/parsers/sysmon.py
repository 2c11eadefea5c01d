"""Windows Sysmon Event ID 22 (DnsQuery) exports: JSON lines and rendered XML.

One parser reads every export seen in the wild, line by line:

* JSON, one event per line: flat (nxlog ``im_msvistalog``, OTRF
  Security-Datasets: ``QueryName``, ``QueryStatus``, ``QueryResults``,
  ``UtcTime`` at the top level), winlogbeat (``winlog.event_data.*``) and
  Azure Log Analytics (``EventData`` holding the fields as a JSON string);
* XML ``<Event>`` documents (``wevtutil qe /f:xml``, python-evtx, Event
  Viewer "Save as XML"): one per line or spread over several lines, with or
  without an ``<Events>`` root. Lines are buffered from ``<Event`` to
  ``</Event>`` (at most 1 MiB), so a LineParser reads both a live file and
  a big export without loading it whole. DTDs and entities are refused.
  The part of an event read so far travels with the agent's checkpoint
  (``save_state``); a quiet log leaves it waiting for its ``</Event>``.

Events whose ID is not 22 are skipped. ``QueryResults`` becomes
observations as ``_sysmon_results`` documents (CNAME chains, A/AAAA sets of
the chain's last name, PTR; negative answers from ``QueryStatus``; no TTL).
Evidence ``indirect``: a client's resolver cache told Sysmon, not a DNS
server or the wire. The querying process (``Image``) is not kept:
observations have no field for it.

Time: ``UtcTime`` (the query time, UTC); the log's own times
(``@timestamp``, ``TimeCreated``) are ignored.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from msgspec.structs import replace

from yapdns.agent.parsers._sysmon_results import SOURCE, SysmonQuery, event_time, observations
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.canonical import UNSEEN, Canonical, Template, normalized_or_none, template_of
from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import MAX_TIME, label_is_canonical

MAX_EVENT = 1 << 20
_PLAN_LIMIT = 16384  # events (name, status, results) whose canonical observations are remembered
_Plan = tuple[Template, ...]
_UNSEEN_PLAN: _Plan = (UNSEEN,)  # ``_plans.get(key, _UNSEEN_PLAN) is _UNSEEN_PLAN``: an event not seen yet
DNS_QUERY_EVENT = 22


class _Winlog(msgspec.Struct):
    event_id: int | str | None = None
    event_data: SysmonQuery | None = None


class _JsonEvent(SysmonQuery):
    """Flat fields, or ``winlog.event_data``, or ``EventData`` as a JSON string."""

    EventID: int | str | None = None
    EventData: str | SysmonQuery | None = None
    winlog: _Winlog | None = None


_decode_event = msgspec.json.Decoder(_JsonEvent).decode
_decode_query = msgspec.json.Decoder(SysmonQuery).decode


class SysmonParser(LineParser):
    name = "sysmon"
    evidence = Evidence.INDIRECT
    timezone = "UTC (the event's UtcTime)"
    description = "Windows Sysmon Event ID 22 DNS queries (nxlog/winlogbeat/Azure JSON lines or rendered XML)"

    _xml = ""

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self._sensor = self.options.sensor_id or None  # set here so that an event can be promised canonical
        self._promise = label_is_canonical(self._sensor)  # an invalid sensor id: every event normalized by the run
        self._plans: dict[tuple[object, ...], _Plan | None] = {}

    def parse_line(self, line: str) -> Iterable[Observation]:
        if line[:1] == "{" and not self._xml:  # the common case: one JSON event per line, a list (no generator)
            query = _json_query(line)
            if query is None:
                return []
            return self._promised(query) if self._promise else observations(query)
        return self._other_line(line)

    def _promised(self, query: SysmonQuery) -> list[Observation]:
        """``observations(query)``, as ``Canonical`` when the event's name, status and results are known to give
        canonical records and its time is in range (an ``int`` by construction, checked here)."""
        key = (query.QueryName, query.QueryStatus, query.QueryResults)
        plan = self._plans.get(key, _UNSEEN_PLAN)
        if plan is _UNSEEN_PLAN:
            return self._plan(key, observations(query))
        if plan is None:
            return observations(query)
        when = event_time(query.UtcTime)  # a known key passed every other check: the same error comes first
        if not 0 <= when <= MAX_TIME:
            return observations(query)
        sensor = self._sensor
        return Canonical([
            Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when, rcode=rcode,
                        source=SOURCE, evidence=Evidence.INDIRECT, sensor_id=sensor)
            for name, rrtype, rdata, rcode in plan
        ])  # fmt: skip

    def _plan(self, key: tuple[object, ...], produced: list[Observation]) -> list[Observation]:
        """An event seen for the first time: its observations normalized (as read, if one is refused or its time
        is out of range), and their canonical fields remembered as the event's plan."""
        if not produced or not 0 <= produced[0].time_first <= MAX_TIME:
            return produced  # not remembered: the records may well be canonical, the next event will tell
        sensor = self._sensor
        out = Canonical()
        for obs in produced:
            done = normalized_or_none(obs if sensor is None else replace(obs, sensor_id=sensor))
            if done is None:
                break
            out.append(done)
        complete = len(out) == len(produced)
        if len(self._plans) < _PLAN_LIMIT:
            self._plans[key] = tuple(template_of(done) for done in out) if complete else None
        return out if complete else produced

    def _other_line(self, line: str) -> Iterator[Observation]:
        if self._xml or "<Event" in line:
            yield from self._xml_line(line)
            return
        text = line.strip()
        if text.startswith("{"):
            query = _json_query(text)
            if query is not None:
                yield from observations(query)
        elif text and not text.startswith(("<?xml", "</Events>")):
            raise ParseError("neither a JSON object nor an XML <Event>", code="bad_format")

    def flush(self) -> Iterator[Observation]:
        yield from self._xml_line("")  # complete events left after a bad one
        if self._xml.strip():
            self._xml = ""
            raise ParseError("the input ended inside an <Event> element", code="truncated")

    def flush_idle(self) -> Iterator[Observation]:
        if "</Event>" in self._xml:  # whole events left after a bad one; a partial event waits for its end
            yield from self._events(self._xml)

    def save_state(self) -> Any:
        return {"xml": self._xml} if self._xml else None

    def load_state(self, state: Any) -> None:
        self._xml = str(state["xml"])

    def _xml_line(self, line: str) -> Iterator[Observation]:
        return self._events(self._xml + line + "\n")

    def _events(self, buffer: str) -> Iterator[Observation]:
        """The whole ``<Event>`` elements in ``buffer``; the start of one not yet complete is kept."""
        self._xml = ""
        if len(buffer) > MAX_EVENT:
            raise ParseError(f"an <Event> longer than {MAX_EVENT} characters", code="too_long")
        while (start := _event_start(buffer)) >= 0:
            end = buffer.find("</Event>", start)
            if end < 0:
                self._xml = buffer[start:]
                return
            end += len("</Event>")
            event, buffer = buffer[start:end], buffer[end:]
            # if this event is bad, the events after it are read with the next line (or at flush)
            self._xml = buffer if _event_start(buffer) >= 0 else ""
            query = _xml_query(event)
            found = observations(query) if query is not None else []
            self._xml = ""
            yield from found


def _json_query(text: str) -> SysmonQuery | None:
    try:
        event = _decode_event(text)
    except (msgspec.DecodeError, UnicodeEncodeError) as exc:  # bad JSON, or undecodable bytes
        raise ParseError(f"bad JSON: {exc}", code="bad_json") from None
    if event.winlog is not None and event.winlog.event_data is not None:
        return event.winlog.event_data if _is_dns(event.winlog.event_id) else None
    if not _is_dns(event.EventID):
        return None
    if isinstance(event.EventData, str):
        try:
            return _decode_query(event.EventData)
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:  # bad JSON, or undecodable bytes
            raise ParseError(f"bad EventData JSON: {exc}", code="bad_json") from None
    if isinstance(event.EventData, SysmonQuery):
        return event.EventData
    return event


def _is_dns(event_id: int | str | None) -> bool:
    if event_id is None or event_id in (DNS_QUERY_EVENT, "22"):
        return True
    return str(event_id).strip() == "22"


def _event_start(buffer: str) -> int:
    at = buffer.find("<Event")
    while at >= 0 and buffer[at + 6 : at + 7] not in (">", " ", "\n", "\t", "\r"):
        at = buffer.find("<Event", at + 6)  # <Events>, <EventData>, <EventID>...
    return at


def _xml_query(text: str) -> SysmonQuery | None:
    if "<!" in text:
        raise ParseError("DTDs, entities and CDATA are not allowed in an <Event>", code="bad_xml")
    try:
        root = ET.fromstring(text)  # noqa: S314  (no DTD, so no entity expansion)
    except ET.ParseError as exc:
        raise ParseError(f"bad XML: {exc}", code="bad_xml") from None
    event_id = next((el.text for el in root.iter() if el.tag.endswith("EventID")), None)
    if not _is_dns(event_id):
        return None
    data = {el.get("Name"): el.text for el in root.iter() if el.tag.endswith("}Data") or el.tag == "Data"}
    return SysmonQuery(
        QueryName=data.get("QueryName"),
        QueryStatus=data.get("QueryStatus"),
        QueryResults=data.get("QueryResults"),
        UtcTime=data.get("UtcTime"),
    )


PARSER = SysmonParser
