"""The intelligence routes on SQLite and PostgreSQL: insights, counterfactual scenarios,
causal discovery, the budget optimiser, treatment recommendations and the experiment designer –
realistic requests, bad ones (4xx with one sentence), organisation isolation (404) and the
audit log. Route × role permissions are in tests/test_service_permissions.py (it reads every
router)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pytest

from service_support import *  # noqa: F403
from service_support import AB_SPEC, Org, make_org, upload, upload_ab
from test_service_intel_numbers import mmm_curve_table, unexplained


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def upload_frame(service, org: Org, frame: pd.DataFrame, name: str) -> str:
    response = upload(service, org, csv_bytes(frame), filename=name)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def error_of(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"].endswith(".") and "Traceback" not in error["message"]
    return error


def store_result(service, org: Org, result: dict[str, Any]) -> str:
    """A succeeded analysis holding `result` (a fixed result whose optimum is known)."""
    from cerebro.service.models import Analysis

    with service.sessions() as session:
        row = Analysis(
            org_id=org.id,
            kind=result["kind"],
            spec=result["spec"],
            status="succeeded",
            progress=1.0,
            result=result,
            time_limit=60.0,
            created_by=org.user_ids["causal_admin"],
        )
        session.add(row)
        session.commit()
        return row.id


@pytest.fixture(scope="module")
def home(service) -> Org:
    return make_org(service)


@pytest.fixture(scope="module")
def ab(service, home) -> dict[str, str]:
    """An uploaded A/B test and its succeeded analysis."""
    dataset = upload_ab(service, home)
    job = service.client.post(
        "/api/v1/analyses", json={"dataset_id": dataset, "spec": AB_SPEC}, headers=home.auth()
    ).json()
    assert service.run_jobs() == ["succeeded"]
    return {"dataset_id": dataset, "analysis_id": job["id"]}


def actions(service, org: Org) -> list[str]:
    items = service.client.get("/api/v1/audit?limit=1000", headers=org.auth("org_admin"))
    return [i["action"] for i in items.json()["items"]]


# ---- insights --------------------------------------------------------------------------------


def test_insights_of_a_stored_analysis(service, home, ab):
    from cerebro.core.results import Result

    response = service.client.post(
        "/api/v1/llm/causal/insights",
        json={"analysis_ids": [ab["analysis_id"]]},
        headers=home.auth("viewer"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "executive_summary",
        "learned",
        "confidence",
        "next_steps",
        "caveats",
        "analyses",
        "generator",
    }
    assert body["generator"] == "templates" and body["analyses"] == [ab["analysis_id"]]
    stored = service.client.get(f"/api/v1/analyses/{ab['analysis_id']}", headers=home.auth())
    text = " ".join(
        [
            body["executive_summary"],
            *body["learned"],
            *body["confidence"],
            *body["next_steps"],
            *body["caveats"],
        ]
    )
    assert unexplained(text, [Result.from_dict(stored.json()["result"])]) == []
    assert "analysis.insights" in actions(service, home)


def test_insights_refusals(service, home, other_org, ab):
    url = "/api/v1/llm/causal/insights"
    assert (
        error_of(service.client.post(url, json={"analysis_ids": []}, headers=home.auth()), 422)[
            "field"
        ]
        == "analysis_ids"
    )
    foreign = service.client.post(
        url, json={"analysis_ids": [ab["analysis_id"]]}, headers=other_org.auth()
    )
    assert error_of(foreign, 404)["code"] == "not_found"
    queued = service.client.post(
        "/api/v1/analyses",
        json={"spec": {"kind": "power", "baseline": 0.1, "mde": 0.02}},
        headers=home.auth(),
    ).json()
    waiting = service.client.post(url, json={"analysis_ids": [queued["id"]]}, headers=home.auth())
    assert error_of(waiting, 409)["code"] == "not_ready"
    service.run_jobs()


# ---- experiment designer ---------------------------------------------------------------------


def test_the_designer_runs_each_part_as_cerebro_run(service, home):
    from cerebro.experiments.examples import design as design_example
    from cerebro.geo.examples import geo_design as geo_example
    from cerebro.run import run_spec

    units_fields, units = design_example()
    geo_fields, panel = geo_example()
    units_id = upload_frame(service, home, units, "units.csv")
    panel_id = upload_frame(service, home, panel, "panel.csv")
    body = {
        "power": {"baseline": 0.1, "mde": 0.02},
        "randomization": {"dataset_id": units_id, **units_fields},
        "geo": {"dataset_id": panel_id, **geo_fields},
    }
    response = service.client.post(
        "/api/v1/design/experiment", json=body, headers=home.auth("causal_analyst")
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"power", "randomization", "geo"}
    expected = {
        "power": run_spec({"kind": "power", "baseline": 0.1, "mde": 0.02}),
        "randomization": run_spec({"kind": "design", **units_fields}, units),
        "geo": run_spec(
            {"kind": "geo_design", **geo_fields}, pd.read_csv(io.BytesIO(csv_bytes(panel)))
        ),
    }
    for part, result in expected.items():
        mine = {e["key"]: e["value"] for e in answer[part]["estimates"]}
        theirs = {e.key: e.value for e in result.estimates}
        assert mine.keys() == theirs.keys() and mine == pytest.approx(theirs, rel=1e-9), part
    assert answer["randomization"]["spec"]["data"] == f"dataset:{units_id}"
    only = service.client.post(
        "/api/v1/design/experiment", json={"power": body["power"]}, headers=home.auth()
    )
    assert set(only.json()) == {"power"}
    assert {"design.run", "dataset.use"} <= set(actions(service, home))


def test_designer_refusals(service, home, other_org, ab, monkeypatch):
    from cerebro.core.errors import UserInputError
    from cerebro.core.spec import parse_spec
    from cerebro.service import designer

    url = "/api/v1/design/experiment"
    assert (
        "at least one"
        in error_of(service.client.post(url, json={}, headers=home.auth()), 422)["message"]
    )
    bad = service.client.post(
        url, json={"power": {"baseline": 0.1, "mde": 0.02, "alpha": 2}}, headers=home.auth()
    )
    error = error_of(bad, 422)
    assert error["code"] == "invalid_spec" and error["field"].startswith("power")
    with pytest.raises(UserInputError) as cli:  # the sentence `cerebro run` prints
        parse_spec({"kind": "power", "baseline": 0.1, "mde": 0.02, "alpha": 2})
    assert error["message"] == str(cli.value)
    wrong_kind = service.client.post(url, json={"power": {"kind": "abtest"}}, headers=home.auth())
    assert error_of(wrong_kind, 422)["field"] == "power.kind"
    no_data = service.client.post(url, json={"randomization": {"arms": 2}}, headers=home.auth())
    assert error_of(no_data, 422)["field"] == "randomization.dataset_id"
    foreign = service.client.post(
        url,
        json={"randomization": {"dataset_id": ab["dataset_id"], "arms": 2}},
        headers=other_org.auth(),
    )
    assert error_of(foreign, 404)["code"] == "not_found"
    monkeypatch.setattr(designer, "MAX_SYNC_ROWS", 10)  # a dataset too large to answer inline
    for route, body in (
        (url, {"randomization": {"dataset_id": ab["dataset_id"], "arms": 2}}),
        ("/api/v1/causal/discover", {"dataset_id": ab["dataset_id"]}),
    ):
        error = error_of(service.client.post(route, json=body, headers=home.auth()), 422)
        assert error["code"] == "too_large" and error["field"].endswith("dataset_id")
        assert "analysis job" in error["message"]


# ---- causal discovery ------------------------------------------------------------------------


def test_discovery_finds_a_collider_and_returns_an_editable_graph(service, home, other_org):
    from cerebro.graph.read import read_dag

    rng = np.random.default_rng(0)
    x, z = rng.normal(size=3000), rng.normal(size=3000)
    y = x + z + rng.normal(size=3000)
    frame = pd.DataFrame({"x": x, "z": z, "y": y, "w": y + rng.normal(size=3000)})
    dataset = upload_frame(service, home, frame, "chain.csv")
    response = service.client.post(
        "/api/v1/causal/discover", json={"dataset_id": dataset}, headers=home.auth("causal_analyst")
    )
    assert response.status_code == 200, response.text
    graph = response.json()
    edges = {(e["from"], e["to"]) for e in graph["edges"] if e["directed"]}
    assert edges == {("x", "y"), ("z", "y"), ("y", "w")}  # the v-structure orients all three
    assert graph["nodes"] == ["x", "z", "y", "w"]
    assert graph["label"].startswith("a starting point")
    assert "STARTING POINT" in graph["dot"] and "STARTING POINT" in graph["yaml"]
    for text in (graph["dot"], graph["yaml"]):  # both read back as the same DAG
        suffix = ".dot" if text is graph["dot"] else ".yaml"
        dag = read_dag(text if suffix == ".dot" else _tmp_yaml(text))
        assert set(dag.edges) == edges
    ges = service.client.post(
        "/api/v1/causal/discover",
        headers=home.auth(),
        json={"dataset_id": dataset, "method": "ges", "columns": ["x", "z", "y"]},
    )
    assert ges.status_code == 200 and ges.json()["nodes"] == ["x", "z", "y"]
    missing = service.client.post(
        "/api/v1/causal/discover",
        headers=home.auth(),
        json={"dataset_id": dataset, "columns": ["x", "nope"]},
    )
    assert "nope" in error_of(missing, 422)["message"]
    ges_knowledge = service.client.post(
        "/api/v1/causal/discover",
        headers=home.auth(),
        json={"dataset_id": dataset, "method": "ges", "forbid": ["x->y"]},
    )
    assert "background knowledge" in error_of(ges_knowledge, 422)["message"]
    foreign = service.client.post(
        "/api/v1/causal/discover", json={"dataset_id": dataset}, headers=other_org.auth()
    )
    assert error_of(foreign, 404)["code"] == "not_found"
    assert "graph.discover" in actions(service, home)


def _tmp_yaml(text: str):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "graph.yaml"
    path.write_text(text)
    return path


# ---- counterfactual scenarios ----------------------------------------------------------------


def test_counterfactual_scenarios_run_as_jobs_and_equal_cerebro_run(service, home, other_org, ab):
    from cerebro.run import run_spec
    from conftest import make_ab

    body = {
        "dataset_id": ab["dataset_id"],
        "outcome": "revenue",
        "confounders": ["pre_revenue"],
        "scenarios": [
            {"name": "more pre", "set": ["pre_revenue=+10%"]},
            {"name": "shifted", "set": ["pre_revenue=+1"]},
        ],
        "options": {"bootstrap": 60, "seed": 3},
    }
    url = "/api/v1/llm/causal/counterfactual"
    submitted = service.client.post(
        url, json=body, headers={**home.auth("causal_analyst"), "Idempotency-Key": "cf-1"}
    )
    assert submitted.status_code == 202, submitted.text
    again = service.client.post(
        url, json=body, headers={**home.auth("causal_analyst"), "Idempotency-Key": "cf-1"}
    )
    assert again.json()["id"] == submitted.json()["id"]  # created once
    group = submitted.json()["id"]
    assert [s["status"] for s in submitted.json()["scenarios"]] == ["queued", "queued"]
    service.run_jobs()
    done = service.client.get(f"{url}/{group}", headers=home.auth("viewer")).json()
    by_name = {s["name"]: s for s in done["scenarios"]}
    assert set(by_name) == {"more pre", "shifted"}
    spec = {
        "kind": "counterfactual",
        "outcome": "revenue",
        "confounders": ["pre_revenue"],
        "interventions": ["pre_revenue=+1"],
        "bootstrap": 60,
        "seed": 3,
    }
    expected = run_spec(spec, make_ab(n=400, seed=0))
    mine = {e["key"]: e["value"] for e in by_name["shifted"]["estimates"]}
    assert mine == pytest.approx({e.key: e.value for e in expected.estimates}, rel=1e-9)
    assert error_of(service.client.get(f"{url}/{group}", headers=other_org.auth()), 404)
    foreign = service.client.post(url, json=body, headers=other_org.auth())
    assert error_of(foreign, 404)["code"] == "not_found"
    bad = service.client.post(
        url,
        headers=home.auth(),
        json={**body, "scenarios": [{"name": "a", "set": ["pre_revenue"]}]},
    )
    assert error_of(bad, 422)["code"] == "invalid_spec"  # the CLI's sentence for --set
    twice = service.client.post(
        url,
        headers=home.auth(),
        json={
            **body,
            "scenarios": [
                {"name": "a", "set": ["pre_revenue=+1"]},
                {"name": "a", "set": ["pre_revenue=+2"]},
            ],
        },
    )
    assert error_of(twice, 422)["field"] == "scenarios"


# ---- budget optimiser ------------------------------------------------------------------------

MEASURED = [
    {"name": "tv", "spend": 100.0, "lift": 80.0, "se": 8.0},
    {"name": "search", "spend": 50.0, "lift": 60.0, "se": 6.0},
    {"name": "social", "spend": 80.0, "lift": 30.0, "se": 5.0},
]


def test_the_optimiser_splits_by_measured_effects(service, home):
    from cerebro.mmm.measured import Measured, closed_form_split

    url = "/api/v1/surfacing/optimize/causal"
    exact = [{**c, "se": 0.0} for c in MEASURED]
    response = service.client.post(url, json={"channels": exact}, headers=home.auth())
    assert response.status_code == 200, response.text
    plan = response.json()
    truth = closed_form_split(
        [Measured(c["name"], c["spend"], c["lift"], 0.0) for c in exact], 0.5, 230.0
    )
    np.testing.assert_allclose(plan["channels"]["optimal_spend"], truth, rtol=2e-3)
    assert plan["proposed"]["objective"] >= plan["current"]["objective"]
    noisy = service.client.post(
        url,
        headers=home.auth(),
        json={
            "channels": MEASURED,
            "objective": "profit",
            "kpi_value": 2.0,
            "budget": 400,
            "bounds": {"tv": [0.5, 1.5]},
        },
    ).json()
    kpi = noisy["proposed"]["kpi"]
    assert kpi["ci_low"] < kpi["mean"] < kpi["ci_high"]
    assert noisy["proposed"]["objective"] >= noisy["current"]["objective"] - 1e-9
    assert noisy["proposed"]["spend"] <= 400 + 1e-6
    assert 50 - 1e-6 <= noisy["channels"]["optimal_spend"][0] <= 150 + 1e-6
    assert "power curve" in noisy["curve"]
    floor = service.client.post(
        url,
        headers=home.auth(),
        json={
            "channels": MEASURED,
            "objective": "profit",
            "kpi_value": 2.0,
            "budget": 1000,
            "roi_floor": 1.6,
        },
    ).json()
    assert 2 * floor["proposed"]["kpi"]["mean"] >= 1.6 * floor["proposed"]["spend"] - 1e-6
    missed = service.client.post(
        url, headers=home.auth(), json={"channels": MEASURED, "roi_floor": 0.9}
    ).json()  # 230 cannot return 0.9
    assert "roi_floor_current" in {f["code"] for f in missed["findings"]}


def test_the_optimiser_reads_a_stored_mmm_and_stored_estimates(service, home, other_org, ab):
    from cerebro.core.results import Result

    curves = mmm_curve_table({"tv": 3.0, "search": 2.0}, 0.0)
    result = Result(
        kind="mmm",
        method="svi",
        spec={"kind": "mmm", "date_column": "week", "kpi": "sales", "channels": ["tv", "search"]},
        estimates=[],
        tables={
            "response_curves": curves,
            "channels": {"channel": ["tv", "search"], "spend": [1000.0, 1000.0]},
        },
        summary={"alpha": 0.1, "fitted_weeks": 10},
    ).to_dict()
    mmm_id = store_result(service, home, result)
    url = "/api/v1/surfacing/optimize/causal"
    plan = service.client.post(
        url, json={"mmm_analysis_id": mmm_id, "periods": 4}, headers=home.auth()
    )
    assert plan.status_code == 200, plan.text
    np.testing.assert_allclose(
        plan.json()["channels"]["optimal_spend"], [800 * 9 / 13, 800 * 4 / 13], rtol=2e-3
    )
    assert plan.json()["source"] == "mmm"
    foreign = service.client.post(url, json={"mmm_analysis_id": mmm_id}, headers=other_org.auth())
    assert error_of(foreign, 404)["code"] == "not_found"
    not_mmm = service.client.post(
        url, json={"mmm_analysis_id": ab["analysis_id"]}, headers=home.auth()
    )
    assert "mmm analysis" in error_of(not_mmm, 422)["message"]
    stored = [
        {
            "name": "email",
            "spend": 10.0,
            "analysis_id": ab["analysis_id"],
            "estimate": "revenue_b_control",
        },
        MEASURED[0],
    ]
    from_estimate = service.client.post(url, json={"channels": stored}, headers=home.auth())
    assert from_estimate.status_code == 200, from_estimate.text
    unknown = service.client.post(
        url,
        headers=home.auth(),
        json={"channels": [{**stored[0], "estimate": "nope"}, MEASURED[0]]},
    )
    assert "nope" in error_of(unknown, 422)["message"]
    foreign_estimate = service.client.post(url, json={"channels": stored}, headers=other_org.auth())
    assert error_of(foreign_estimate, 404)["code"] == "not_found"


def test_optimiser_refusals(service, home):
    url = "/api/v1/surfacing/optimize/causal"
    cases = [
        ({}, "either"),
        ({"channels": MEASURED, "mmm_analysis_id": "x"}, "either"),
        ({"channels": [{"name": "tv", "spend": 10}]}, "lift and se"),
        ({"channels": MEASURED, "bounds": {"radio": [0, 2]}}, "radio"),
        ({"channels": MEASURED, "bounds": {"tv": [3, 4]}, "budget": 100}, "lower bounds"),
        ({"channels": [{**MEASURED[0], "lift": -5.0}]}, "no positive measured effect"),
        ({"channels": MEASURED, "curve": {"exponent": 1.5}}, "exponent"),
    ]
    for body, words in cases:
        response = service.client.post(url, json=body, headers=home.auth())
        assert words in error_of(response, 422)["message"], (body, response.text)


# ---- treatment recommendations ---------------------------------------------------------------


def _uplift_result() -> dict[str, Any]:
    """Tiers with known effects: arm B helps the 'high' tier (0.5), arm C the 'low' one (0.4)."""
    from cerebro.core.results import Result

    tiers = {
        "arm": ["B", "B", "C", "C"],
        "tier": ["high", "low", "high", "low"],
        "n": [100, 100, 100, 100],
        "n_treated": [50] * 4,
        "n_control": [50] * 4,
        "predicted": [0.5, 0.0, 0.0, 0.4],
        "observed": [0.5, -0.1, 0.05, 0.4],
        "se": [0.05] * 4,
        "ci_low": [0.4, -0.2, -0.05, 0.3],
        "ci_high": [0.6, 0, 0.15, 0.5],
        "age": [30.0, 50.0, 31.0, 49.0],
    }
    spec = {"kind": "uplift", "treatment": "arm", "outcome": "y", "features": ["age"]}
    return Result(
        kind="uplift",
        method="x_learner",
        spec=spec,
        estimates=[],
        tables={"tiers": tiers},
        summary={"alpha": 0.05},
    ).to_dict()


def test_treatments_go_to_the_segments_they_help(service, home, other_org, ab):
    uplift_id = store_result(service, home, _uplift_result())
    url = "/api/v1/surfacing/recommendations/treatments"
    response = service.client.get(
        url, params={"objective": "profit", "cost": 0.1}, headers=home.auth("viewer")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["analyses"] == [uplift_id]  # the latest uplift analysis by default
    chosen = {(r["arm"], r["segment"]): r["treat_share"] for r in body["recommendations"]}
    assert chosen == pytest.approx({("B", "high"): 1.0, ("C", "low"): 1.0})
    assert body["recommendations"][0]["profile"]["age"] in (30.0, 49.0)
    assert body["total"]["incremental_outcome"] == pytest.approx(100 * 0.5 + 100 * 0.4)
    assert body["total"]["value"] == pytest.approx(90 - 0.1 * 200)
    capped = service.client.get(
        url, params={"capacity": 150, "analysis_id": uplift_id}, headers=home.auth()
    ).json()
    shares = {(r["arm"], r["segment"]): r["treat_share"] for r in capped["recommendations"]}
    assert shares == pytest.approx({("B", "high"): 1.0, ("C", "low"): 0.5})
    costly = service.client.get(
        url, params={"arm_costs": "B=0.6", "analysis_id": uplift_id}, headers=home.auth()
    ).json()
    # B now costs more than it brings (0.5 − 0.6); C, free, is worth giving wherever it helps
    assert {(r["arm"], r["segment"]) for r in costly["recommendations"]} == {
        ("C", "low"),
        ("C", "high"),
    }
    from_ab = service.client.get(
        url,
        params={"analysis_id": ab["analysis_id"], "outcome": "revenue", "objective": "outcome"},
        headers=home.auth(),
    ).json()
    assert [r["arm"] for r in from_ab["recommendations"]] == ["B"]  # the larger lift, alone
    assert "treatments.recommend" in actions(service, home)
    foreign = service.client.get(url, params={"analysis_id": uplift_id}, headers=other_org.auth())
    assert error_of(foreign, 404)["code"] == "not_found"
    none = service.client.get(url, headers=other_org.auth())  # that org has no uplift analysis
    assert error_of(none, 404)["code"] == "not_found"
    two_outcomes = service.client.get(
        url, params={"analysis_id": ab["analysis_id"]}, headers=home.auth()
    )
    assert error_of(two_outcomes, 422)["field"] == "outcome"
    bad_cost = service.client.get(url, params={"arm_costs": "B=x"}, headers=home.auth())
    assert error_of(bad_cost, 422)["field"] == "arm_costs"
