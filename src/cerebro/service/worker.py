"""A worker process: claims queued analyses from the database and runs each in its executor –
a child process it keeps between jobs and can kill for a time limit, a cancellation or its own
shutdown – renewing its claim (the heartbeat) and storing progress while the job runs. The
executor never touches the database: the worker stores every outcome.

Run as `python -m cerebro.service.worker --db URL --data-dir DIR` (`cerebro serve` starts
`--workers N` of them). A worker that dies leaves its job `running` with a stale heartbeat; any
worker's recovery (at start and every 10 s) queues it again or fails it with the reason.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cerebro.service import jobs
from cerebro.service.config import Settings
from cerebro.service.db import make_engine, session_factory
from cerebro.service.models import Analysis, Dataset
from cerebro.service.runner import executor_main
from cerebro.service.specs import MODEL_MAKERS
from cerebro.service.wakeup import Listener

log = logging.getLogger("cerebro.service.worker")
RECOVER_EVERY = 10.0  # seconds between stale-job sweeps
INDEX_EVERY = 5.0  # seconds between knowledge-search indexing batches while idle
DB_RETRY = 2.0  # seconds to wait after a database error


def executor_start_method() -> str:
    """'fork' (the child inherits the imported kinds: no seconds of imports per job) unless this
    process has started JAX's runtime: its thread pool does not survive a fork, and a forked
    child's first JAX computation then hangs – a process that ran a Bayesian fit itself (a
    test process, an embedding caller) starts its executors by 'spawn' instead."""
    bridge = sys.modules.get("jax._src.xla_bridge")
    return "spawn" if getattr(bridge, "_backends", None) else "fork"


class Executor:
    """The process that runs a worker's jobs, one after another: forked once from the worker
    (whose kinds are imported) and kept, so a job after the first starts with the data path
    warm instead of repeating its first-run set-up; killed – and forked again for the next job –
    on a time limit, a cancellation, a crash or shutdown, and replaced every `RECYCLE_AFTER`
    jobs so no state grows without bound."""

    RECYCLE_AFTER = 100

    def __init__(self) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        self.jobs = 0

    def submit(
        self, spec: dict[str, Any], files: dict[str, str], refs: dict[str, str]
    ) -> Connection:
        if self.process is None or not self.process.is_alive() or self.jobs >= self.RECYCLE_AFTER:
            self.stop()
            context = multiprocessing.get_context(executor_start_method())
            self.conn, child = context.Pipe(duplex=True)
            self.process = context.Process(target=executor_main, args=(child,))
            self.process.start()
            child.close()
            self.jobs = 0
        self.jobs += 1
        self.conn.send((spec, files, refs))
        return self.conn

    def stop(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.conn.close()
        self.process, self.conn = None, None


class Worker:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session] | None = None) -> None:
        self.settings = settings
        self.sessions = sessions or session_factory(make_engine(settings.db_url))
        self.name = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.stopping = False
        self.parent: int | None = None  # stop when this process (`cerebro serve`) is gone
        self.executor = Executor()
        self.listener = Listener(self.sessions.kw["bind"])

    @property
    def should_stop(self) -> bool:
        if self.parent is not None and os.getppid() != self.parent:
            self.stopping = True  # orphaned: the API that started us was killed
        return self.stopping

    def files_for(self, claim: jobs.Claim) -> tuple[dict[str, str], dict[str, str]] | None:
        """The server files of the job's references, by spec field, and the references to show
        in the result instead of them: `dataset:<id>` (its data, or mmm_predict's plan) and
        `model:<id>` (a kept model) are resolved within the job's organisation; a kind that
        keeps its model gets its `save` file. None when a referenced object was deleted after
        the submission."""
        files, refs = {}, {}
        with self.sessions() as session:
            for field, ref in claim.spec.items():
                if not isinstance(ref, str) or field not in ("data", "plan", "model"):
                    continue
                prefix, _, object_id = ref.partition(":")
                if prefix == "dataset":
                    dataset = session.get(Dataset, object_id)
                    if dataset is None or dataset.org_id != claim.org_id:
                        return None
                    files[field] = str(self.settings.data_dir / dataset.path)
                elif prefix == "model":
                    source = session.get(Analysis, object_id)
                    path = self.settings.model_path(object_id)
                    if source is None or source.org_id != claim.org_id or not path.exists():
                        return None
                    files[field] = str(path)
                else:
                    continue
                refs[field] = ref
        if claim.spec.get("kind") in MODEL_MAKERS:
            files["save"] = str(self.settings.model_path(claim.id))
            refs["save"] = f"model:{claim.id}"
        return files, refs

    def run_once(self) -> str | None:
        """Claim and run one job; returns its final status, or None when the queue is empty."""
        with self.sessions() as session:
            claim = jobs.claim(session, self.name)
        if claim is None:
            return None
        found = self.files_for(claim)
        if found is None:
            error = {"code": "dataset_deleted", "message": "its dataset or model was deleted."}
            return self._finish(claim, "failed", error=error)
        return self.supervise(claim, *found)

    def _finish(self, claim: jobs.Claim, status: str, **outcome: Any) -> str:
        with self.sessions() as session:
            stored = jobs.finish(session, claim, status, **outcome)
        return status if stored else "lost"

    def supervise(self, claim: jobs.Claim, files: dict[str, str], refs: dict[str, str]) -> str:
        """Run the job in the executor; stop it on the time limit, on cancellation or on
        shutdown (the executor is then killed and replaced on the next job)."""
        conn = self.executor.submit(claim.spec, files, refs)
        deadline = time.monotonic() + claim.time_limit
        beat, progress, outcome = 0.0, (0.0, None), None
        finished = False  # the executor answered and can take the next job
        try:
            while outcome is None:
                if conn.poll(self.settings.poll_every):
                    try:
                        message = conn.recv()
                    except EOFError:
                        message = ("error", "analysis_crashed", "the analysis process died.")
                    if message[0] == "progress":
                        progress = (message[1], message[2])
                        continue
                    outcome, finished = message, message[1] != "analysis_crashed"
                    break
                if time.monotonic() > deadline:
                    limit = f"{claim.time_limit:g}"
                    outcome = ("error", "time_limit", f"the analysis ran past its {limit} s limit.")
                elif self.should_stop:
                    with self.sessions() as session:
                        jobs.release(session, claim)
                    return "released"
                elif time.monotonic() - beat >= self.settings.heartbeat_every:
                    beat = time.monotonic()
                    with self.sessions() as session:
                        cancel = jobs.heartbeat(session, claim, *progress)
                    if cancel is None:
                        return "lost"  # recovered as stale by another worker
                    if cancel:
                        message = "cancelled while running."
                        return self._finish(
                            claim, "cancelled", error={"code": "cancelled", "message": message}
                        )
        finally:
            if not finished:
                self.executor.stop()
        if outcome[0] == "done":
            return self._finish(claim, "succeeded", result=outcome[1])
        return self._finish(claim, "failed", error={"code": outcome[1], "message": outcome[2]})

    def close(self) -> None:
        self.executor.stop()
        self.listener.close()

    def index_knowledge(self) -> int:
        """Between jobs: index and embed a batch of new objects for knowledge search (see
        `knowledge_documents.catch_up`); how many were embedded."""
        from cerebro.service.knowledge_documents import catch_up

        try:
            with self.sessions() as session:
                return catch_up(session)
        except Exception:  # searches index on their own: a failure here must not stop jobs
            log.exception("knowledge indexing failed; searches will index instead")
            return 0

    def recover(self) -> dict[str, int]:
        with self.sessions() as session:
            return jobs.recover(session, self.settings.stale_after)

    def serve(self, max_jobs: int | None = None) -> None:
        """Poll until stopped (SIGTERM/SIGINT), recovering stale jobs at start and now and then."""
        try:
            self._serve(max_jobs)
        finally:
            self.close()

    def _serve(self, max_jobs: int | None) -> None:
        done, last_recovery, last_indexing = 0, 0.0, 0.0
        while not self.should_stop and (max_jobs is None or done < max_jobs):
            try:
                if time.monotonic() - last_recovery >= RECOVER_EVERY:
                    last_recovery = time.monotonic()
                    counts = self.recover()
                    if any(counts.values()):
                        log.warning("recovered stale jobs: %s", counts)
                status = self.run_once()
            except DBAPIError as err:  # the database restarting or unreachable: wait, retry
                log.warning("database error, retrying in %s s: %s", DB_RETRY, str(err)[:200])
                time.sleep(DB_RETRY)
                continue
            if status is None:
                if time.monotonic() - last_indexing >= INDEX_EVERY:
                    last_indexing = time.monotonic()
                    self.index_knowledge()
                self.listener.wait(self.settings.listen_fallback, self.settings.poll_every)
            else:
                done += 1


def preload() -> None:
    """Import every registered kind (and its numerics' libraries) once, in the worker, so each
    job's forked child starts with them imported instead of paying seconds of imports per job.
    No kind starts threads or a JAX backend on import, so forking stays safe."""
    from cerebro.core.registry import methods

    methods()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A Cerebro job worker.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--stale-after", type=float, default=Settings.stale_after)
    parser.add_argument("--poll-every", type=float, default=Settings.poll_every)
    parser.add_argument("--heartbeat-every", type=float, default=Settings.heartbeat_every)
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="Stop when the starting process dies."
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    settings = Settings(
        db_url=args.db,
        data_dir=Path(args.data_dir),
        stale_after=args.stale_after,
        poll_every=args.poll_every,
        heartbeat_every=args.heartbeat_every,
    )
    preload()
    worker = Worker(settings)
    if args.exit_with_parent:
        worker.parent = os.getppid()

    def stop(_signum: int, _frame: Any) -> None:
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.serve()


if __name__ == "__main__":
    main()
