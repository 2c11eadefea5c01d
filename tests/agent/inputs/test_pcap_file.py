"""The pcap file input on the committed BIND 9 capture: pcap and pcapng against dig's recorded output, and
capture files cut short or not captures at all.

These run without BIND or tcpdump installed: the capture and dig's output
were recorded by ``data/regenerate.py``.
"""

from __future__ import annotations

from pathlib import Path

import pcapy
import pytest

from tests.agent.wire.captured import PCAP, PCAPNG, dig_expectation, read_capture
from tests.agent.wire.wirecheck import negatives_of, rrs_of


@pytest.mark.parametrize("path", [PCAP, PCAPNG], ids=["pcap", "pcapng"])
def test_recorded_capture_matches_recorded_dig(path: Path) -> None:
    rrs, negatives = dig_expectation()
    observations, inp = read_capture(path)
    assert len(rrs) > 90
    assert rrs_of(observations) == rrs
    assert negatives_of(observations) == negatives
    assert inp.stats.error_count == 0
    assert inp.counters["truncated_responses"] == 2  # big.example.test over UDP, twice


def test_a_capture_file_cut_short_is_counted(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(PCAP.read_bytes()[: PCAP.stat().st_size - 30])
    observations, inp = read_capture(cut)
    assert observations  # everything before the cut is used
    assert inp.stats.errors["truncated_capture"] == 1
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"not a capture file at all")
    _, inp2 = read_capture(garbage)
    assert inp2.stats.errors["bad_capture_file"] == 1
    assert pcapy  # libpcap said so, not us
