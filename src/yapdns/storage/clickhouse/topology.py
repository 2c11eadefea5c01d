"""Where the ClickHouse store's rows live: one node, or the shards and replicas of a cluster.

``clickhouse://host:port/db`` is one node: the tables are ``entry`` and ``rdx`` themselves.
``clickhouse://host:port/db?cluster=NAME`` reads the shards and replicas of ``NAME`` from the node's
``system.clusters``; every node then holds ``entry_local``/``rdx_local`` (``Replicated...`` engines when a
shard has several replicas, coordinated by the servers' ZooKeeper), and ``entry``/``rdx`` are
``Distributed`` tables over them, so every SELECT of the store is unchanged. Writes are sharded here, in
Python, so that each shard's part of a write is one insert with its own batch markers:

* ``entry`` rows by the owner name's last two labels (``com.example.`` of ``com.example.www.``): every name
  under one domain is on one shard;
* ``rdx`` rows by the address's /16 (IPv4) or /32 (IPv6) prefix, the target name's last two labels, or the
  rdata text: a CIDR lookup up to /16 and a target-domain lookup stay on one shard.

A shard's connection fails over between its replicas (clickhouse-driver ``alt_hosts``), and its inserts
are acknowledged once every replica has them (``insert_quorum``), or once the live one has them while a
replica is down: a replica that dies takes nothing acknowledged with it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from yapdns.storage.clickhouse.client import Connection, NativeConnection, connect
from yapdns.storage.clickhouse.schema import RKind


def _bucket(text: str, n: int) -> int:
    return zlib.crc32(text.encode()) % n if n > 1 else 0


def domain_key(rev: str) -> str:
    """The last two labels of a reversed name key (``com.example.`` of ``com.example.www.``)."""
    head, dot, rest = rev.partition(".")
    second = rest.partition(".")[0]
    return f"{head}{dot}{second}."


class Topology:
    """The connections a store uses: ``main`` for reads and DDL, ``shards`` for writes."""

    def __init__(self, url: str) -> None:
        self.main = connect(url)
        self.database = self.main.database
        self.cluster = self.main.options.pop("cluster", None)
        self.replicated = False
        self.nodes: list[Connection] = [self.main]
        self.shards: list[Connection] = [self.main]
        if self.cluster is not None:
            self._discover(url)

    def _discover(self, url: str) -> None:
        found = self.main.rows(
            "SELECT shard_num, host_address, port FROM system.clusters WHERE cluster = %(c)s "
            "ORDER BY shard_num, replica_num",
            {"c": self.cluster},
        )
        if not found:
            raise ValueError(f"cluster {self.cluster!r} is not in the server's remote_servers")
        by_shard: dict[int, list[tuple[str, int]]] = {}
        for shard, host, port in found:
            by_shard.setdefault(int(shard), []).append((str(host), int(port)))
        self.replicated = any(len(r) > 1 for r in by_shard.values())
        self.shards = [_shard_connection(url, replicas) for _, replicas in sorted(by_shard.items())]
        hosts = [(h, p) for replicas in by_shard.values() for h, p in replicas]
        self.nodes = [_node_connection(url, h, p) for h, p in hosts]
        seed = urlsplit(url)
        first = [hp for hp in hosts if hp == (seed.hostname, seed.port)] or hosts[:1]
        reader = NativeConnection(_with_host(url, first + [hp for hp in hosts if hp not in first], quorum=False))
        reader.options = self.main.options  # claim_lease and the like, read by the store
        self.main.close()
        self.main = reader  # reads start on the node the URL names and fail over to any other

    def local(self, table: str) -> str:
        """The table that holds rows on a node (the ``Distributed`` table's target in a cluster)."""
        return f"{table}_local" if self.cluster is not None else table

    def entry_shard(self, rev: str) -> int:
        return _bucket(domain_key(rev), len(self.shards))

    def rdx_shard(self, rkind: int, rkey: str) -> int:
        n = len(self.shards)
        if n == 1:
            return 0
        if rkind == RKind.IP:
            prefix = rkey[:28] if rkey.startswith("0" * 20 + "ffff") else rkey[:8]
            return _bucket(prefix, n)
        if rkind == RKind.TARGET:
            return _bucket(domain_key(rkey), n)
        return _bucket(rkey, n)

    def close(self) -> None:
        for conn in {id(c): c for c in [*self.nodes, *self.shards, self.main]}.values():
            conn.close()


def _with_host(url: str, hosts: Sequence[tuple[str, int]], quorum: bool = True) -> str:
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    host, port = hosts[0]
    netloc = f"{auth}@{host}:{port}" if auth else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("cluster", "claim_lease")]
    if len(hosts) > 1:
        query.append(("alt_hosts", ",".join(f"{h}:{p}" for h, p in hosts[1:])))
        if quorum:
            query.append(("insert_quorum", str(len(hosts))))
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def _shard_connection(url: str, replicas: Sequence[tuple[str, int]]) -> Connection:
    return NativeConnection(_with_host(url, replicas))


def _node_connection(url: str, host: str, port: int) -> Connection:
    return NativeConnection(_with_host(url, [(host, port)]))
