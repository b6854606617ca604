"""`/api/v1/causal/treatment-effect` and `/api/v1/causal/analyze/advanced`: the same numbers as
running the `causal` spec directly; several methods side by side; all jobs or none."""

from __future__ import annotations

import io

from cerebro.observational.examples import causal as causal_example
from cerebro.run import run_spec
from service_support import *  # noqa: F403
from service_support import upload


def causal_dataset(service, org, tmp_path) -> tuple[str, str]:
    _fields, frame = causal_example()
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    path = tmp_path / "obs.csv"
    path.write_text(buffer.getvalue())
    response = upload(service, org, buffer.getvalue().encode(), "obs.csv")
    assert response.status_code == 201, response.text
    return response.json()["id"], str(path)


QUESTION = {"treatment": "a", "outcome": "y", "confounders": ["x1", "x2"]}


def direct(path: str, method: str) -> list[dict]:
    spec = {"kind": "causal", **QUESTION, "method": method, "data": path}
    return run_spec(spec).to_dict()["estimates"]


def test_treatment_effect_equals_the_causal_spec(service, org, tmp_path):
    dataset, path = causal_dataset(service, org, tmp_path)
    job = service.client.post(
        "/api/v1/causal/treatment-effect",
        json={"dataset_id": dataset, **QUESTION, "method": "ipw"},
        headers=org.auth("causal_analyst"),
    )
    assert job.status_code == 202, job.text
    assert job.json()["spec"]["kind"] == "causal" and job.json()["spec"]["method"] == "ipw"
    service.run_jobs()
    done = service.client.get(f"/api/v1/analyses/{job.json()['id']}", headers=org.auth()).json()
    assert done["status"] == "succeeded", done["error"]
    assert done["result"]["estimates"] == direct(path, "ipw")


def test_advanced_puts_methods_side_by_side(service, org, tmp_path):
    dataset, path = causal_dataset(service, org, tmp_path)
    methods = ["regression", "ipw"]
    made = service.client.post(
        "/api/v1/causal/analyze/advanced",
        json={"dataset_id": dataset, **QUESTION, "methods": methods},
        headers=org.auth("causal_analyst"),
    )
    assert made.status_code == 202, made.text
    assert made.json()["status"] == "queued"
    service.run_jobs()
    view = service.client.get(made.json()["links"]["self"], headers=org.auth("viewer")).json()
    assert view["status"] == "succeeded"
    assert [m["method"] for m in view["methods"]] == methods
    for row in view["methods"]:
        assert row["estimates"] == direct(path, row["method"])
    values = {m["method"]: m["estimates"][-1]["value"] for m in view["methods"]}
    assert max(values.values()) - min(values.values()) < 0.5  # one question, close answers


def test_advanced_queues_all_or_none(service, org, tmp_path):
    dataset, _ = causal_dataset(service, org, tmp_path)
    before = service.client.get("/api/v1/analyses", headers=org.auth()).json()["total"]
    bad = service.client.post(
        "/api/v1/causal/analyze/advanced",
        json={"dataset_id": dataset, **QUESTION, "methods": ["ipw", "no_such_method"]},
        headers=org.auth(),
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_spec"
    assert "no_such_method" in bad.json()["error"]["message"]
    clash = service.client.post(
        "/api/v1/causal/treatment-effect",
        json={"dataset_id": dataset, **QUESTION, "options": {"outcome": "x1"}},
        headers=org.auth(),
    )
    assert clash.status_code == 422 and clash.json()["error"]["field"] == "options.outcome"
    after = service.client.get("/api/v1/analyses", headers=org.auth()).json()["total"]
    assert after == before
