"""A throwaway PostgreSQL cluster for the team tests: initdb in a temp dir, pg_ctl on a free port.

PostgreSQL refuses to run as root, so as root the cluster runs as an unprivileged
user (``postgres`` when it exists, else ``nobody``) through ``runuser``. The
admin role authenticates with a password over TCP (scram-sha-256), like a real
server; the unix socket lives in the temp dir, not in /var/run.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ADMIN_ROLE = "tbadmin"
_SEARCH_DIRS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql*/bin",
)


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then the usual places."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    candidates: list[Path] = []
    for pattern in _SEARCH_DIRS:
        candidates.extend(Path("/").glob(pattern.lstrip("/")))
    usable = [c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()]
    return max(usable, key=_version_key) if usable else None


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(path))) or (0,)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayCluster:
    """initdb + pg_ctl start in a temp dir; :meth:`stop` removes everything."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="tokenbuddy-pg-"))
        self.data = self.root / "data"
        self.password = secrets.token_urlsafe(16)
        self.port = free_port()
        self.run_as = _unprivileged_user() if os.geteuid() == 0 else None
        self.started = False

    @property
    def dsn(self) -> str:
        """The admin (superuser) DSN over TCP."""
        return f"postgresql://{ADMIN_ROLE}:{self.password}@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Create and start the cluster; returns the admin DSN."""
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            for path in (self.root, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(self.root, 0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", ADMIN_ROLE, f"--pwfile={pwfile}",
            "-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        self.started = True
        return self.dsn

    def stop(self) -> None:
        """Stop the server (immediately) and delete the cluster."""
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        """The end of the server log, for failure messages."""
        try:
            return (self.root / "server.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({result.returncode}): {result.stderr.strip()[-1500:]}"
            )


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")
