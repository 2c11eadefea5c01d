"""From a decoded DNS response to normalized observations: the rules shared by dnstap and pcap.

* Only the answer section is used (authority and additional records are not
  evidence of what a name resolves to, and glue is the classic poisoning
  vector). Class IN only.
* Answer RRs are grouped by owner and type into RRset observations; the RRset
  TTL is the smallest TTL of its RRs (RFC 2181 §5.2 says they are equal);
  a TTL with the top bit set counts as 0 (RFC 2181 §8).
* Each CNAME of a chain is its own observation. A negative answer applies to
  the end of the chain: NXDOMAIN (and every other error rcode) keeps its rcode;
  NODATA is an empty answer for the chain end's type with an SOA in authority.
* When the bailiwick (dnstap ``query_zone``) is known, an RRset whose owner is
  outside it is dropped and counted (``out_of_bailiwick``): it is exactly what
  a cache-poisoning attempt looks like.
* Every observation passes the normalization gate (``normalize_template``; for
  the C decoder's output, whose names and rdata are canonical by construction,
  ``canonical_template``); the normalized result of an RRset is memoized (the
  same answers repeat all day long), so the gate is paid once per distinct
  RRset, not once per packet.
"""

from __future__ import annotations

import msgspec

from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire.layout import walk
from yapdns.agent.wire.message import CLASS_IN, DnsFormatError, DnsResponse, decode_response, response_shape
from yapdns.core import rrtypes as t
from yapdns.core.canonical import canonical_template, normalize_template
from yapdns.core.errors import InvalidObservation
from yapdns.core.model import Observation
from yapdns.core.normalize import MAX_TIME, NODATA, normalize_rcode

OPT = 41
ANY = 255
MAX_CHAIN = 16
_MEMO_MAX = 100_000
_TTL_MAX = 2**31 - 1

_replace = msgspec.structs.replace
_RRsets = dict[tuple[str, int], tuple[int, list[str], list[int]]]  # (owner, type) -> (ttl, rdata, RR indices)
_TemplateKey = tuple[str, int, tuple[str, ...], int | None, str | None, str | None]


class ObservationBuilder:
    """Turns decoded responses into normalized observations for one input."""

    def __init__(self, source: str, stats: ParseStats, sensor_id: str | None = None) -> None:
        self.source = source
        self.stats = stats
        self.sensor_id = sensor_id
        self._memo: dict[_TemplateKey, Observation | InvalidObservation] = {}
        self._interned: dict[Observation, Observation] = {}

    def observations(
        self,
        resp: DnsResponse,
        when: int,
        *,
        bailiwick: str | None = None,
        sensor_id: str | None = None,
        ref: int = 0,
    ) -> list[Observation]:
        """The observations one response carries, seen at ``when`` (UTC epoch seconds)."""
        if not 0 <= when <= MAX_TIME:
            self.stats.bad(ref, "bad_time", f"time {when} out of range", "")
            return []
        ttls = [rr[3] for rr in resp.answers]
        out = [
            _replace(o, time_first=when, time_last=when, ttl=rrset_ttl(ttls, indices))
            for o, indices in self.templates(resp, bailiwick=bailiwick, sensor_id=sensor_id, ref=ref)
        ]
        self.stats.observations += len(out)
        return out

    def templates(
        self, resp: DnsResponse, *, bailiwick: str | None = None, sensor_id: str | None = None, ref: int = 0
    ) -> list[tuple[Observation, tuple[int, ...]]]:
        """The normalized observations of one response without TTL and times (shared, memoized objects).

        Each comes with the indices of the answer RRs it was made of (none for a negative answer):
        ``rrset_ttl`` gives its TTL.
        """
        if resp.qclass != CLASS_IN:
            self.stats.bad(ref, "not_in_class", f"class {resp.qclass} response", "")
            return []
        sensor = sensor_id or self.sensor_id
        if not resp.answers:  # the commonest new response: NXDOMAIN or NODATA, nothing to group or follow
            if resp.rcode == 0 and (resp.qtype == ANY or not resp.has_soa):
                return []
            obs = self._make(resp.qname, resp.qtype, (), resp.rcode, bailiwick, sensor, ref, resp.canonical)
            return [] if obs is None else [(obs, ())]
        rrsets = self._group(resp, bailiwick, ref)
        out: list[tuple[Observation, tuple[int, ...]]] = []
        for (owner, rrtype), (_ttl, rdata, indices) in rrsets.items():
            obs = self._make(owner, rrtype, tuple(rdata), None, bailiwick, sensor, ref, resp.canonical)
            if obs is not None:
                out.append((obs, tuple(indices)))
        negative = self._negative(resp, rrsets)
        if negative is not None:
            obs = self._make(negative[0], resp.qtype, (), negative[1], bailiwick, sensor, ref, resp.canonical)
            if obs is not None:
                out.append((obs, ()))
        return out

    def _group(self, resp: DnsResponse, bailiwick: str | None, ref: int) -> _RRsets:
        groups: _RRsets = {}
        for index, (owner, rrtype, rrclass, ttl, rdata) in enumerate(resp.answers):
            if rrclass != CLASS_IN or rrtype == OPT:
                continue
            if bailiwick is not None and not in_bailiwick(owner, bailiwick):
                self.stats.bad(ref, "out_of_bailiwick", f"{owner} is outside {bailiwick}", owner)
                continue
            rr_ttl = 0 if ttl > _TTL_MAX else ttl
            key = (owner, rrtype)
            group = groups.get(key)
            if group is None:
                groups[key] = (rr_ttl, [rdata], [index])
            else:
                group[1].append(rdata)
                group[2].append(index)
                if rr_ttl < group[0]:
                    groups[key] = (rr_ttl, group[1], group[2])
        return groups

    @staticmethod
    def _negative(resp: DnsResponse, rrsets: _RRsets) -> tuple[str, int] | None:
        """``(name, rcode)`` of the negative answer at the end of the CNAME chain, if any."""
        if resp.rcode == 0 and (resp.qtype == ANY or not resp.has_soa):
            return None
        name = resp.qname
        if resp.qtype != t.CNAME:
            for _ in range(MAX_CHAIN):
                target = rrsets.get((name, t.CNAME))
                if target is None:
                    break
                name = target[1][0]
        if resp.rcode == 0 and (name, resp.qtype) in rrsets:
            return None
        return name, resp.rcode

    def _make(
        self,
        owner: str,
        rrtype: int,
        rdata: tuple[str, ...],
        rcode: int | None,
        bailiwick: str | None,
        sensor: str | None,
        ref: int,
        canonical: bool,
    ) -> Observation | None:
        """The interned template of one RRset or negative answer; None (counted) when it is invalid.

        ``canonical``: the name and rdata are canonical by construction (``DnsResponse.canonical``).
        """
        key = (owner, rrtype, rdata, rcode, bailiwick, sensor)
        template = self._memo.get(key)
        if template is None:
            template = self._template(key, canonical)
            if isinstance(template, Observation):  # one object per distinct result, so callers can fold by identity
                template = self._interned.setdefault(template, template)
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
                self._interned.clear()
            self._memo[key] = template
        if isinstance(template, InvalidObservation):
            self.stats.bad(ref, template.code, str(template), owner)
            return None
        return template

    def _template(self, key: _TemplateKey, canonical: bool) -> Observation | InvalidObservation:
        owner, rrtype, rdata, rcode, bailiwick, sensor = key
        try:
            texts = _TEXTS.get((rrtype, rcode, not rdata))
            if texts is None:
                texts = _texts(rrtype, rcode, not rdata)
            return (canonical_template if canonical else normalize_template)(
                owner,
                texts[0],
                rdata,
                texts[1],
                bailiwick=bailiwick,
                sensor_id=sensor,
                source=self.source,
            )
        except InvalidObservation as exc:
            return exc


_TEXTS: dict[tuple[int, int | None, bool], tuple[str, str | None]] = {}


def _texts(rrtype: int, rcode: int | None, empty: bool) -> tuple[str, str | None]:
    """The type mnemonic, and the rcode as normalization keeps it (an empty NOERROR answer is NODATA: said here,
    so the normalizer's fast path follows); remembered in ``_TEXTS``. Raises ``InvalidObservation``."""
    rcode_text = None if rcode is None else NODATA if rcode == 0 and empty else normalize_rcode(rcode)
    texts = (t.rrtype_text(rrtype), rcode_text)
    if len(_TEXTS) >= _MEMO_MAX:
        _TEXTS.clear()
    _TEXTS[(rrtype, rcode, empty)] = texts
    return texts


def in_bailiwick(name: str, zone: str) -> bool:
    """Whether canonical ``name`` is ``zone`` or below it."""
    return zone in (".", name) or name.endswith("." + zone)


Entry = tuple[Observation, tuple[int, ...]]  # an observation template and the indices of its answer RRs


class ResponseCache:
    """Decoded responses by shape: a response that differs from one seen before only in its id, its TTLs
    or its additional section (``message.response_shape``) reuses that decoding and its templates.

    Only responses ``layout.walk`` accepts are cached: a compression pointer into the header or a TTL
    would make the decoding depend on bytes the key leaves out, so such a response is decoded every time.
    The walk reads only bytes the shape key holds, so it runs once per shape, when a decoding is stored.

    Callers check the header (QR, opcode, TC) first; a malformed message is counted and gives None.
    """

    def __init__(self, builder: ObservationBuilder, max_entries: int = 50_000) -> None:
        self.builder = builder
        self.max_entries = max_entries
        self._cache: dict[tuple[bytes, str | None, str | None], list[Entry]] = {}
        self._exact: dict[tuple[bytes, str | None, str | None], tuple[list[Entry], list[int]]] = {}

    def get(
        self, msg: bytes, *, sensor_id: str | None = None, bailiwick: str | None = None, ref: int = 0
    ) -> tuple[list[Entry], list[int]] | None:
        """The templates of ``msg`` and the TTLs of its answer RRs."""
        exact_key = (msg[2:], sensor_id, bailiwick)  # the same bytes but the id: nothing to walk at all
        found = self._exact.get(exact_key)
        if found is None:
            found, cacheable = self._get(msg, sensor_id, bailiwick, ref)
            if found is not None and cacheable:
                if len(self._exact) >= self.max_entries:
                    self._exact.clear()
                self._exact[exact_key] = found
        return found

    def _get(
        self, msg: bytes, sensor_id: str | None, bailiwick: str | None, ref: int
    ) -> tuple[tuple[list[Entry], list[int]] | None, bool]:
        """The templates and answer TTLs of ``msg``, and whether they may be cached under its shape."""
        shape = response_shape(msg)
        if shape is not None:
            key = (shape[0], sensor_id, bailiwick)
            entries = self._cache.get(key)
            if entries is not None:
                return (entries, shape[1]), True
        found = self._decode(msg, sensor_id, bailiwick, ref)
        if found is None or shape is None or walk(msg) is None:  # cut short, or pointers into masked bytes
            return found, False
        entries = found[0]
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = entries
        return (entries, shape[1]), True

    def _decode(
        self, msg: bytes, sensor_id: str | None, bailiwick: str | None, ref: int
    ) -> tuple[list[Entry], list[int]] | None:
        """Decode ``msg`` (uncached): its templates and answer TTLs, or None (counted) when malformed."""
        try:
            resp = decode_response(msg)
        except DnsFormatError as exc:
            self.builder.stats.bad(ref, exc.code, str(exc), msg[:64].hex())
            return None
        entries = self.builder.templates(resp, bailiwick=bailiwick, sensor_id=sensor_id, ref=ref)
        return entries, [rr[3] for rr in resp.answers]


def rrset_ttl(ttls: list[int], indices: tuple[int, ...]) -> int | None:
    """The TTL of an RRset: the smallest of its RRs' (a TTL with the top bit set counts as 0, RFC 2181 §8)."""
    if not indices:
        return None
    if len(indices) == 1:  # the common case, on dnstap's per-frame path: no list
        ttl = ttls[indices[0]]
        return 0 if ttl > _TTL_MAX else ttl
    picked = [ttls[i] for i in indices]
    return 0 if max(picked) > _TTL_MAX else min(picked)
