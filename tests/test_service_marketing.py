"""`/api/v1/marketing`: ingest causal records with the users' fields, read an experiment's
records, and screen the recorded variables for confounding – a simulated confounder found, the
others not; the screen's tests equal scipy's."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from scipy import stats

from cerebro.stats.confounding import screen_confounders
from service_support import *  # noqa: F403


def records(n: int = 400, seed: int = 1, platform: str = "meta") -> list[dict]:
    """x causes treatment and outcome (a confounder); z only the outcome; w only treatment."""
    rng = np.random.default_rng(seed)
    x, z, w = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    treated = (rng.random(n) < 1 / (1 + np.exp(-(1.2 * x + 1.2 * w)))).astype(int)
    outcome = 2.0 * treated + 1.5 * x + 1.5 * z + rng.normal(size=n)
    return [
        {"platform": platform, "campaign_id": f"c{i % 7}", "timestamp": f"2024-05-{1 + i % 28:02d}T12:00:00Z",
         "treatment_assignment": int(treated[i]), "outcome": float(outcome[i]),
         "confounders": {"x": float(x[i]), "w": float(w[i]), "segment": "smb" if i % 2 else "ent"},
         "external_factors": {"z": float(z[i]), "holiday": bool(i % 5 == 0)},
         "quality_score": 0.9}
        for i in range(n)
    ]  # fmt: skip


def test_the_screen_equals_scipy():
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=300), rng.random(300) < 0.4
    y = x + rng.normal(size=300)
    z = rng.normal(size=300)
    row, _ = screen_confounders({"x": x, "z": z}, t, y)
    welch = stats.ttest_ind(x[t], x[~t], equal_var=False)
    assert abs(row["p_treatment"] - welch.pvalue) < 1e-10
    # given the arm and the others: x's coefficient in y ~ 1 + t + x + z (statsmodels, HC1)
    design = sm.add_constant(np.column_stack([t.astype(float), x, z]))
    fit = sm.OLS(y, design).fit(cov_type="HC1", use_t=True)
    assert abs(row["coefficient"] - fit.params[2]) < 1e-10
    assert abs(row["p_outcome"] - fit.pvalues[2]) < 1e-10


def test_ingest_read_and_screen(service, org, other_org):
    exp = service.client.post(
        "/api/v1/experiments",
        json={"name": "Spring", "treatment_groups": ["exposed"], "randomization_unit": "user"},
        headers=org.auth(),
    ).json()["id"]
    one = {**records(1)[0], "experiment_id": exp, "org": org.name,
           "causal_graph": {"edges": [["x", "treatment"], ["x", "outcome"]]}}  # fmt: skip
    single = service.client.post("/api/v1/marketing/ingest/causal", json=one, headers=org.auth())
    assert single.status_code == 201, single.text
    batch = service.client.post(
        "/api/v1/marketing/ingest/causal", json={"records": records()}, headers=org.auth()
    )
    assert batch.status_code == 201 and batch.json()["count"] == 400
    other_platform = {"records": records(200, seed=1, platform="google")}
    service.client.post("/api/v1/marketing/ingest/causal", json=other_platform, headers=org.auth())
    read = service.client.get(f"/api/v1/marketing/causal/{exp}", headers=org.auth("causal_analyst"))
    assert read.status_code == 200 and read.json()["summary"]["records"] == 1
    assert read.json()["items"][0]["causal_graph"]["edges"][0] == ["x", "treatment"]
    screen = service.client.get(
        "/api/v1/marketing/confounders?platform=meta&start=2024-05-01T00:00:00Z&end=2024-06-01T00:00:00Z",
        headers=org.auth("causal_analyst"),
    ).json()
    assert screen["records"] == 401 and screen["confounders"] == ["x"]
    rows = {r["variable"]: r for r in screen["variables"]}
    assert rows["segment"]["skipped"] == "not numeric"
    assert rows["w"]["p_treatment"] < 0.05 < rows["w"]["p_outcome"]
    assert rows["z"]["p_outcome"] < 0.05 < rows["z"]["p_treatment"]
    empty = service.client.get("/api/v1/marketing/confounders?platform=tiktok", headers=org.auth())
    assert empty.json()["records"] == 0 and empty.json()["confounders"] == []
    # tenancy: another organisation neither reads these records nor writes into this experiment
    theirs = service.client.get(
        "/api/v1/marketing/confounders?platform=meta", headers=other_org.auth()
    )
    assert theirs.json()["records"] == 0
    assert (
        service.client.get(f"/api/v1/marketing/causal/{exp}", headers=other_org.auth()).status_code
        == 404
    )
    foreign = {**records(1)[0], "experiment_id": exp}
    assert service.client.post("/api/v1/marketing/ingest/causal", json=foreign,
                               headers=other_org.auth()).status_code == 404  # fmt: skip
    wrong_org = {**records(1)[0], "org": org.name}
    refused = service.client.post(
        "/api/v1/marketing/ingest/causal", json=wrong_org, headers=other_org.auth()
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "org"
