"""Properties of the normalization gate, checked by hypothesis.

1. Idempotence: normalizing a canonical value returns it unchanged (names,
   including IDN, escapes and odd bytes; rdata of every fast-pathed type and
   of types that go through dnspython; whole observations).
2. Equal inputs give equal keys: case, trailing dot, IPv6 spellings, U-label
   vs A-label, RRset order and duplicates.
3. Derived keys invert: ``unreverse_name(reverse_name(n)) == n``, and the
   reversed key of a subdomain starts with its parent's key.

Inputs that are invalid must raise the documented error class, never
anything else.
"""

from __future__ import annotations

import ipaddress
import os
import re

import idna
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from yapdns.core import rdata, rrtypes
from yapdns.core.errors import InvalidName, InvalidObservation, InvalidRdata
from yapdns.core.model import Observation, SampleRef
from yapdns.core.names import normalize_name, reverse_name, unreverse_name
from yapdns.core.normalize import normalize_observation, observation_key
from yapdns.core.rdata import normalize_rdata

settings.register_profile("yapdns", max_examples=150, deadline=None)
settings.register_profile("yapdns-deep", max_examples=3000, deadline=None)  # HYPOTHESIS_PROFILE=yapdns-deep
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "yapdns"))

LDH = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=20)
ESCAPE = st.sampled_from(["\\032", "\\.", "\\\\", "\\000", "\\255", "\\@", '\\"', "\\(", "\\;"])
ODD_LABEL = st.lists(st.one_of(LDH, ESCAPE), min_size=1, max_size=4).map("".join)
UNICODE_LABEL = st.text(
    alphabet=st.characters(categories=["Ll", "Lu", "Lo", "Nd"], max_codepoint=0x2FFF), min_size=1, max_size=12
)
LABEL = st.one_of(LDH, ODD_LABEL, UNICODE_LABEL)
NAME = st.tuples(st.lists(LABEL, min_size=1, max_size=5), st.booleans()).map(
    lambda t: ".".join(t[0]) + ("." if t[1] else "")
)


def canonical_or_none(text: str) -> str | None:
    try:
        return normalize_name(text)
    except InvalidName:
        return None


@given(NAME)
def test_name_normalization_is_idempotent(text: str) -> None:
    name = canonical_or_none(text)
    assume(name is not None)
    assert normalize_name(name) == name
    assert name == "." or not re.search(r"(?<!\\)(\\\\)*\.$", name)  # no unescaped trailing dot
    assert name.isascii()
    assert name == name.lower() or "\\" in name


@given(st.text(max_size=300))
def test_any_text_is_a_name_or_a_clear_rejection(text: str) -> None:
    name = canonical_or_none(text)
    if name is not None:
        assert normalize_name(name) == name


@given(st.lists(LDH, min_size=1, max_size=6), st.booleans(), st.randoms(use_true_random=False))
def test_case_and_trailing_dot_do_not_change_the_key(labels: list[str], dot: bool, rnd: object) -> None:
    text = ".".join(labels)
    assume(canonical_or_none(text) is not None)
    flipped = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)  # type: ignore[attr-defined]
    assert normalize_name(flipped + ("." if dot else "")) == normalize_name(text.lower())


@given(st.lists(UNICODE_LABEL, min_size=1, max_size=3), st.sampled_from(["com", "de", "xn--p1ai"]))
def test_u_label_and_a_label_give_one_key(labels: list[str], tld: str) -> None:
    text = ".".join([*labels, tld])
    try:
        a_label = idna.encode(text, uts46=True, transitional=False).decode()
    except idna.IDNAError:
        assume(False)
        return
    assert normalize_name(text) == normalize_name(a_label) == a_label.lower()


@given(NAME)
def test_reversed_key_inverts_and_nests(text: str) -> None:
    name = canonical_or_none(text)
    assume(name is not None and name != ".")
    assert unreverse_name(reverse_name(name)) == name
    child = canonical_or_none("x." + name)
    if child is not None:
        assert reverse_name(child).startswith(reverse_name(name))


# -- rdata -----------------------------------------------------------------

IPV6 = st.ip_addresses(v=6)


@given(IPV6)
def test_ipv6_spellings_give_one_key(addr: ipaddress.IPv6Address) -> None:
    spellings = {addr.exploded, addr.compressed, addr.exploded.upper(), str(addr)}
    keys = {normalize_rdata(rrtypes.AAAA, s) for s in spellings}
    assert len(keys) == 1
    (key,) = keys
    assert normalize_rdata(rrtypes.AAAA, key) == key


@given(st.ip_addresses(v=4))
def test_ipv4_is_a_dotted_quad(addr: ipaddress.IPv4Address) -> None:
    assert normalize_rdata(rrtypes.A, str(addr)) == str(addr)


TXT_CHARS = st.text(alphabet=st.characters(max_codepoint=0x24F), max_size=80)
RDATA = st.one_of(
    st.tuples(st.sampled_from(["CNAME", "NS", "PTR", "DNAME"]), NAME),
    st.tuples(st.just("MX"), st.tuples(st.integers(0, 65535), NAME).map(lambda t: f"{t[0]} {t[1]}")),
    st.tuples(
        st.just("SRV"),
        st.tuples(st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535), NAME).map(
            lambda t: f"{t[0]} {t[1]} {t[2]} {t[3]}"
        ),
    ),
    st.tuples(st.sampled_from(["TXT", "SPF"]), TXT_CHARS),
    st.tuples(st.sampled_from(["TXT"]), st.lists(TXT_CHARS, min_size=1, max_size=3).map(
        lambda parts: " ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts)
    )),
    st.tuples(
        st.just("SOA"),
        st.tuples(NAME, NAME, st.integers(0, 2**32 - 1), st.integers(0, 2**31 - 1)).map(
            lambda t: f"{t[0]} {t[1]} {t[2]} {t[3]} 600 86400 300"
        ),
    ),
    st.tuples(st.just("CAA"), st.tuples(st.integers(0, 255), TXT_CHARS).map(lambda t: f'{t[0]} issue "{t[1]}"')),
    st.tuples(st.just("DS"), st.binary(min_size=32, max_size=32).map(lambda b: f"12345 13 2 {b.hex().upper()}")),
    st.tuples(st.just("SSHFP"), st.binary(min_size=20, max_size=20).map(lambda b: f"1 1 {b.hex()}")),
    st.tuples(st.just("TYPE65280"), st.binary(min_size=0, max_size=40).map(lambda b: f"\\# {len(b)} {b.hex()}")),
)


@given(RDATA)
def test_rdata_normalization_is_idempotent(case: tuple[str, str]) -> None:
    rrtype, text = case
    code = rrtypes.rrtype_code(rrtype)
    try:
        canonical = normalize_rdata(code, text)
    except InvalidRdata:
        assume(False)
        return
    assert normalize_rdata(code, canonical) == canonical


# -- observations ----------------------------------------------------------

ANSWERS = st.one_of(
    st.tuples(st.just("A"), st.lists(st.ip_addresses(v=4).map(str), min_size=1, max_size=5)),
    st.tuples(st.just("AAAA"), st.lists(IPV6.map(lambda a: a.exploded), min_size=1, max_size=5)),
    st.tuples(st.just("NS"), st.lists(NAME, min_size=1, max_size=4)),
    st.tuples(st.just("TXT"), st.lists(TXT_CHARS, min_size=1, max_size=3)),
)


def make(name: str, rrtype: str, rdata: list[str], **kw: object) -> Observation:
    return Observation(rrname=name, rrtype=rrtype, rdata=tuple(rdata), time_first=10, time_last=20, **kw)  # type: ignore[arg-type]


@given(NAME, ANSWERS, st.sampled_from([None, 60, 0]), st.sampled_from([None, "s1", "s1/x"]), st.randoms())
def test_observation_normalization_is_idempotent_and_order_free(
    name: str, answer: tuple[str, list[str]], ttl: int | None, sensor: str | None, rnd: object
) -> None:
    rrtype, rdata = answer
    try:
        first = normalize_observation(make(name, rrtype, rdata, ttl=ttl, sensor_id=sensor))
    except InvalidObservation:
        assume(False)
        return
    assert normalize_observation(first) == first
    shuffled = list(rdata) + list(rdata[:1])
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    again = normalize_observation(make(name.upper() if name.isascii() else name, rrtype, shuffled, ttl=ttl,
                                       sensor_id=sensor))
    assert observation_key(again) == observation_key(first)
    assert list(first.rdata) == sorted(set(first.rdata))


@given(st.sampled_from(["NXDOMAIN", "nxdomain", 3, "NOERROR", 0, "SERVFAIL", 2]))
def test_negative_observations_normalize_once(rcode: object) -> None:
    obs = normalize_observation(make("gone.example", "A", [], rcode=rcode))
    assert obs.rdata == () and obs.rcode in {"NXDOMAIN", "NODATA", "SERVFAIL"}
    assert normalize_observation(obs) == obs


@given(st.text(max_size=70))
def test_sample_task_ids_are_storable_text_or_rejected(task: str) -> None:
    """Whatever passes the gate must be storable by every backend: UTF-8, no NUL or control characters."""
    try:
        obs = normalize_observation(make("s.example", "A", ["192.0.2.1"], sample=SampleRef("ab" * 32, task)))
    except InvalidObservation:
        return
    assert obs.sample is not None
    stored = obs.sample.task_id or ""
    stored.encode("utf-8")
    assert stored.isprintable()


# -- fast paths equal the full paths ----------------------------------------

CANONICAL_LDH = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20), min_size=1, max_size=6
).map(".".join)
ANY_NAME = st.one_of(NAME, CANONICAL_LDH, LDH, st.text(max_size=40), st.just("."), st.just(""))
ANY_RRTYPE = st.sampled_from(["A", "a", "AAAA", "NS", "TXT", "MX", "TYPE1", "TYPE65280", "1", " A", "BOGUS", 1, 28])
ANY_RDATA = st.one_of(
    st.lists(st.ip_addresses(v=4).map(str), max_size=4),
    st.lists(IPV6.map(lambda a: a.exploded if a.is_global else str(a)), max_size=3),
    st.lists(st.one_of(CANONICAL_LDH, NAME), max_size=3),
    st.lists(TXT_CHARS, max_size=2),
    st.lists(st.sampled_from(["10 mx.example", "10 MX.example.", "192.0.2.01", "", " 192.0.2.1"]), max_size=2),
)
ANY_TIME = st.one_of(st.integers(-1, 2**32 + 1), st.sampled_from([10, 20, 10.5, True, float("nan"), "10"]))
ANY_RCODE = st.sampled_from([None, "", "NXDOMAIN", "nxdomain", "NOERROR", "NODATA", "SERVFAIL", "BADSIG", 3, 0, "?"])
ANY_LABEL = st.sampled_from([None, "", "s1", "s1/x", "bad label", "-x"])


def _outcome(fn: object, obs: Observation) -> object:
    try:
        result = fn(obs)  # type: ignore[operator]
    except InvalidObservation as exc:
        return ("raises", type(exc), exc.code)
    return (result, [type(getattr(result, f)) for f in result.__struct_fields__])


@given(
    ANY_NAME, ANY_RRTYPE, ANY_RDATA, ANY_TIME, ANY_TIME, st.sampled_from([1, 5, 0, True, 2**63]),
    st.sampled_from([None, 0, 60, -1, 2**31, True]), ANY_RCODE, st.one_of(st.none(), ANY_NAME), ANY_LABEL,
    ANY_LABEL, st.sampled_from(["direct", "indirect", "imported"]),
    st.one_of(st.none(), st.builds(SampleRef, st.sampled_from(["ab" * 32, "AB" * 32, "ab", ""]),
                                   st.one_of(st.none(), st.sampled_from(["7", "", "x" * 65, "a\x00"])))),
)  # fmt: skip
def test_observation_fast_path_equals_the_full_path(
    name: object, rrtype: object, rdata: list[str], first: object, last: object, count: object, ttl: object,
    rcode: object, bailiwick: object, sensor: object, source: object, evidence: str, sample: SampleRef | None,
) -> None:  # fmt: skip
    from yapdns.core.model import Evidence
    from yapdns.core.normalize import _normalize_observation_full

    obs = Observation(
        rrname=name, rrtype=rrtype, rdata=tuple(rdata), time_first=first, time_last=last, count=count,  # type: ignore[arg-type]
        ttl=ttl, rcode=rcode, bailiwick=bailiwick, sensor_id=sensor, source=source,  # type: ignore[arg-type]
        evidence=Evidence(evidence), sample=sample,
    )  # fmt: skip
    fast = _outcome(normalize_observation, obs)
    assert fast == _outcome(_normalize_observation_full, obs)
    if not (isinstance(fast, tuple) and fast[0] == "raises"):  # what passed once is canonical: it passes as is
        normalized = normalize_observation(obs)
        assert normalize_observation(normalized) is normalized


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(CANONICAL_LDH, ANY_NAME), st.one_of(st.sampled_from(["A", "AAAA", "NS"]), ANY_RRTYPE), ANY_RDATA,
    st.sampled_from([None, "", "NXDOMAIN", "nxdomain", "NODATA", "NOERROR", "BADSIG", 3]),
    st.one_of(st.none(), st.just(""), CANONICAL_LDH, ANY_NAME), ANY_LABEL, ANY_LABEL,
    st.sampled_from(["direct", "indirect", "imported"]),
)  # fmt: skip
def test_template_path_equals_normalizing_the_template(
    name: object, rrtype: object, rdata: list[str], rcode: object, bailiwick: object, sensor: object, source: object,
    evidence: str,
) -> None:  # fmt: skip
    from yapdns.core.canonical import normalize_template
    from yapdns.core.model import Evidence

    fields = {"bailiwick": bailiwick, "sensor_id": sensor, "source": source, "evidence": Evidence(evidence)}
    obs = Observation(rrname=name, rrtype=rrtype, rdata=tuple(rdata), time_first=0, time_last=0, rcode=rcode, **fields)  # type: ignore[arg-type]

    def template(_: Observation) -> Observation:
        return normalize_template(name, rrtype, tuple(rdata), rcode, **fields)  # type: ignore[arg-type]

    assert _outcome(template, obs) == _outcome(normalize_observation, obs)


@settings(max_examples=300, deadline=None)
@given(
    CANONICAL_LDH, st.one_of(st.sampled_from(["A", "AAAA", "NS", "MX"]), ANY_RRTYPE), ANY_RDATA,
    st.sampled_from([None, "", "NXDOMAIN", "NODATA", "NOERROR", 3]), st.one_of(st.none(), st.just(""), ANY_NAME),
    ANY_LABEL, ANY_LABEL,
)  # fmt: skip
def test_canonical_template_equals_normalize_template_on_canonical_names_and_rdata(
    name: str, rrtype: object, rdata: list[str], rcode: object, bailiwick: object, sensor: object, source: object
) -> None:
    from yapdns.core.canonical import canonical_template, normalize_template

    try:  # what a decoder keeping the promise gives: each name and rdata item canonical already
        name = normalize_name(name)
        code = rrtypes.rrtype_code(rrtype)  # type: ignore[arg-type]
        items = tuple(normalize_rdata(code, item) for item in rdata)
    except InvalidObservation:
        return
    fields = {"bailiwick": bailiwick, "sensor_id": sensor, "source": source}

    def outcome(fn: object) -> object:
        return _outcome(lambda _: fn(name, rrtype, items, rcode, **fields), None)  # type: ignore[operator, arg-type]

    assert outcome(canonical_template) == outcome(normalize_template)


@given(ANY_NAME)
def test_name_fast_path_equals_the_full_path(text: str) -> None:
    from yapdns.core.names import _normalize_name_full

    def outcome(fn: object) -> object:
        try:
            return fn(text)  # type: ignore[operator]
        except InvalidName as exc:
            return ("raises", exc.code)

    normalize_name.cache_clear()  # the cached function runs its fast path, not a remembered answer
    assert outcome(normalize_name) == outcome(_normalize_name_full)


_PRINTABLE_TXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PRINTABLE_TXT, min_size=1, max_size=4), st.sampled_from([" ", "  ", ""]))
def test_plain_txt_shortcut_prints_what_dnspython_prints(strings: list[str], gap: str) -> None:
    text = gap.join(f'"{s}"' for s in strings)
    if not rdata._PLAIN_TXT.fullmatch(text):  # quotes, backslashes, a long string, odd spacing: dnspython decides
        return
    assert rdata._via_dnspython(rrtypes.TXT, text) == text
    assert rdata.normalize_rdata(rrtypes.TXT, text) == text


class _Str(str):
    """A str subclass that compares equal to its value: never taken for a remembered plain key."""


_MEMO_RECORD = st.tuples(
    st.one_of(CANONICAL_LDH, st.sampled_from(["WWW.Example.com", "www.example.com."])),
    st.sampled_from(["A", "A", "TXT", "a", "TYPE1"]),
    st.one_of(
        st.lists(st.ip_addresses(v=4).map(str), min_size=1, max_size=2).map(sorted),
        st.lists(st.sampled_from(['"v=spf1 -all"', '"a" "b"', "plain", '"x"']), min_size=1, max_size=2),
    ),
)
_MEMO_DEVIATION = st.one_of(  # a sighting is canonical but for at most one field
    st.just(("", None)),
    st.tuples(st.just("time_first"), st.sampled_from([0, 2**32 - 1, 2**32, -1, 10.5, True, 21])),
    st.tuples(st.just("time_last"), st.sampled_from([10, 2**32 - 1, 2**32, 9, 20.0])),
    st.tuples(st.just("count"), st.sampled_from([7, 2**40, 2**40 + 1, 0, True])),
    st.tuples(st.just("ttl"), st.sampled_from([None, 0, 2**31 - 1, 2**31, -1, True])),
    st.tuples(st.just("rcode"), st.sampled_from(["NXDOMAIN", "NODATA", "NOERROR", ""])),
    st.tuples(st.just("bailiwick"), st.sampled_from(["example.com", "", "Example.COM."])),
    st.tuples(st.just("sensor_id"), ANY_LABEL),
    st.tuples(st.just("source"), ANY_LABEL),
    st.tuples(st.just("sample"), st.just(SampleRef("ab" * 32, "7"))),
    st.tuples(st.just("zone_time_first"), st.just(5)),
    st.tuples(st.just("rrname"), st.just(None)),  # the name as a str subclass
    st.tuples(st.just("rdata"), st.just(None)),  # the rdata as a list
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MEMO_RECORD, min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(0, 2), _MEMO_DEVIATION), min_size=1, max_size=30))  # fmt: skip
def test_normalize_memo_equals_normalize_observation_on_a_stream(
    records: list[tuple[str, str, list[str]]], stream: list[tuple[int, tuple[str, object]]]
) -> None:
    """A stream in which records recur, as in a log: every observation gives what normalize_observation gives."""
    from yapdns.core.canonical import NormalizeMemo

    memo = NormalizeMemo(limit=2)
    for pick, (field, value) in stream:
        name, rrtype, rdata = records[pick % len(records)]
        fields: dict[str, object] = {"rrname": name, "rrtype": rrtype, "rdata": tuple(rdata), "time_first": 10,
                                     "time_last": 20, "count": 1, "ttl": 60, "sensor_id": "s1", "source": "zeek"}  # fmt: skip
        if field:
            fields[field] = _Str(name) if field == "rrname" else list(rdata) if field == "rdata" else value
        obs = Observation(**fields)  # type: ignore[arg-type]
        try:
            expected = _outcome(normalize_observation, obs)
        except TypeError:  # rdata as a list: unhashable for the caches; the memo must fail the same way
            with pytest.raises(TypeError):
                memo.normalize(obs)
            continue
        assert _outcome(memo.normalize, obs) == expected


_MEMO_RCODE = st.sampled_from(
    ["NXDOMAIN", "NODATA", "NOERROR", "nxdomain", "", None, 3, "3", True, 3.0, "BOGUS", _Str("NXDOMAIN")]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MEMO_RECORD, min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(0, 2), st.booleans(), _MEMO_RCODE, _MEMO_DEVIATION), min_size=1, max_size=30))  # fmt: skip
def test_normalize_memo_equals_normalize_observation_on_negatives(
    records: list[tuple[str, str, list[str]]], stream: list[tuple[int, bool, object, tuple[str, object]]]
) -> None:
    """The memo keys on the rcode too: negatives, NODATA and rcodes of every spelling and type recur."""
    from yapdns.core.canonical import NormalizeMemo

    memo = NormalizeMemo(limit=4)
    for pick, negative, rcode, (field, value) in stream:
        name, rrtype, rdata = records[pick % len(records)]
        fields: dict[str, object] = {"rrname": name, "rrtype": rrtype, "rdata": () if negative else tuple(rdata),
                                     "rcode": rcode, "time_first": 10, "time_last": 20, "count": 1, "ttl": 60,
                                     "sensor_id": "s1", "source": "zeek"}  # fmt: skip
        if field and field not in ("rdata", "rcode"):
            fields[field] = _Str(name) if field == "rrname" else value
        obs = Observation(**fields)  # type: ignore[arg-type]
        assert _outcome(memo.normalize, obs) == _outcome(normalize_observation, obs)
