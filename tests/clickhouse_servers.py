"""ClickHouse (Debian's 18.16 ``clickhouse-server``) and ZooKeeper processes that tests and benchmarks start.

Each server gets its own config and data directory under a caller's directory and listens on loopback
ports only; the system service is never used. ``ClickHouseServer.kill`` stops the process hard (SIGKILL),
``start`` brings it back on the same directory and ports, so fault tests can crash and restart it.
Ports come from ``YAPDNS_TEST_CH_PORTS`` (``lo-hi``, default 22000-22999) and are checked free before use.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from xml.sax.saxutils import escape

SERVER_BINARY = "/usr/sbin/clickhouse-server"
ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")  # Debian's; its manifest names the other jars
START_TIMEOUT = 60.0


def server_binary() -> str | None:
    """The ``clickhouse-server`` binary, or None when it is not installed."""
    return shutil.which("clickhouse-server") or (SERVER_BINARY if os.path.exists(SERVER_BINARY) else None)


def zookeeper_available() -> bool:
    return ZOOKEEPER_JAR.exists() and shutil.which("java") is not None


_next_port = [0]


def free_port() -> int:
    """A free loopback port from the configured range (never 0: configs need fixed ports)."""
    lo, hi = (int(p) for p in os.environ.get("YAPDNS_TEST_CH_PORTS", "22000-22999").split("-"))
    span = hi - lo + 1
    start = (os.getpid() * 37 + _next_port[0]) % span
    for i in range(span):
        port = lo + (start + i) % span
        _next_port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {lo}-{hi}")


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-2000:] if log.exists() else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} within {timeout}s")


class ClickHouseServer:
    """One ``clickhouse-server`` process: ``start``, ``kill``, ``stop``; ``url(db)`` for the store."""

    def __init__(
        self,
        root: Path,
        *,
        name: str = "ch",
        remote_servers: str = "",
        zookeeper_port: int | None = None,
        macros: dict[str, str] | None = None,
        zstd_level: int = 3,
        max_memory_usage: int = 2_000_000_000,
    ) -> None:
        self.root = root / name
        self.tcp_port = free_port()
        self.http_port = free_port()
        self.interserver_port = free_port()
        self.remote_servers = remote_servers
        self.zookeeper_port = zookeeper_port
        self.macros = macros or {}
        self.zstd_level = zstd_level
        self.max_memory_usage = max_memory_usage
        self.proc: subprocess.Popen[bytes] | None = None
        (self.root / "data").mkdir(parents=True, exist_ok=True)

    def url(self, database: str) -> str:
        return f"clickhouse://127.0.0.1:{self.tcp_port}/{database}"

    def _write_config(self) -> None:
        zk = ""
        if self.zookeeper_port is not None:
            zk = (
                f"<zookeeper><node><host>127.0.0.1</host><port>{self.zookeeper_port}</port></node>"
                "<session_timeout_ms>6000</session_timeout_ms></zookeeper>"
            )
        macros = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in self.macros.items())
        data = self.root / "data"
        (self.root / "config.xml").write_text(
            f"""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{self.root}/server.log</log><errorlog>{self.root}/server.err.log</errorlog>
    <size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{self.tcp_port}</tcp_port>
  <http_port>{self.http_port}</http_port>
  <interserver_http_port>{self.interserver_port}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>{data}/</path>
  <tmp_path>{data}/tmp/</tmp_path>
  <user_files_path>{data}/user_files/</user_files_path>
  <format_schema_path>{data}/format_schemas/</format_schema_path>
  <users_config>{self.root}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <compression><case><method>zstd</method><level>{self.zstd_level}</level></case></compression>
  <remote_servers>{self.remote_servers}</remote_servers>
  {zk}
  <macros>{macros}</macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
"""
        )
        (self.root / "users.xml").write_text(
            f"""<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>{self.max_memory_usage}</max_memory_usage><max_threads>2</max_threads></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
"""
        )

    def start(self) -> None:
        binary = server_binary()
        if binary is None:
            raise RuntimeError("clickhouse-server is not installed (scripts/test-deps installs it)")
        self._write_config()
        log = self.root / "stdout.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [binary, f"--config-file={self.root / 'config.xml'}"],
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_port(self.tcp_port, self.proc, log)

    def kill(self) -> None:
        """SIGKILL: the crash of a fault test."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self, wait: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``wait`` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def remote_servers(name: str, shards: list[list[ClickHouseServer]]) -> str:
    """A ``remote_servers`` entry: cluster ``name`` of these shards, each a list of replicas."""
    body = "".join(
        "<shard><internal_replication>true</internal_replication>"
        + "".join(f"<replica><host>127.0.0.1</host><port>{r.tcp_port}</port></replica>" for r in replicas)
        + "</shard>"
        for replicas in shards
    )
    return f"<{name}>{body}</{name}>"


def start_cluster(
    root: Path, name: str, shards: int, replicas: int, zookeeper: ZooKeeper | None = None
) -> list[list[ClickHouseServer]]:
    """``shards`` x ``replicas`` servers that all know cluster ``name`` (macros ``shard``/``replica`` set)."""
    nodes = [
        [
            ClickHouseServer(
                root,
                name=f"{name}-s{s}r{r}",
                zookeeper_port=zookeeper.port if zookeeper else None,
                macros={"shard": f"{s:02d}", "replica": f"r{r}"},
            )
            for r in range(1, replicas + 1)
        ]
        for s in range(1, shards + 1)
    ]
    config = remote_servers(name, nodes)
    for server in (n for shard in nodes for n in shard):
        server.remote_servers = config
        server.start()
    return nodes


class ZooKeeper:
    """One standalone ZooKeeper (Debian's package) on a loopback port with its own data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root / "zookeeper"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        (self.root / "zoo.cfg").write_text(
            f"tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={self.root / 'data'}\n"
            f"clientPort={self.port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
            "4lw.commands.whitelist=srvr\n"
        )

    def start(self) -> None:
        log = self.root / "zookeeper.log"
        command = [
            "java", "-Xmx256m", "-cp", f"/etc/zookeeper/conf:{ZOOKEEPER_JAR}",
            f"-Dzookeeper.log.dir={self.root}", "-Dzookeeper.root.logger=INFO,CONSOLE",
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(self.root / "zoo.cfg"),
        ]  # fmt: skip
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_port(self.port, self.proc, log)
        self._wait_ready()

    def _wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until ZooKeeper's ``srvr`` answers with its version: it accepts connections (and says ``imok``)
        before it serves sessions."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.settimeout(1)
                try:
                    s.connect(("127.0.0.1", self.port))
                    s.sendall(b"srvr")
                    if s.recv(64).startswith(b"Zookeeper version"):
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"ZooKeeper on {self.port} did not become ready within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
