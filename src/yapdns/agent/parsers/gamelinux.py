"""gamelinux passivedns logs: the ``||`` text layout, other ``-f``/``-d`` layouts, and JSON (``-j``).

One line is one answer RR as passivedns cached it: ``count`` sightings, the
last one at the line's timestamp (passivedns re-prints a record at most every
``-P`` seconds with the count since its last print). The NXDOMAIN/error log
(``-L``, ``-X x``...) has the same layout with the rcode as the answer and
TTL 0; such lines become negative observations.

Options (``ParserOptions.extra``):

* ``fields``: the ``-f`` letters passivedns ran with (default: detected from
  the first line: ``SMcsCQTAtn``, or ``HcsCQTAtn``, ``SMcspCQTAtn``...);
* ``delimiter``: the ``-d`` string (default: ``||`` if the line has it, else ``|``).

A layout detected from the first line is kept for the rest of the file, and
across an agent restart (``save_state``).

JSON lines (``-j``/``-J``) are recognised by their ``{`` and need no option.
Times: ``S``/``M`` and ``timestamp_s`` are UTC epoch; ``H`` and JSON
``timestamp`` are YMD-HMS in the sensor's local time (``ParserOptions.timezone``,
default the agent host's zone). passivedns prints only the exchange of an MX,
the target of an SRV and the MNAME of an SOA; such lines are not full rdata
and are refused with the reason ``incomplete_rdata``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from yapdns.agent.parsers._logtime import WallClock, parse_epoch
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.canonical import TTL_LIMIT, UNSEEN, Canonical, CanonicalKeys
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import MAX_COUNT, MAX_TIME, label_is_canonical

# passivedns prints the selected fields in this order, whatever the order of the -f letters.
_OUTPUT_ORDER = ("ts", "h", "c", "w", "s", "W", "p", "C", "Q", "L", "T", "A", "l", "t", "n")
_LETTERS = frozenset("HSMhcwsWpCQLTAltn")
_ERROR_ANSWERS = {
    "NXDOMAIN": "NXDOMAIN", "SERVFAIL": "SERVFAIL", "REFUSED": "REFUSED", "FORMERR": "FORMERR",
    "NOTIMPL": "NOTIMP", "NOTIMP": "NOTIMP", "YXDOMAIN": "YXDOMAIN", "YXRRSET": "YXRRSET",
    "NXRRSET": "NXRRSET", "NOTAUTH": "NOTAUTH", "NOTZONE": "NOTZONE",
}  # fmt: skip
_PARTIAL_TYPES = {"MX": "MX exchange without its preference", "SRV": "SRV target only", "SOA": "SOA MNAME only"}
_EPOCH_USEC = re.compile(r"\d{1,10}\.\d{1,6}", re.ASCII)
_EPOCH = re.compile(r"\d{1,10}", re.ASCII)
_YMD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?", re.ASCII)
_CLASS = frozenset({"IN", "CH", "HS", "CS", "ANY", "NONE"})


class GamelinuxLayout:
    """Where each field sits in a text line of one ``-f``/``-d`` configuration."""

    def __init__(self, letters: str, delimiter: str) -> None:
        unknown = set(letters) - _LETTERS
        if unknown or not delimiter:
            raise ConfigurationError(f"gamelinux: bad fields {letters!r} or empty delimiter")
        stamp = set(letters) & set("HSM")
        if stamp not in ({"H"}, {"S"}, {"S", "M"}):
            raise ConfigurationError("gamelinux: fields need a timestamp: H, S or S+M")
        if not {"Q", "T", "A"} <= set(letters):
            raise ConfigurationError("gamelinux: fields need Q (query), T (type) and A (answer)")
        present = [f for f in _OUTPUT_ORDER if f in letters or (f == "ts" and stamp)]
        self.letters, self.delimiter, self.width = letters, delimiter, len(present)
        self.local_time = stamp == {"H"}
        index = {f: i for i, f in enumerate(present)}
        self.ts, self.query, self.type, self.answer = index["ts"], index["Q"], index["T"], index["A"]
        self.ttl, self.count = index.get("t"), index.get("n")
        self.after_answer = self.width - 1 - self.answer  # fields right of the free-text answer

    def split(self, line: str) -> list[str]:
        """The fields of ``line``; an answer holding the delimiter (TXT) is rejoined."""
        parts = line.split(self.delimiter)
        extra = len(parts) - self.width
        if extra == 0:
            return parts
        if extra < 0:
            raise ParseError(f"expected {self.width} fields separated by {self.delimiter!r}, got {len(parts)}")
        end = self.answer + extra + 1
        return [*parts[: self.answer], self.delimiter.join(parts[self.answer : end]), *parts[end:]]


def detect_layout(line: str, delimiter: str | None) -> GamelinuxLayout:
    """Guess the layout of the common configurations from one line."""
    delim = delimiter or ("||" if "||" in line else "|")
    parts = line.split(delim)
    first = parts[0]
    if _EPOCH_USEC.fullmatch(first):
        stamp = "SM"
    elif _EPOCH.fullmatch(first):
        stamp = "S"
    elif _YMD.fullmatch(first):
        stamp = "H"
    else:
        raise ParseError("cannot detect the passivedns layout; set options.extra.fields", code="unknown_layout")
    if len(parts) >= 9 and parts[3] in _CLASS:
        return GamelinuxLayout(stamp + "csCQTAtn", delim)
    if len(parts) >= 10 and parts[3] in ("udp", "tcp") and parts[4] in _CLASS:
        return GamelinuxLayout(stamp + "cspCQTAtn", delim)
    raise ParseError("cannot detect the passivedns layout; set options.extra.fields", code="unknown_layout")


class GamelinuxJson(msgspec.Struct):
    """A ``-j``/``-J`` line (passivedns 1.2); fields not needed here are ignored."""

    query: str
    type: str
    answer: str
    timestamp_s: int | None = None
    timestamp_ms: int | None = None  # microseconds, despite the name
    timestamp: str | None = None
    ttl: int | None = None
    count: int = 1


_decode_json = msgspec.json.Decoder(GamelinuxJson).decode


class GamelinuxParser(LineParser):
    name = "gamelinux"
    evidence = Evidence.DIRECT
    timezone = "S/M and timestamp_s: UTC epoch; H and JSON timestamp: sensor local time (options.timezone)"
    description = "gamelinux passivedns logs: || text, other -f/-d layouts, JSON, NXDOMAIN logs"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        extra = self.options.extra
        self._delimiter = extra.get("delimiter") or None
        self._layout = GamelinuxLayout(extra["fields"], self._delimiter or "||") if "fields" in extra else None
        self._clock = WallClock(self.options.timezone)
        self._sensor = self.options.sensor_id or None  # set here so that a line can be promised canonical
        self._keys = CanonicalKeys() if label_is_canonical(self._sensor) else None

    def save_state(self) -> Any:
        layout = self._layout
        return None if layout is None else {"fields": layout.letters, "delimiter": layout.delimiter}

    def load_state(self, state: Any) -> None:
        self._layout = GamelinuxLayout(state["fields"], state["delimiter"])

    def parse_line(self, line: str) -> list[Observation]:
        if not line or line[0] in "#{" or line.isspace():
            return self._from_json(line) if line[:1] == "{" else []
        layout = self._layout
        if layout is None:
            layout = self._layout = detect_layout(line, self._delimiter)
        f = line.split(layout.delimiter)
        if len(f) != layout.width:
            f = layout.split(line)
        try:
            ttl = int(f[layout.ttl]) if layout.ttl is not None else None
            count = int(f[layout.count]) if layout.count is not None else 1
        except ValueError:
            raise ParseError("TTL and count must be integers", code="bad_value") from None
        stamp = f[layout.ts]
        if layout.local_time:
            when = self._clock.ymd_hms(stamp)
        else:  # parse_epoch, inlined for the common case
            head, _, frac = stamp.partition(".")
            ok = stamp.isascii() and head.isdigit() and (not frac or frac.isdigit())
            when = int(head) if ok else parse_epoch(stamp)
        query, rrtype, answer = f[layout.query], f[layout.type], f[layout.answer]
        known = self._keys.known.get((query, rrtype, answer)) if self._keys is not None else None
        if (  # the common case, inline: a known record, every other field in range (as _built checks them)
            known is not None
            and 0 <= when <= MAX_TIME
            and 1 <= count <= MAX_COUNT
            and (ttl is None or 0 <= ttl < TTL_LIMIT)
            and rrtype not in _PARTIAL_TYPES
        ):
            name, rrtype, rdata, rcode = known
            return Canonical((
                Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when, count=count,
                            ttl=None if rcode else ttl, rcode=rcode, source="gamelinux", sensor_id=self._sensor),
            ))  # fmt: skip
        return self._built(query, rrtype, answer, when, ttl, count)

    def _built(self, query: str, rrtype: str, answer: str, when: int, ttl: int | None, count: int) -> list[Observation]:
        """The observation of one line: ``Canonical`` when its record is known (``CanonicalKeys``) and every other
        field is in range (checked here: times and counts are ``int`` by construction), else as read."""
        keys = self._keys
        if (
            keys is not None
            and 0 <= when <= MAX_TIME
            and 1 <= count <= MAX_COUNT
            and (ttl is None or 0 <= ttl < TTL_LIMIT)
            and rrtype not in _PARTIAL_TYPES
        ):
            key = (query, rrtype, answer)
            known = keys.known.get(key, UNSEEN)
            if known is UNSEEN:  # normalized once here, remembered for the next lines
                raw = self._observation(query, rrtype, answer, when, ttl=ttl, count=count)
                done = keys.learn(key, raw)
                return [raw] if done is None else Canonical((done,))
            if known is not None:
                name, rrtype, rdata, rcode = known
                return Canonical((
                    Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when, count=count,
                                ttl=None if rcode else ttl, rcode=rcode, source="gamelinux", sensor_id=self._sensor),
                ))  # fmt: skip
        return [self._observation(query, rrtype, answer, when, ttl=ttl, count=count)]

    def _from_json(self, line: str) -> list[Observation]:
        try:
            rec = _decode_json(line)
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:
            raise ParseError(f"not a passivedns JSON line: {exc}") from None
        if rec.timestamp_s is not None:
            when = rec.timestamp_s
        elif rec.timestamp is not None:
            when = self._clock.ymd_hms(rec.timestamp)
        else:
            raise ParseError("no timestamp_s or timestamp", code="missing_field")
        return self._built(rec.query, rec.type, rec.answer, when, rec.ttl, rec.count)

    def _observation(
        self, query: str, rrtype: str, answer: str, when: int, *, ttl: int | None, count: int
    ) -> Observation:
        if count < 1:
            raise ParseError(f"count {count} is not positive", code="bad_value")
        rcode = _ERROR_ANSWERS.get(answer)
        if rcode is not None:
            return Observation(
                rrname=query, rrtype=rrtype, time_first=when, time_last=when, count=count,
                rcode=rcode, source="gamelinux", sensor_id=self._sensor,
            )  # fmt: skip
        if rrtype in _PARTIAL_TYPES:
            raise ParseError(f"passivedns logs the {_PARTIAL_TYPES[rrtype]}: not full rdata", code="incomplete_rdata")
        return Observation(
            rrname=query, rrtype=rrtype, rdata=(answer,), time_first=when, time_last=when, count=count,
            ttl=ttl, source="gamelinux", sensor_id=self._sensor,
        )  # fmt: skip


PARSER = GamelinuxParser
