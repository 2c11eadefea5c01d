"""MMDB files written here with mmdb-writer in the publishers' record shapes, read back, and reloaded when the
file is replaced."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

from yapdns.enrich.mmdb import MmdbDataset


def write_mmdb(path: Path, database_type: str, networks: dict[str, dict[str, Any]], epoch: int) -> Path:
    writer = MMDBWriter(ip_version=6, database_type=database_type, ipv4_compatible=True)
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    tmp = path.with_suffix(".tmp")
    writer.to_db_file(str(tmp))
    _set_build_epoch(tmp, epoch)
    os.replace(tmp, path)  # as an operator replaces a file: a new inode
    return path


def _set_build_epoch(path: Path, epoch: int) -> None:
    """mmdb-writer stamps the current time; rewrite it so a test controls the data date (same byte width)."""
    data = path.read_bytes()
    marker = data.rindex(b"build_epoch") + len(b"build_epoch")
    size = data[marker] & 0x1F  # an extended uint64 type byte: the low 5 bits are the length
    new = epoch.to_bytes(size, "big")
    path.write_bytes(data[: marker + 2] + new + data[marker + 2 + size :])


ASN = {"1.1.1.0/24": {"autonomous_system_number": 13335, "autonomous_system_organization": "CLOUDFLARENET"},
       "2606:4700::/32": {"autonomous_system_number": 13335, "autonomous_system_organization": "CLOUDFLARENET"}}


def test_geolite2_asn_and_country_shapes(tmp_path: Path) -> None:
    asn = MmdbDataset(write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", ASN, 1_700_000_000))
    row = asn.lookup("1.1.1.1")
    assert row is not None and (row.asn, row.as_name, row.prefix, row.country) == (13335, "CLOUDFLARENET", "1.1.1.0/24", None)
    v6 = asn.lookup("2606:4700::1111")
    assert v6 is not None and v6.prefix == "2606:4700::/32"
    assert (row.source, row.data_date) == ("GeoLite2-ASN", 1_700_000_000)
    assert asn.lookup("192.0.2.1") is None and asn.lookup("junk") is None
    country = MmdbDataset(write_mmdb(tmp_path / "c.mmdb", "GeoLite2-Country",
                                     {"1.1.1.0/24": {"country": {"iso_code": "AU", "names": {"en": "Australia"}}}}, 1))
    c = country.lookup("1.1.1.7")
    assert c is not None and (c.country, c.asn, c.prefix) == ("AU", None, None)  # a country network is not a prefix


def test_ipinfo_lite_shape(tmp_path: Path) -> None:
    lite = {"8.8.8.0/24": {"asn": "AS15169", "as_name": "Google LLC", "as_domain": "google.com",
                           "country_code": "US", "country": "United States", "continent_code": "NA"}}
    row = MmdbDataset(write_mmdb(tmp_path / "ipinfo.mmdb", "ipinfo ipinfo_lite.mmdb", lite, 2)).lookup("8.8.8.8")
    assert row is not None and (row.asn, row.as_name, row.country, row.prefix) == (15169, "Google LLC", "US", "8.8.8.0/24")


def test_a_replaced_file_is_reloaded_with_its_new_date(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "asn.mmdb", "GeoLite2-ASN", ASN, 1_700_000_000)
    ds = MmdbDataset(path, check_every=0)
    assert ds.lookup("1.1.1.1").asn == 13335  # type: ignore[union-attr]
    moved = {"1.1.1.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "NEW"}}
    write_mmdb(path, "GeoLite2-ASN", moved, 1_800_000_000)
    row = ds.lookup("1.1.1.1")
    assert row is not None and (row.asn, row.data_date) == (64500, 1_800_000_000)
    assert ds.info().identity.endswith("@2027-01-15")
    (tmp_path / "broken").write_bytes(b"not an mmdb")
    os.replace(tmp_path / "broken", path)  # a broken replacement: the previous data keeps serving
    assert ds.lookup("1.1.1.1").asn == 64500  # type: ignore[union-attr]
