"""The share of DNS responses the C decoder (``_fastwire.decode``) takes, the rest going to the Python decoder.

    python benchmarks/c_decoder_share.py [--examples 2000] [--seed 1]

Three populations, as in tests/agent/wire/test_message.py: the responses of
the committed BIND capture, messages dnspython builds from generated RRsets
(the test's strategies), and mutated real messages (0-6 bytes changed, cut at
a random length). For each: how many the C decoder takes, of all and of those
the Python decoder can decode at all.
"""

from __future__ import annotations

import argparse
import random
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import dns.message
import dns.rrset
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning
from tests.agent.wire.captured import udp_dns_payloads
from tests.agent.wire.test_message import _NAMES, _RDATA

from yapdns.agent.wire import _fastwire
from yapdns.agent.wire.message import DnsFormatError, decode_response_python


def share(label: str, messages: list[bytes]) -> None:
    taken = sum(_fastwire.decode(m) is not None for m in messages)
    decodable = 0
    for m in messages:
        try:
            decode_response_python(m)
            decodable += 1
        except DnsFormatError:
            pass
    print(f"{label:>10}: C takes {taken} of {len(messages)} ({taken / len(messages):.0%}); "
          f"of the {decodable} the Python decoder decodes: {taken / max(decodable, 1):.0%}")  # fmt: skip


def generated(count: int) -> list[bytes]:
    records = st.lists(st.tuples(_NAMES, st.integers(0, 2**32 - 1), _RDATA), max_size=6)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        for _ in range(count):
            msg = dns.message.make_response(dns.message.make_query(_NAMES.example(), "A"))
            for owner, ttl, (rrtype, text) in records.example():
                msg.answer.append(dns.rrset.from_text(owner, ttl, "IN", rrtype, text))
            out.append(msg.to_wire())
    return out


def mutated(count: int, rng: random.Random) -> list[bytes]:
    real = udp_dns_payloads()
    out = []
    for _ in range(count):
        wire = bytearray(rng.choice(real))
        for _ in range(rng.randint(0, 6)):
            wire[rng.randrange(len(wire))] = rng.randrange(256)
        out.append(bytes(wire[: rng.randint(0, len(wire))]) if rng.random() < 0.5 else bytes(wire))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    share("real", [m for m in udp_dns_payloads() if m[2] & 0x80])
    share("generated", generated(args.examples))
    share("mutated", mutated(args.examples, random.Random(args.seed)))


if __name__ == "__main__":
    main()
