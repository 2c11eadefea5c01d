"""The built-in AS numbers answer as the npm package's own text CSV says, read here independently with ipaddress.

``scripts/build-as-data.sh`` (run by ``scripts/test-deps``) installs ``@ip-location-db/asn`` under
``asdata/node_modules`` and converts its numeric files; this test reads the package's dotted-quad and RFC 5952
files, which the dataset never reads, and checks the dataset's answer for addresses inside sampled ranges.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import ipaddress
import random
import shutil
from pathlib import Path

import pytest

from yapdns.core.errors import ConfigurationError
from yapdns.enrich.asnumbers import FILES, AsNumberDataset
from yapdns.enrich.rangefile import data_dir

PACKAGE = Path(__file__).resolve().parents[2] / "asdata" / "node_modules" / "@ip-location-db" / "asn"


def _sampled_rows(name: str, rng: random.Random, k: int) -> list[list[str]]:
    with (PACKAGE / name).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rng.sample(rows, k)


@pytest.mark.parametrize("name", ["asn-ipv4.csv", "asn-ipv6.csv"])
def test_answers_equal_the_packages_text_files(as_numbers: AsNumberDataset, name: str) -> None:
    rng = random.Random(17)
    checked = 0
    for first, last, asn, org in _sampled_rows(name, rng, 3000):
        lo, hi = int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last))
        inside = str(ipaddress.ip_address(rng.randint(lo, hi)))
        row = as_numbers.lookup(inside)
        if int(asn) == 0:
            continue
        assert row is not None, inside
        if row.asn != int(asn):  # only where a later range overlaps this one (it wins there: see rangefile.py)
            assert as_numbers.nested > 0 and row.asn is not None, inside
            continue
        assert row.as_name == (org or None), inside
        nets = list(ipaddress.summarize_address_range(ipaddress.ip_address(first), ipaddress.ip_address(last)))
        assert row.prefix == (str(nets[0]) if len(nets) == 1 else None), inside
        checked += 1
    assert checked > 2900


def test_known_addresses_date_and_licence(as_numbers: AsNumberDataset) -> None:
    cf = as_numbers.lookup("1.1.1.1")
    assert cf is not None and (cf.asn, cf.as_name, cf.prefix, cf.country) == (13335, "Cloudflare, Inc.", "1.1.1.0/24",
                                                                               None)
    v6 = as_numbers.lookup("2606:4700:4700::1111")
    assert v6 is not None and v6.asn == 13335
    assert as_numbers.lookup("10.1.2.3") is None and as_numbers.lookup("::1") is None  # never announced
    assert as_numbers.lookup("not-an-ip") is None and as_numbers.lookup("1.2.3") is None
    info = as_numbers.info()
    assert dt.datetime.fromtimestamp(info.data_date, dt.UTC) == dt.datetime(2026, 6, 17, 19, tzinfo=dt.UTC)
    assert info.identity == "ip-location-db AS@2026-06-17"
    assert "CC BY 4.0" in info.licence and "db-ip.com" in info.licence and "2.3.2026061719" in info.origin
    assert len(as_numbers) > 500_000 and as_numbers.nested == 1


def _copy(tmp_path: Path, v4_rows: list[str]) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(Path(str(data_dir())), folder)
    with gzip.open(folder / FILES[0], "wt") as fh:
        fh.write("".join(line + "\n" for line in v4_rows))
    return folder


def test_bad_or_missing_data_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="build-as-data"):
        AsNumberDataset(tmp_path)
    with pytest.raises(ConfigurationError, match="out of order"):
        AsNumberDataset(_copy(tmp_path, ["16777472,16777535,64500,B", "16777216,16777471,13335,A"]))


def test_an_overlap_goes_to_the_later_range_and_as0_is_unannounced(tmp_path: Path) -> None:
    ds = AsNumberDataset(_copy(tmp_path, ["16777216,16777471,64500,Big", "16777344,16777599,64501,Later",
                                          "16777600,16777663,0,Unannounced"]))
    assert ds.nested == 1
    rows = {ip: ds.lookup(ip) for ip in ("1.0.0.1", "1.0.1.127", "1.0.1.130", "1.0.2.1")}
    assert {ip: r.asn if r else None for ip, r in rows.items()} == \
        {"1.0.0.1": 64500, "1.0.1.127": 64501, "1.0.1.130": None, "1.0.2.1": None}
    first, later = rows["1.0.0.1"], rows["1.0.1.127"]
    assert first is not None and first.prefix is None  # cut back to 1.0.0.0-1.0.0.127: a /25, but not announced so
    assert later is not None and later.prefix is None  # 1.0.0.128-1.0.1.127 is whole but no CIDR block
