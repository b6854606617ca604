"""The real thing: `cerebro serve` (uvicorn on 127.0.0.1 and a separate worker process) on the
local PostgreSQL, the production database (on SQLite when PostgreSQL is unreachable; the
in-process tests cover both) – an analysis end to end, then a crash test: the API, the
worker and the analysis killed mid-job; after a restart the job is finished, none is lost and
none is partial. Every process is stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app as cli
from cerebro.run import run_spec
from service_support import *  # noqa: F403
from service_support import AB_SPEC, PG_SERVER, _postgres_database, ab_csv

SLOW = {"kind": "bandit", "simulate": True, "means": [0.1, 0.12], "policies": ["thompson", "ucb1"],
        "horizon": 20_000, "runs": 80}  # fmt: skip
CEREBRO = [sys.executable, "-c", "from cerebro.cli.main import main; main()"]


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    import psycopg

    try:
        psycopg.connect(f"{PG_SERVER}/test", connect_timeout=3).close()
    except psycopg.OperationalError:
        yield f"sqlite:///{tmp_path_factory.mktemp('real') / 'cerebro.db'}"
        return
    yield from _postgres_database()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(db_url: str, data_dir: Path, port: int, log: Path, api: int = 1) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    command = [*CEREBRO, "serve", "--db", db_url, "--port", str(port), "--workers", "1",
               "--data-dir", str(data_dir), "--stale-after", "1", "--api-workers", str(api)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
        assert process.poll() is None, log.read_text()[-3000:]
    raise AssertionError("the server did not start: " + log.read_text()[-3000:])


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def live_members(group: int) -> list[str]:
    """The processes of a process group that still run (zombies – exited, not yet reaped by
    an init that does not reap – do not count)."""
    out = subprocess.run(["ps", "-eo", "pgid=,stat=,pid=,args="], capture_output=True, text=True)
    rows = [line.split(None, 3) for line in out.stdout.splitlines()]
    return [" ".join(r) for r in rows if r[0] == str(group) and not r[1].startswith("Z")]


def wait_until_gone(group: int, timeout: float = 15) -> bool:
    end = time.monotonic() + timeout
    while live_members(group):
        if time.monotonic() > end:
            return False
        time.sleep(0.2)
    return True


def wait_job(client: httpx.Client, job: str, until: tuple[str, ...], timeout: float = 90) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = client.get(f"/api/v1/analyses/{job}").json()
        if body["status"] in until:
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job} stayed {body['status']}")


def admin_token(db_url: str) -> str:
    runner = CliRunner()
    org = f"srv{os.urandom(3).hex()}"
    assert runner.invoke(cli, ["admin", "create-org", org, "--db", db_url]).exit_code == 0
    made = runner.invoke(cli, ["admin", "create-user", f"a@{org}.example", "--org", org,
                               "--role", "causal_admin", "--db", db_url])  # fmt: skip
    assert made.exit_code == 0, made.output
    return made.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_serve_runs_an_analysis_and_survives_a_crash(real_db, tmp_path):
    db_url = real_db
    port, data_dir, log = free_port(), tmp_path / "data", tmp_path / "server.log"
    server = start(db_url, data_dir, port, log)
    try:
        headers = {"Authorization": f"Bearer {admin_token(db_url)}"}
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30)
        uploaded = client.post("/api/v1/datasets", files={"file": ("ab.csv", ab_csv())})
        assert uploaded.status_code == 201, uploaded.text
        dataset = uploaded.json()["id"]
        job = client.post("/api/v1/analyses", json={"dataset_id": dataset, "spec": AB_SPEC})
        done = wait_job(client, job.json()["id"], ("succeeded", "failed"))
        assert done["status"] == "succeeded", done["error"]
        (tmp_path / "ab.csv").write_bytes(ab_csv())
        expected = run_spec({**AB_SPEC, "data": str(tmp_path / "ab.csv")}).to_dict()
        assert done["result"]["estimates"] == expected["estimates"]

        slow = client.post("/api/v1/analyses", json={"spec": SLOW}).json()["id"]
        quick = client.post("/api/v1/analyses", json={"spec": SLOW | {"runs": 5}}).json()["id"]
        wait_job(client, slow, ("running",))
        kill_group(server)  # the API, the worker and the analysis it runs, all at once
        server = start(db_url, data_dir, port, log, api=2)  # restarted with two API processes
        for job_id in (slow, quick):
            finished = wait_job(client, job_id, ("succeeded", "failed", "cancelled"))
            assert finished["status"] == "succeeded", finished["error"]
            assert finished["result"]["kind"] == "bandit" and finished["result"]["estimates"]
        assert client.get(f"/api/v1/analyses/{slow}").json()["attempt"] == 2
        for item in client.get("/api/v1/analyses?limit=500").json()["items"]:
            full = client.get(f"/api/v1/analyses/{item['id']}").json()
            assert full["status"] in ("succeeded", "failed", "cancelled")
            assert (full["result"] is not None) == (full["status"] == "succeeded")
            assert full["status"] == "succeeded" or full["error"]["message"]
        client.close()
        server.send_signal(signal.SIGTERM)  # a clean stop also stops the workers
        server.wait(30)
        assert wait_until_gone(server.pid), "a worker outlived the server"
    finally:
        kill_group(server)


def read_response(connection: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (its head, then Content-Length bytes of body); b"" if the
    server closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))  # fmt: skip
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.mark.slow
def test_an_idle_connection_outlives_an_http_clients_keep_alive(tmp_path):
    """A connection idle for longer than httpx keeps one (5 s, uvicorn's default timeout too)
    still serves the next request: the client closes an idle connection before the server
    does, so no request is sent into a connection the server is closing (the resets seen at
    50 clients)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    command = [*CEREBRO, "serve", "--db", f"sqlite:///{tmp_path / 'k.db'}", "--port", str(port),
               "--workers", "0", "--data-dir", str(tmp_path / "data")]  # fmt: skip
    log = tmp_path / "serve.log"
    server = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    try:
        end = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < end and server.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            for idle in (0.0, 6.0):
                time.sleep(idle)
                connection.sendall(request)
                answer = read_response(connection)
                assert answer.startswith(b"HTTP/1.1 200"), (idle, answer[:200])
    finally:
        kill_group(server)
