"""The service's routes, in process (TestClient), on SQLite and on the local PostgreSQL:
datasets and their profile, the experiment registry and its lifecycle, analyses run as jobs
giving the same JSON numbers as `cerebro run`, idempotency keys, the audit log and the error
shape."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from cerebro.cli.main import app as cli
from cerebro.service.models import Analysis, AuditEntry, Dataset, Experiment
from service_support import *  # noqa: F403
from service_support import AB_SPEC, ab_csv, upload, upload_ab

runner = CliRunner()


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert "Traceback" not in response.text
    if code:
        assert error["code"] == code, error
    return error


def test_health_and_openapi(service):
    health = service.client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = service.client.get("/openapi.json").json()
    assert "/api/v1/analyses" in spec["paths"] and "/api/v1/datasets/{dataset_id}" in spec["paths"]
    assert service.client.get("/docs").status_code == 200


def test_an_unreachable_database_is_a_503(tmp_path):
    from fastapi.testclient import TestClient

    from cerebro.service.app import create_app
    from cerebro.service.config import Settings

    settings = Settings(db_url="postgresql://127.0.0.1:1/none", data_dir=tmp_path)
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    assert_error(client.get("/health"), 503, "unavailable")
    listed = client.get("/api/v1/datasets", headers={"Authorization": "Bearer cb_x"})
    assert_error(listed, 503, "unavailable")


def test_errors_are_json_without_traces(service, org):
    assert_error(service.client.get("/api/v1/nowhere"), 404, "not_found")
    assert_error(service.client.get("/api/v1/datasets"), 401, "unauthorised")
    bad = {"Authorization": "Bearer cb_not-a-token"}
    assert_error(service.client.get("/api/v1/datasets", headers=bad), 401)
    error = assert_error(
        service.client.post("/api/v1/experiments", json={"name": "x"}, headers=org.auth()), 422
    )
    assert error["field"] == "treatment_groups"
    broken = service.client.post(
        "/api/v1/experiments",
        content=b"{not json",
        headers={**org.auth(), "content-type": "application/json"},
    )
    assert_error(broken, 422)
    # CORS is off by default: no allow-origin header even when a browser asks
    asked = service.client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in asked.headers


def test_upload_profile_list_get_delete(service, org):
    csv = b"date,unit,y,group\n2024-01-02,a,1.5,x\n2024-01-01,b,,y\n2024-01-01,b,,y\n2024-01-03,c,2.0,x\n"
    created = upload(service, org, csv, "panel.csv")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["rows"] == 4 and body["columns"] == ["date", "unit", "y", "group"]
    profile = body["profile"]
    types = {c["name"]: c["type"] for c in profile["columns"]}
    assert types == {"date": "date", "unit": "text", "y": "number", "group": "text"}
    missing = {c["name"]: c["missing"] for c in profile["columns"]}
    assert missing["y"] == 2 and profile["duplicate_rows"] == 1
    (time,) = profile["time_order"]
    assert time["column"] == "date" and time["sorted"] is False and time["repeated_values"] == 1
    codes = {f["code"] for f in profile["findings"]}
    assert {"duplicate_rows", "mostly_missing", "not_time_ordered"} <= codes
    stored = service.settings.data_dir / org.id / body["id"] / "panel.csv"
    assert stored.read_bytes() == csv
    listed = service.client.get("/api/v1/datasets?q=PANEL", headers=org.auth("causal_analyst"))
    assert [d["id"] for d in listed.json()["items"]] == [body["id"]]
    got = service.client.get(f"/api/v1/datasets/{body['id']}", headers=org.auth("causal_analyst"))
    assert got.json()["profile"] == profile
    assert (
        service.client.delete(f"/api/v1/datasets/{body['id']}", headers=org.auth()).status_code
        == 204
    )
    assert not stored.exists()
    assert_error(service.client.get(f"/api/v1/datasets/{body['id']}", headers=org.auth()), 404)


def test_uploads_refused_with_one_sentence(service, org):
    empty = assert_error(upload(service, org, b"", "empty.csv"), 422, "invalid_data")
    assert "'empty.csv'" in empty["message"] and "empty" in empty["message"]
    semicolons = assert_error(upload(service, org, b"a;b\n1;2\n3;4\n", "semi.csv"), 422)
    assert "semicolons" in semicolons["message"]
    assert_error(upload(service, org, b"x", "data.xlsx"), 415, "unsupported_media_type")
    big = b"a,b\n" + b"1,2\n" * 70_000  # 280 KB > the test limit of 256 KiB
    assert_error(upload(service, org, big, "big.csv"), 413, "too_large")
    with service.sessions() as session:
        count = session.execute(select(func.count()).select_from(Dataset)
                                .where(Dataset.org_id == org.id)).scalar_one()  # fmt: skip
    assert count == 0
    assert (
        not any((service.settings.data_dir / org.id).glob("*/*"))
        if (service.settings.data_dir / org.id).exists()
        else True
    )


def test_json_bodies_are_size_limited(service, org):
    big = {"name": "x", "treatment_groups": ["B"], "randomization_unit": "u",
           "description": "d" * (service.settings.max_body_bytes + 10)}  # fmt: skip
    response = service.client.post("/api/v1/experiments", json=big, headers=org.auth())
    assert_error(response, 413, "too_large")


def test_a_job_whose_dataset_was_deleted_fails_with_the_reason(service, org):
    dataset = upload_ab(service, org)
    job = service.client.post(
        "/api/v1/analyses", json={"dataset_id": dataset, "spec": AB_SPEC}, headers=org.auth()
    ).json()
    assert (
        service.client.delete(f"/api/v1/datasets/{dataset}", headers=org.auth()).status_code == 204
    )
    service.run_jobs()
    done = service.client.get(f"/api/v1/analyses/{job['id']}", headers=org.auth()).json()
    assert done["status"] == "failed" and done["dataset_id"] is None
    assert done["error"]["code"] == "dataset_deleted"


def test_experiment_registry_lifecycle_and_search(service, org):
    dataset = upload_ab(service, org)
    fields = {"name": "Checkout button", "treatment_groups": ["B", "C"], "control_groups": ["control"],
              "randomization_unit": "user", "start_date": "2024-03-01", "end_date": "2024-03-28",
              "dataset_ids": [dataset]}  # fmt: skip
    created = service.client.post("/api/v1/experiments", json=fields, headers=org.auth())
    assert created.status_code == 201, created.text
    exp = created.json()
    assert exp["status"] == "draft" and exp["dataset_ids"] == [dataset]
    url = f"/api/v1/experiments/{exp['id']}"
    skip = service.client.patch(url, json={"status": "analysed"}, headers=org.auth())
    assert "draft" in assert_error(skip, 409, "invalid_transition")["message"]
    for status in ("running", "stopped", "analysed"):
        moved = service.client.patch(url, json={"status": status}, headers=org.auth())
        assert moved.status_code == 200 and moved.json()["status"] == status, moved.text
    back = service.client.patch(url, json={"status": "running"}, headers=org.auth())
    assert_error(back, 409, "invalid_transition")
    dates = service.client.patch(url, json={"end_date": "2024-02-01"}, headers=org.auth())
    assert "before start_date" in assert_error(dates, 422)["message"]
    other = {**fields, "name": "Pricing page", "randomization_unit": "session", "dataset_ids": []}
    service.client.post("/api/v1/experiments", json=other, headers=org.auth())
    viewer = org.auth("viewer")
    found = service.client.get("/api/v1/experiments?q=checkout", headers=viewer).json()
    assert [e["name"] for e in found["items"]] == ["Checkout button"]
    by_status = service.client.get("/api/v1/experiments?status=draft", headers=viewer).json()
    assert [e["name"] for e in by_status["items"]] == ["Pricing page"]
    by_unit = service.client.get("/api/v1/experiments?randomization_unit=user", headers=viewer)
    assert by_unit.json()["total"] == 1
    overlap = {**fields, "control_groups": ["B"]}
    assert_error(service.client.post("/api/v1/experiments", json=overlap, headers=org.auth()), 422)


def _cli_json(tmp_path: Path, spec: dict, data: bytes) -> tuple[int, dict | str]:
    (tmp_path / "ab.csv").write_bytes(data)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({**spec, "data": "ab.csv"}))
    out = runner.invoke(cli, ["run", str(tmp_path / "spec.yaml"), "--json"])
    return out.exit_code, (json.loads(out.stdout) if out.exit_code == 0 else out.output)


def _without_data(result: dict) -> dict:
    return {**result, "spec": {k: v for k, v in result["spec"].items() if k != "data"}}


def test_an_analysis_via_the_api_equals_cerebro_run(service, org, tmp_path):
    dataset = upload_ab(service, org)
    exp = service.client.post(
        "/api/v1/experiments",
        json={"name": "AB", "treatment_groups": ["B", "C"], "randomization_unit": "user"},
        headers=org.auth(),
    ).json()
    submitted = service.client.post(
        "/api/v1/analyses",
        json={"dataset_id": dataset, "experiment_id": exp["id"], "spec": AB_SPEC},
        headers=org.auth("causal_analyst"),
    )
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert job["status"] == "queued" and job["result"] is None
    service.run_jobs()
    done = service.client.get(f"/api/v1/analyses/{job['id']}", headers=org.auth("viewer")).json()
    assert done["status"] == "succeeded" and done["progress"] == 1.0
    code, expected = _cli_json(tmp_path, AB_SPEC, ab_csv())
    assert code == 0, expected
    assert done["result"]["spec"]["data"] == f"dataset:{dataset}"
    assert _without_data(done["result"]) == _without_data(expected)  # every number, exactly
    linked = service.client.get(f"/api/v1/experiments/{exp['id']}", headers=org.auth("viewer"))
    assert linked.json()["analysis_ids"] == [job["id"]]
    report = service.client.get(f"/api/v1/analyses/{job['id']}/report", headers=org.auth("viewer"))
    assert report.status_code == 200 and report.text.startswith("<!doctype html>")
    assert "revenue" in report.text
    plot = service.client.get(f"/api/v1/analyses/{job['id']}/plot", headers=org.auth("viewer"))
    assert plot.status_code == 200 and plot.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_invalid_specs_get_the_cli_sentences(service, org, tmp_path):
    dataset = upload_ab(service, org)
    cases = [
        {**AB_SPEC, "alpha": 2},
        {**AB_SPEC, "no_such_option": 1},
        {"kind": "no_such_kind"},
    ]
    for spec in cases:
        response = service.client.post(
            "/api/v1/analyses", json={"dataset_id": dataset, "spec": spec}, headers=org.auth()
        )
        error = assert_error(response, 422, "invalid_spec")
        code, output = _cli_json(tmp_path, spec, ab_csv())
        assert code == 2
        assert error["message"] in " ".join(str(output).split()), (error, output)
    server_path = {**AB_SPEC, "data": "/etc/passwd"}
    response = service.client.post("/api/v1/analyses", json={"dataset_id": dataset, "spec": server_path},
                                   headers=org.auth())  # fmt: skip
    assert assert_error(response, 422, "invalid_spec")["field"] == "spec.data"
    no_data = service.client.post("/api/v1/analyses", json={"spec": AB_SPEC}, headers=org.auth())
    assert assert_error(no_data, 422)["field"] == "dataset_id"
    power = service.client.post(
        "/api/v1/analyses", json={"spec": {"kind": "power", "baseline": 0.05, "mde": 0.01}},
        headers=org.auth(),
    )  # fmt: skip
    assert power.status_code == 202


def test_a_missing_column_fails_the_job_with_the_cli_sentence(service, org, tmp_path):
    dataset = upload_ab(service, org)
    spec = {**AB_SPEC, "outcome": ["no_such_column"]}
    job = service.client.post(
        "/api/v1/analyses", json={"dataset_id": dataset, "spec": spec}, headers=org.auth()
    ).json()
    service.run_jobs()
    done = service.client.get(f"/api/v1/analyses/{job['id']}", headers=org.auth()).json()
    assert done["status"] == "failed" and done["result"] is None
    assert done["error"]["code"] == "invalid_input"
    code, output = _cli_json(tmp_path, spec, ab_csv())
    assert code == 2 and "no_such_column" in done["error"]["message"]
    assert done["error"]["message"] in " ".join(str(output).split())


def test_idempotency_keys_create_once(service, org):
    body = {"name": "Once", "treatment_groups": ["B"], "randomization_unit": "user"}
    headers = {**org.auth(), "Idempotency-Key": "exp-1"}
    first = service.client.post("/api/v1/experiments", json=body, headers=headers)
    again = service.client.post("/api/v1/experiments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    changed = service.client.post(
        "/api/v1/experiments", json={**body, "name": "Twice"}, headers=headers
    )
    assert_error(changed, 409, "idempotency_key_reused")
    up1 = upload(service, org, ab_csv(), "ab.csv", **{"Idempotency-Key": "ds-1"})
    up2 = upload(service, org, ab_csv(), "ab.csv", **{"Idempotency-Key": "ds-1"})
    assert up1.json()["id"] == up2.json()["id"]
    spec = {"dataset_id": up1.json()["id"], "spec": AB_SPEC}
    a1 = service.client.post(
        "/api/v1/analyses", json=spec, headers={**org.auth(), "Idempotency-Key": "an-1"}
    )
    a2 = service.client.post(
        "/api/v1/analyses", json=spec, headers={**org.auth(), "Idempotency-Key": "an-1"}
    )
    assert a1.status_code == a2.status_code == 202 and a1.json()["id"] == a2.json()["id"]
    with service.sessions() as session:
        names = session.execute(
            select(Experiment.name).where(Experiment.org_id == org.id)
        ).scalars()
        datasets = session.execute(select(Dataset.id).where(Dataset.org_id == org.id)).scalars()
        analyses = session.execute(select(Analysis.id).where(Analysis.org_id == org.id)).scalars()
        assert list(names) == ["Once"] and len(list(datasets)) == 1 and len(list(analyses)) == 1
    assert (
        len(list((service.settings.data_dir / org.id).iterdir())) == 1
    )  # the retry's file removed


def test_reads_and_writes_are_audited_and_failures_leave_no_row(service, org):
    dataset = upload_ab(service, org)
    service.client.get(f"/api/v1/datasets/{dataset}", headers=org.auth("causal_analyst"))
    refused = service.client.post(
        "/api/v1/experiments", json={"name": "", "treatment_groups": []}, headers=org.auth()
    )
    assert refused.status_code == 422
    log = service.client.get("/api/v1/audit", headers=org.auth("org_admin"))
    assert log.status_code == 200
    items = log.json()["items"]
    actions = [(i["action"], i["object_id"], i["user"]) for i in items]
    analyst = next(i for i in items if i["action"] == "dataset.read")
    assert analyst["user"].startswith("causal_analyst.") and analyst["ip"]
    assert ("dataset.create", dataset, items[-1]["user"]) in actions
    assert not any(a.startswith("experiment.") for a, _, _ in actions)
    with service.sessions() as session:
        orgs = set(
            session.execute(
                select(AuditEntry.org_id).where(AuditEntry.object_id == dataset)
            ).scalars()
        )
    assert orgs == {org.id}


def test_an_uploaded_parquet_file_is_profiled_as_pandas_profiles_it(service, org, tmp_path):
    """The stored file's profile (DuckDB SQL over the file, in the API process) is the pandas
    profile of the whole table (tests/test_service_profile.py has the corpus)."""
    import pandas as pd

    from profile_reference import reference_profile

    frame = pd.DataFrame({"day": ["2024-01-02", "2024-01-01", None], "y": [1.5, None, 1.5],
                          "n": pd.array([1, 1, None], dtype="Int64")})  # fmt: skip
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    created = upload(service, org, path.read_bytes(), "p.parquet")
    assert created.status_code == 201, created.text
    assert created.json()["profile"] == reference_profile(path)
