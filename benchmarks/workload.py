"""A synthetic but realistic passive-DNS workload for the storage benchmarks.

Shaped like real passive-DNS data: record types ~71 % A, 15 %
AAAA, 10 % CNAME and ~1.3 % each NS, MX, TXT; registrable domains across
real TLDs with Pareto-sized subtrees (a few CDN-like giants); IPv4 in /24s
inside /16s with Zipf popularity (big hoster /24s), IPv6 in /48s, NS/MX/CNAME
targets from Zipf-popular provider hosts. Every value is already in
canonical form (``check_canonical`` proves it on a sample).

Record ``i`` is a pure function of ``(seed, i)``, so the ingest and query
benchmarks can regenerate any slice without storing it. Observations draw
records Zipf-like (every record once, the rest by popularity) in time order.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import normalize_observation

T0 = 1_760_000_000
SPAN = 30 * 86400
TYPES = np.array(["A", "AAAA", "CNAME", "NS", "MX", "TXT"])
TYPE_P = np.array([0.71, 0.15, 0.10, 0.013, 0.013, 0.014])
TLDS = ["com"] * 9 + ["net", "net", "org", "de", "co.uk", "ru", "io", "cn", "com.br", "fr", "nl", "info"]
WORDS = [
    "www",
    "api",
    "mail",
    "cdn",
    "static",
    "img",
    "login",
    "app",
    "m",
    "shop",
    "blog",
    "dev",
    "auth",
    "edge",
    "video",
    "news",
    "support",
    "docs",
    "portal",
    "assets",
    "media",
    "secure",
    "vpn",
    "remote",
    "smtp",
    "imap",
    "ns",
    "owa",
    "git",
    "wiki",
    "files",
    "admin",
    "status",
    "beta",
    "eu",
    "us",
    "ap",
]
SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "xe", "zo", "ba", "ce", "di", "fu", "go", "hi", "ju"]


class Universe:
    """``n`` distinct (rrname, rrtype, rdata) records and what a query benchmark needs to know about them."""

    def __init__(self, n: int, seed: int = 42, per_name: int = 2) -> None:
        self.n = n
        self.per_name = per_name
        rng = np.random.default_rng(seed)
        self.n_domains = max(50, n // 200)
        self.domains = [_domain(d, rng) for d in range(self.n_domains)]
        weights = rng.pareto(1.3, self.n_domains) + 1.0
        self.type_idx = rng.choice(len(TYPES), size=n, p=TYPE_P).astype(np.int8)
        host = np.arange(n) // per_name  # records per host name (two by default)
        self.domain_of_host = rng.choice(self.n_domains, size=n // per_name + 1,
                                         p=weights / weights.sum()).astype(np.int32)
        self.domain_idx = self.domain_of_host[host]
        self.n24 = max(40, n // 250)
        self.n48 = max(6, n // 1700)
        self.p24 = _zipf_choice(rng, self.n24, n)
        self.p48 = rng.integers(0, self.n48, n)
        self.provider = _zipf_choice(rng, 300, n)
        self.ttl = rng.choice(np.array([60, 300, 3600, 86400]), size=n).astype(np.int32)
        self._kind = TYPES[self.type_idx].tolist()  # plain lists: fast scalar access in record()
        self._dom = self.domain_idx.tolist()
        self._p24 = self.p24.tolist()
        self._p48 = self.p48.tolist()
        self._prov = self.provider.tolist()

    def record(self, i: int) -> tuple[str, str, str]:
        """The i-th record (canonical)."""
        h = i // self.per_name
        name = f"{WORDS[h % len(WORDS)]}-{h:x}.{self.domains[self._dom[i]]}"
        kind = self._kind[i]
        return name, kind, self._rdata(kind, i)

    def _rdata(self, kind: str, i: int) -> str:
        if kind == "A":
            return ipv4_of_24(self._p24[i]) + f".{1 + (i * 7) % 254}"
        if kind == "AAAA":
            return f"{ipv6_of_48(self._p48[i])}:{1 + (i >> 16) % 0xFFFE:x}::{1 + i % 0xFFFE:x}"
        p = self._prov[i]
        if kind == "CNAME":
            return f"{WORDS[i % len(WORDS)]}{i % 97}.cdn{p}.net"
        if kind == "NS":
            return f"ns{1 + i % 4}.dns-provider{p}.net"
        if kind == "MX":
            return f"{10 * (1 + i % 3)} mx{1 + i % 2}.mailhost{p}.com"
        return f'"v=spf1 include:_spf.mailhost{p}.com ~all" "id={i:x}"'

    def records(self, start: int, stop: int) -> Iterator[tuple[int, str, str, str]]:
        for i in range(start, stop):
            yield (i, *self.record(i))


def ipv4_of_24(k: int) -> str:
    """The k-th /24 (400 per /16 cluster shape): 'a.b.c'."""
    return f"{11 + (k // 2560) % 200}.{(k // 10) % 256}.{(k * 37) % 256}"


def ipv6_of_48(k: int) -> str:
    return f"2001:db8:{k + 1:x}" if k < 0xFFFE else f"2a00:{(k >> 16) + 1:x}:{(k & 0xFFFF) + 1:x}"


def _domain(d: int, rng: np.random.Generator) -> str:
    word = "".join(SYLLABLES[x] for x in rng.integers(0, len(SYLLABLES), 2 + d % 3))
    return f"{word}{d}.{TLDS[d % len(TLDS)]}"


def _zipf_choice(rng: np.random.Generator, k: int, n: int, s: float = 1.0, q: float = 5.0) -> np.ndarray:
    p = 1.0 / (np.arange(k) + q) ** s
    perm = rng.permutation(k)
    return perm[rng.choice(k, size=n, p=p / p.sum())].astype(np.int32)


def draws(n_obs: int, n_records: int, seed: int = 7) -> np.ndarray:
    """Record indices of ``n_obs`` observations: every record once, the rest Zipf-popular, shuffled."""
    rng = np.random.default_rng(seed)
    extra = _zipf_choice(rng, n_records, max(0, n_obs - n_records))
    out = np.concatenate([np.arange(min(n_obs, n_records), dtype=np.int32), extra])
    rng.shuffle(out)
    return out


def observation_batches(
    universe: Universe, n_obs: int, batch: int, sensors: int = 4
) -> Iterator[tuple[int, list[Observation]]]:
    """``(batch number, observations)`` in time order; each batch comes from one sensor."""
    idx = draws(n_obs, universe.n).tolist()
    cache: dict[int, tuple[str, str, tuple[str, ...], int]] = {}
    ttls = universe.ttl.tolist()
    for b, start in enumerate(range(0, n_obs, batch)):
        sensor = f"sensor{b % sensors}"
        out = []
        for k in range(start, min(n_obs, start + batch)):
            i = idx[k]
            rec = cache.get(i)
            if rec is None:
                name, kind, rdata = universe.record(i)
                rec = cache[i] = (name, kind, (rdata,), ttls[i])
            t = T0 + k * SPAN // n_obs
            out.append(
                Observation(
                    rrname=rec[0],
                    rrtype=rec[1],
                    rdata=rec[2],
                    time_first=t,
                    time_last=t,
                    ttl=rec[3],
                    sensor_id=sensor,
                    source="zeek",
                    evidence=Evidence.DIRECT,
                )
            )
        yield b, out


def check_canonical(universe: Universe, sample: int = 2000) -> None:
    """Prove on a sample that generated records are already normalized."""
    step = max(1, universe.n // sample)
    for i in range(0, universe.n, step):
        name, kind, rdata = universe.record(i)
        o = Observation(rrname=name, rrtype=kind, rdata=(rdata,), time_first=T0, time_last=T0)
        n = normalize_observation(o)
        assert (n.rrname, n.rrtype, n.rdata) == (name, kind, (rdata,)), (i, name, kind, rdata, n)
