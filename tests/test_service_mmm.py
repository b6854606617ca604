"""MMM through the API: an mmm analysis keeps its fitted model (downloadable, as `cerebro mmm
--save` writes it), and mmm_optimize / mmm_predict use it by `model_analysis_id` – with the same
JSON numbers as `cerebro run` on the same specs (a small SVI fit keeps it to seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cerebro.cli.main import app as cli
from service_support import *  # noqa: F403
from service_support import upload
from test_codegen import without_timings

FIT = {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": ["tv", "search"],
       "inference": "svi", "svi_steps": 200, "draws": 100, "chains": 1, "seed": 3}  # fmt: skip
OPTIMIZE = {"kind": "mmm_optimize", "periods": 4, "bounds": {"tv": [0.5, 1.5]}, "seed": 0}
PREDICT = {"kind": "mmm_predict", "alpha": 0.2}
CEREBRO = [sys.executable, "-c", "from cerebro.cli.main import main; main()"]


def mmm_csv() -> bytes:
    from cerebro.mmm.synthetic import simulate_mmm

    frame, _ = simulate_mmm(weeks=52, channels=2, seed=1)
    return frame.to_csv(index=False).encode()


def plan_csv(model: Path) -> bytes:
    """Four weeks after the model's data at 1.1 × the last four weeks' spend."""
    from cerebro.mmm.forecast import plan_csv as to_csv
    from cerebro.mmm.forecast import plan_frame, window_controls
    from cerebro.mmm.model_file import load_mmm

    posterior = load_mmm(model)
    plan = posterior.data.spend[-4:] * 1.1
    return to_csv(plan_frame(posterior, plan, window_controls(posterior, 4, None, "mean")))


def cli_run(folder: Path, spec: dict) -> dict:
    """`cerebro run spec.yaml --json`; the fit in a new process (JAX's threads stay out of the
    test process, whose workers fork), the plan kinds (numpy only) in this one."""
    path = folder / f"{spec['kind']}.yaml"
    path.write_text(yaml.safe_dump(spec))
    if spec["kind"] != "mmm":
        out = CliRunner().invoke(cli, ["run", str(path), "--json"])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)
    done = subprocess.run([*CEREBRO, "run", str(path), "--json"],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def numbers(result: dict) -> dict:
    """Everything of a result but its spec (whose file fields differ: paths vs references) and
    wall-clock times."""
    return without_timings({k: v for k, v in result.items() if k != "spec"})


def submit(service, org, body: dict) -> str:
    response = service.client.post("/api/v1/analyses", json=body, headers=org.auth())
    assert response.status_code == 202, response.text
    return response.json()["id"]


def result_of(service, org, job: str) -> dict:
    done = service.client.get(f"/api/v1/analyses/{job}", headers=org.auth("viewer")).json()
    assert done["status"] == "succeeded", done["error"]
    return done


def ran_all(service, org, *jobs: str) -> None:
    """Run the queued jobs; on a failure, say each job's error (not only its status)."""
    statuses = service.run_jobs()
    errors = [service.client.get(f"/api/v1/analyses/{j}", headers=org.auth()).json()["error"]
              for j in jobs]  # fmt: skip
    assert statuses == ["succeeded"] * len(jobs), errors


def test_mmm_plan_kinds_refused_in_one_sentence(service, org):
    abtest = submit(service, org, {"spec": {"kind": "power", "baseline": 0.1, "mde": 0.02}})
    cases = [
        ({"spec": OPTIMIZE}, 422, "model_analysis_id"),
        ({"spec": OPTIMIZE, "model_analysis_id": abtest}, 422, "model_analysis_id"),
        ({"spec": OPTIMIZE, "model_analysis_id": "0" * 32}, 404, None),
        ({"spec": {**OPTIMIZE, "model": "/etc/passwd"}}, 422, "spec.model"),
        ({"spec": {"kind": "geotest", "method": "synthetic_control",
                   "donor_weights": "/etc/weights.csv"}}, 422, "spec.donor_weights"),
        ({"spec": {"kind": "power", "baseline": 0.1, "mde": 0.02},
          "model_analysis_id": abtest}, 422, "model_analysis_id"),
    ]  # fmt: skip
    for body, status, field in cases:
        response = service.client.post("/api/v1/analyses", json=body, headers=org.auth())
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["field"] == field
    service.run_jobs()


def test_inline_or_file_fields_refuse_their_file_form():
    """geo_budgets and donor_weights are read from a server path when given as text: refused;
    their inline forms pass the check."""
    from cerebro.service.errors import ApiError
    from cerebro.service.specs import check_files

    for spec, field in [({"kind": "mmm_optimize", "geo_budgets": "/etc/b.csv"}, "geo_budgets"),
                        ({"kind": "geotest", "donor_weights": "w.csv"}, "donor_weights")]:  # fmt: skip
        with pytest.raises(ApiError) as err:
            check_files(spec, {})
        assert err.value.status == 422 and err.value.field == f"spec.{field}"
    check_files({"kind": "mmm_optimize", "geo_budgets": {"a": 1.0}}, {})
    check_files({"kind": "geotest", "donor_weights": "a=0.5,b=0.5"}, {})


@pytest.mark.slow
def test_mmm_model_kept_and_used_equals_cerebro_run(service, org, other_org, tmp_path):
    if service.engine.dialect.name != "sqlite":
        pytest.skip("the model's path through the worker is the same on both databases")
    data = upload(service, org, mmm_csv(), "mmm.csv").json()["id"]
    fit = submit(service, org, {"dataset_id": data, "spec": FIT})
    early = {"spec": OPTIMIZE, "model_analysis_id": fit}
    not_ready = service.client.post("/api/v1/analyses", json=early, headers=org.auth())
    assert not_ready.status_code == 409 and "succeeded" in not_ready.json()["error"]["message"]
    ran_all(service, org, fit)
    fitted = result_of(service, org, fit)
    assert fitted["result"]["spec"]["save"] == f"model:{fit}"
    assert fitted["links"]["model"] == f"/api/v1/analyses/{fit}/model"
    download = service.client.get(f"/api/v1/analyses/{fit}/model", headers=org.auth())
    assert download.status_code == 200 and download.content[:2] == b"PK"  # a zip
    model = tmp_path / "api.cerebro"
    model.write_bytes(download.content)
    assert (
        service.client.get(f"/api/v1/analyses/{fit}/model", headers=other_org.auth()).status_code
        == 404
    )
    foreign = {"spec": OPTIMIZE, "model_analysis_id": fit}
    assert (
        service.client.post("/api/v1/analyses", json=foreign, headers=other_org.auth()).status_code
        == 404
    )

    plan = upload(service, org, plan_csv(model), "plan.csv").json()["id"]
    optimize = submit(service, org, {"spec": OPTIMIZE, "model_analysis_id": fit})
    predict = submit(service, org, {"spec": PREDICT, "model_analysis_id": fit, "dataset_id": plan})
    ran_all(service, org, optimize, predict)
    optimized, predicted = result_of(service, org, optimize), result_of(service, org, predict)
    assert optimized["result"]["spec"]["model"] == f"model:{fit}"
    assert predicted["result"]["spec"]["plan"] == f"dataset:{plan}"

    (tmp_path / "mmm.csv").write_bytes(mmm_csv())
    (tmp_path / "plan.csv").write_bytes(plan_csv(model))
    cli_fit = cli_run(tmp_path, {**FIT, "data": str(tmp_path / "mmm.csv"),
                                 "save": str(tmp_path / "cli.cerebro")})  # fmt: skip
    assert numbers(cli_fit) == numbers(fitted["result"])
    cli_model = str(tmp_path / "cli.cerebro")
    cli_optimize = cli_run(tmp_path, {**OPTIMIZE, "model": cli_model})
    cli_predict = cli_run(tmp_path, {**PREDICT, "model": cli_model,
                                     "plan": str(tmp_path / "plan.csv")})  # fmt: skip
    assert numbers(cli_optimize) == numbers(optimized["result"])  # every number, exactly
    assert numbers(cli_predict) == numbers(predicted["result"])
    assert optimized["result"]["estimates"] and predicted["result"]["estimates"]
