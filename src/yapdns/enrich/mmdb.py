"""MaxMind DB files (``.mmdb``): GeoLite2/GeoIP2, DB-IP and IPinfo, read with ``maxminddb``, reloaded on change.

The record shapes read (each documented by its publisher):

* MaxMind GeoLite2/GeoIP2 ASN and ISP, DB-IP ASN lite: ``autonomous_system_number``,
  ``autonomous_system_organization``;
* MaxMind and DB-IP country and city: ``country.iso_code`` (else ``registered_country.iso_code``);
* IPinfo Lite: ``asn`` (``"AS13335"``), ``as_name``, ``country_code``; IPinfo's older country/ASN file:
  ``asn``, ``as_name``, ``country`` (the ISO code).

``prefix`` is the file's network for the address, set only by files that carry AS data (a country file's
networks are not routed prefixes). ``source`` is the file's ``database_type`` and ``data_date`` its
``build_epoch``. The file is checked (``stat``) at most every ``check_every`` seconds and reopened when its
size, mtime or inode changed, so replacing it (``mv new.mmdb GeoLite2-ASN.mmdb``) takes effect without a
restart; a file that cannot be opened keeps the previous one serving and is retried at the next check.
Replace files with ``mv`` (a new inode), never by writing into them: the reader maps the file.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import maxminddb

from yapdns.enrich.dataset import DatasetInfo
from yapdns.storage.context import IpContextRow

log = logging.getLogger(__name__)


def _asn(record: dict[str, Any]) -> int | None:
    value = record.get("autonomous_system_number", record.get("asn"))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.upper().startswith("AS") and value[2:].isdigit():
        return int(value[2:])
    return None


def _country(record: dict[str, Any]) -> str | None:
    for key in ("country", "registered_country"):
        value = record.get(key)
        if isinstance(value, dict) and isinstance(value.get("iso_code"), str):
            return str(value["iso_code"])
    code = record.get("country_code", record.get("country"))
    return code.upper() if isinstance(code, str) and len(code) == 2 else None


def _as_name(record: dict[str, Any]) -> str | None:
    value = record.get("autonomous_system_organization", record.get("as_name"))
    return value if isinstance(value, str) and value else None


def _network(ip: str, prefix_len: int) -> str:
    """``ip/prefix_len`` with the host bits cleared, in canonical text (what ``ipaddress`` prints, faster)."""
    if ":" in ip:
        bits = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big") >> (128 - prefix_len) << (128 - prefix_len)
        return f"{socket.inet_ntop(socket.AF_INET6, bits.to_bytes(16, 'big'))}/{prefix_len}"
    bits = int.from_bytes(socket.inet_aton(ip), "big") >> (32 - prefix_len) << (32 - prefix_len)
    return f"{socket.inet_ntoa(bits.to_bytes(4, 'big'))}/{prefix_len}"


class MmdbDataset:
    """One ``.mmdb`` file, reopened when it changes."""

    def __init__(self, path: Path | str, *, check_every: float = 5.0) -> None:
        self.path = Path(path)
        self.check_every = check_every
        self._lock = threading.Lock()
        self._reader, self._info, self._stamp = self._open()
        self._checked = time.monotonic()

    def _open(self) -> tuple[maxminddb.Reader, DatasetInfo, tuple[int, int, int]]:
        st = os.stat(self.path)
        reader = maxminddb.open_database(str(self.path))
        meta = reader.metadata()
        info = DatasetInfo(
            source=str(meta.database_type), data_date=int(meta.build_epoch),
            fields=("asn", "as_name", "prefix", "country"),
            origin=str(self.path), licence="as published with the file (see docs/enrichment.md)",
        )
        return reader, info, (st.st_mtime_ns, st.st_size, st.st_ino)

    def info(self) -> DatasetInfo:
        self._maybe_reload()
        return self._info

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return
        with self._lock:
            self._checked = now
            try:
                st = os.stat(self.path)
                if (st.st_mtime_ns, st.st_size, st.st_ino) == self._stamp:
                    return
                reader, info, stamp = self._open()
            except (OSError, maxminddb.InvalidDatabaseError) as exc:
                log.warning("cannot reload %s (still serving the previous file): %s", self.path, exc)
                return
            old, self._reader, self._info, self._stamp = self._reader, reader, info, stamp
            log.info("reloaded %s: %s", self.path, info.identity)
        old.close()

    def lookup(self, ip: str) -> IpContextRow | None:
        self._maybe_reload()
        try:
            record, prefix_len = self._reader.get_with_prefix_len(ip)
        except ValueError:  # not an address, or an IPv6 address in an IPv4-only file
            return None
        except maxminddb.InvalidDatabaseError as exc:  # the file was overwritten in place under the mmap
            log.warning("%s: %s (replace MMDB files with mv, never in place)", self.path, exc)
            return None
        if not isinstance(record, dict):
            return None
        asn, as_name, country = _asn(record), _as_name(record), _country(record)
        if asn is None and as_name is None and country is None:
            return None
        prefix = _network(ip, prefix_len) if asn is not None or as_name is not None else None
        info = self._info
        return IpContextRow(ip=ip, source=info.source, data_date=info.data_date, asn=asn, as_name=as_name,
                            prefix=prefix, country=country)
