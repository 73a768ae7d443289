"""PgBouncer in transaction pooling mode in front of the test PostgreSQL: Debian's
``pgbouncer`` (``.ci/run`` installs it), on a free port, with its own configuration in a
temporary directory, for the tests that prove Stockpot works behind it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

CONFIG = """\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = {pool}
reserve_pool_size = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {dir}/pgbouncer.log
pidfile = {dir}/pgbouncer.pid
"""

POOL_SIZE = 12
"""Server connections per database and user: far fewer than the clients of the scale test,
so transactions of different processes really share server connections."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2, prepare_threshold=None) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def running(postgres_url: str) -> Iterator[str]:
    """The test database's URL through PgBouncer (transaction pooling), while it runs."""
    if not Path(BINARY).exists():
        reason = "pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)"
        if os.environ.get("TEST_REQUIRE_POSTGRESQL"):
            pytest.fail(reason)
        pytest.skip(reason)
    target = make_url(postgres_url)
    workdir = Path(tempfile.mkdtemp(prefix="stockpot-pgbouncer-"))
    listen = _free_port()
    (workdir / "userlist.txt").write_text(f'"{target.username}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        CONFIG.format(
            host=target.host or "127.0.0.1",
            port=target.port or 5432,
            listen=listen,
            dir=workdir,
            pool=POOL_SIZE,
        )
    )
    command = [BINARY, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root: it runs as postgres, which must read its files.
        shutil.chown(workdir, "postgres")
        for path in workdir.iterdir():
            shutil.chown(path, "postgres")
        command = [BINARY, "-u", "postgres", str(workdir / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = target.set(port=listen).render_as_string(hide_password=False)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        deadline = time.monotonic() + 30
        while not _answers(plain):  # a process's port has no event to wait on
            if process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (workdir / "pgbouncer.log").read_text()
                    if (workdir / "pgbouncer.log").exists()
                    else ""
                )
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"pgbouncer did not start: {output} {log}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
