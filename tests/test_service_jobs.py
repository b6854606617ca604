"""The job queue: exclusive claims under concurrency, time limits, cancellation, progress, a
crashed analysis process, and jobs whose worker died – retried, then failed with the reason,
never half-stored. On SQLite and on the local PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from cerebro.service import jobs, runner
from cerebro.service import worker as worker_module
from cerebro.service.models import Analysis, utcnow
from service_support import *  # noqa: F403

POWER = {"kind": "power", "baseline": 0.05, "mde": 0.01}


@pytest.fixture
def queue(service, monkeypatch):
    """An empty queue before the test (other tests leave jobs behind). Executors are forked
    even if this test process has run JAX: the patched `runner.run_analysis` below reaches the
    child only by a fork, and these jobs never touch JAX."""
    monkeypatch.setattr(worker_module, "executor_start_method", lambda: "fork")
    service.run_jobs()
    return service


def submit(service, org, **extra) -> str:
    response = service.client.post(
        "/api/v1/analyses", json={"spec": POWER, **extra}, headers=org.auth()
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def job_of(service, org, job_id: str) -> dict:
    return service.client.get(f"/api/v1/analyses/{job_id}", headers=org.auth()).json()


def slow_run(seconds: float):
    def run(spec, files, refs, report=None):
        advance = report("fitting", 4)
        advance(2, "fitting")
        time.sleep(seconds)
        return {"done": True}

    return run


def in_thread(function):
    box: list = []
    thread = threading.Thread(target=lambda: box.append(function()))
    thread.start()
    return thread, box


def wait_for(predicate, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_concurrent_claims_take_each_job_once(queue, org):
    ids = {submit(queue, org) for _ in range(12)}
    claimed: list[str] = []

    def claimer(name: str) -> None:
        while True:
            with queue.sessions() as session:
                claim = jobs.claim(session, name)
            if claim is None:
                with queue.sessions() as session:
                    if not session.query(Analysis).filter_by(status="queued").count():
                        return
                continue
            claimed.append(claim.id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids)  # every job claimed, none twice


def test_a_job_past_its_time_limit_fails_with_the_reason(queue, org, monkeypatch):
    monkeypatch.setattr(runner, "run_analysis", slow_run(30))
    job = submit(queue, org, time_limit=0.5)
    started = time.monotonic()
    assert queue.worker().run_once() == "failed"
    assert time.monotonic() - started < 5
    done = job_of(queue, org, job)
    assert done["error"]["code"] == "time_limit" and done["result"] is None


def test_progress_is_stored_and_a_running_job_can_be_cancelled(queue, org, monkeypatch):
    monkeypatch.setattr(runner, "run_analysis", slow_run(30))
    job = submit(queue, org)
    thread, box = in_thread(queue.worker().run_once)
    seen = wait_for(lambda: (j := job_of(queue, org, job))["progress"] == 0.5 and j)
    assert seen["status"] == "running" and seen["progress_step"] == "fitting"
    cancel = queue.client.post(f"/api/v1/analyses/{job}/cancel", headers=org.auth())
    assert cancel.json()["status"] == "cancelling"
    thread.join(10)
    assert box == ["cancelled"]
    done = job_of(queue, org, job)
    assert done["status"] == "cancelled" and done["result"] is None
    again = queue.client.post(f"/api/v1/analyses/{job}/cancel", headers=org.auth())
    assert again.status_code == 409


def test_a_queued_job_is_cancelled_at_once(queue, org):
    job = submit(queue, org)
    cancel = queue.client.post(f"/api/v1/analyses/{job}/cancel", headers=org.auth())
    assert cancel.json()["status"] == "cancelled"
    assert queue.run_jobs() == []
    assert job_of(queue, org, job)["status"] == "cancelled"


def test_a_crashed_analysis_process_fails_the_job(queue, org, monkeypatch):
    monkeypatch.setattr(runner, "run_analysis", lambda *a, **k: os._exit(3))
    job = submit(queue, org)
    assert queue.worker().run_once() == "failed"
    assert job_of(queue, org, job)["error"]["code"] == "analysis_crashed"


def _age(service, job: str) -> None:
    """Make the job's heartbeat old, as when its worker died."""
    with service.sessions() as session:
        session.execute(
            update(Analysis).where(Analysis.id == job)
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )  # fmt: skip
        session.commit()


def test_a_job_whose_worker_died_is_retried_then_failed(queue, org):
    job = submit(queue, org)
    with queue.sessions() as session:
        first = jobs.claim(session, "dead-worker-1")
    assert first.id == job and first.attempt == 1
    _age(queue, job)
    with queue.sessions() as session:
        assert jobs.recover(session, stale_after=60) == {"requeued": 1, "failed": 0}
    with queue.sessions() as session:  # the dead worker's late result is not stored
        assert not jobs.finish(session, first, "succeeded", result={"late": True})
    assert job_of(queue, org, job)["status"] == "queued"
    with queue.sessions() as session:
        second = jobs.claim(session, "dead-worker-2")
    assert second.attempt == 2
    _age(queue, job)
    with queue.sessions() as session:
        assert jobs.recover(session, stale_after=60) == {"requeued": 0, "failed": 1}
    done = job_of(queue, org, job)
    assert done["status"] == "failed" and done["result"] is None
    assert done["error"]["code"] == "worker_lost" and "attempt 2 of 2" in done["error"]["message"]
    log = queue.client.get(f"/api/v1/audit?object_id={job}", headers=org.auth("org_admin"))
    actions = [i["action"] for i in log.json()["items"] if i["action"] != "analysis.read"]
    assert actions == ["analysis.failed", "analysis.requeued", "analysis.submit"]


def test_the_executor_is_kept_between_jobs_and_replaced_after_a_kill(queue, org, monkeypatch):
    worker = queue.worker()
    try:
        first, second = submit(queue, org), submit(queue, org)
        assert worker.run_once() == "succeeded"
        executor = worker.executor.process.pid
        assert worker.run_once() == "succeeded"
        assert worker.executor.process.pid == executor  # warm: the same process ran both
        assert {job_of(queue, org, j)["status"] for j in (first, second)} == {"succeeded"}
        monkeypatch.setattr(runner, "run_analysis", slow_run(30))
        job = submit(queue, org, time_limit=0.3)
        worker.executor.stop()  # the patched code reaches a freshly forked executor
        assert worker.run_once() == "failed"
        assert worker.executor.process is None  # killed at the limit
        monkeypatch.undo()
        submit(queue, org)
        assert worker.run_once() == "succeeded" and worker.executor.process.pid != executor
        assert job_of(queue, org, job)["error"]["code"] == "time_limit"
    finally:
        worker.close()


def test_a_fresh_heartbeat_is_not_recovered(queue, org):
    job = submit(queue, org)
    with queue.sessions() as session:
        claim = jobs.claim(session, "alive")
        assert jobs.recover(session, stale_after=60) == {"requeued": 0, "failed": 0}
        assert jobs.heartbeat(session, claim, 0.3, "step") is False
        jobs.release(session, claim)  # a stopping worker gives the job back, uncounted
    assert job_of(queue, org, job)["attempt"] == 0
    assert queue.run_jobs() == ["succeeded"]


def test_a_submission_wakes_an_idle_worker(queue, org):
    """On PostgreSQL the submitting transaction NOTIFYs and the idle worker LISTENs: the job
    starts well before the worker's 30 s fallback poll. On SQLite the worker polls."""
    from dataclasses import replace

    from cerebro.service.worker import Worker

    postgres = queue.engine.dialect.name == "postgresql"
    settings = replace(queue.settings, listen_fallback=30.0,
                       poll_every=queue.settings.poll_every if not postgres else 30.0)  # fmt: skip
    worker = Worker(settings, queue.sessions)
    thread = threading.Thread(target=worker.serve, kwargs={"max_jobs": 1})
    thread.start()
    try:
        if postgres:
            assert wait_for(lambda: worker.listener.connection is not None)
        time.sleep(0.3)  # idle, waiting
        job = submit(queue, org)
        thread.join(timeout=20)
        assert not thread.is_alive()
    finally:
        worker.stopping = True
        thread.join(timeout=40)
    done = job_of(queue, org, job)
    assert done["status"] == "succeeded"
    started = datetime.fromisoformat(done["started_at"]) - datetime.fromisoformat(
        done["created_at"]
    )
    assert started < timedelta(seconds=2), started


def test_a_notification_is_sent_only_on_commit(service):
    """The wake-up rides on the submitting transaction: a rolled-back submission wakes no one,
    a committed one does; on SQLite the listener only sleeps its poll."""
    from cerebro.service.wakeup import Listener, announce

    listener = Listener(service.engine)
    try:
        if service.engine.dialect.name != "postgresql":
            started = time.monotonic()
            assert listener.wait(30.0, 0.05) is False
            assert time.monotonic() - started < 5
            return
        assert listener.wait(5.0, 5.0) is True  # just started listening: look at the queue
        with service.sessions() as session:
            announce(session)
            session.rollback()
        assert listener.wait(0.5, 0.5) is False
        with service.sessions() as session:
            announce(session)
            session.commit()
        assert listener.wait(5.0, 5.0) is True
    finally:
        listener.close()


def test_an_executor_is_spawned_once_jax_runs_here(queue, org, monkeypatch):
    """A fork of a process whose JAX runtime has started hangs at the child's first JAX
    computation (its thread pool is not copied), so such a process spawns its executors –
    and a job still runs to its end."""
    import jax.numpy as jnp

    monkeypatch.undo()  # the real choice of start method
    float(jnp.ones(3).sum())  # JAX's runtime started in this process
    assert worker_module.executor_start_method() == "spawn"
    running = queue.worker()
    try:
        job = submit(queue, org)
        assert running.run_once() == "succeeded", job_of(queue, org, job)["error"]
    finally:
        running.close()
