"""A throw-away PostgreSQL server for the benchmarks, which they may load and restart at will.

It never touches the shared server: initdb in a temporary directory, a free port, a socket
directory of its own; as root, through the postgres account (initdb refuses root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql")


class PrivateCluster:
    """A throw-away PostgreSQL server of our own, which we may restart at will."""

    def __init__(self, *settings: str) -> None:
        #: extra server settings, e.g. "shared_preload_libraries=pg_stat_statements"
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="guichet_faults_"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.sockets.mkdir()
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(_tool(tool)), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,  # noqa: S603 - our own argv, no shell
                       stderr=subprocess.DEVNULL)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200 -c fsync=off" + "".join(f" -c {s}" for s in self.settings))
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l", str(self.root / "log"),
                  action, *extra)

    def restart(self) -> None:
        """Stop at once (open connections are cut) and start again."""
        self._pg_ctl("restart", "-m", "fast")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _tool(name: str) -> Path:
    found = shutil.which(name)
    if found:
        return Path(found)
    versions = sorted(PG_BIN.glob(f"*/bin/{name}"))
    if not versions:
        raise SystemExit(f"{name} introuvable : installez PostgreSQL (paquet postgresql).")
    return versions[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])




def cpu_seconds(pid: int) -> float:
    """CPU used by a process and all its children, dead (reaped) or alive, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")

    def times(p: int, *, with_reaped: bool) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        used = int(fields[11]) + int(fields[12])  # utime, stime
        if with_reaped:
            used += int(fields[13]) + int(fields[14])  # cutime, cstime
        return used / tick

    total = times(pid, with_reaped=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                total += times(int(entry.name), with_reaped=True)
    return total
