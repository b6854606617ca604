"""The seed scenario end to end: what `make demo` runs, and the story it must recover.

- `test_make_demo_commands_run`: the `cerebro` lines of the Makefile's `demo` recipe, read from
  the Makefile (so the test and the demo cannot drift apart), run on a small data set; they
  write the two results and one report with the truth beside the estimates.
- `test_the_story_is_recovered` (slow, the demo's full size: 50,000 users × 30 days): the
  truth of `cerebro datasets saas` is the published story (revenue +15–25% by cohort, retention
  +10–20%, C_adaptive_v2 ahead of B_adaptive_v1, the top 20% of users by effect gaining 3–5×
  the average, driven by baseline productivity, churn risk and tenure) and the analyses
  recover it: every lift's interval covers its truth, C beats B, the top uplift tier gains
  several times the ATE and the three drivers come first.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
FEATURES = [
    "plan", "region", "tenure_months", "baseline_productivity", "churn_risk",
    "pre_ai_calls", "pre_tasks_completed", "pre_revenue",
]  # fmt: skip
ARMS = ("B_adaptive_v1", "C_adaptive_v2")


def demo_commands(folder: Path) -> list[list[str]]:
    """The `$(BIN)/cerebro …` lines of the Makefile's demo recipe, variables filled in."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    variables = dict(re.findall(r"^(\w+) :?= (.*)$", text, flags=re.M))
    recipe = text[text.index("\ndemo:") :].split("\n\n")[0]
    commands = []
    for line in recipe.splitlines():
        line = line.strip()
        if not line.startswith("$(BIN)/cerebro "):
            continue
        line = line.replace("$(DEMO_DIR)", str(folder))
        line = re.sub(r"\$\((\w+)\)", lambda m: variables[m.group(1)], line)
        commands.append(shlex.split(line)[1:])
    return commands


def test_make_demo_commands_run(tmp_path: Path) -> None:
    commands = demo_commands(tmp_path)
    assert [c[0] for c in commands] == ["datasets", "abtest", "uplift", "report"]
    commands[0] += ["--users", "1500", "--days", "4"]  # small: the story itself is tested below
    for command in commands:
        run = CliRunner().invoke(app, command)
        assert run.exit_code == 0, (command, run.output)
    page = (tmp_path / "report.html").read_text()
    assert page.count('<section class="result"') == 2
    assert "Recovered vs truth" in page and "revenue: C_adaptive_v2 − A_control" in page
    assert "ATE (C_adaptive_v2 vs A_control)" in page
    assert (
        "The truth the data were simulated with" in page
        and "driven by baseline_productivity" in page
    )
    uplift = json.loads((tmp_path / "uplift.json").read_text())
    assert any(f["code"] == "aggregated" for f in uplift["findings"])
    assert uplift["summary"]["units"] == 1500


@pytest.mark.slow
def test_the_story_is_recovered() -> None:
    import cerebro
    from cerebro.datasets import saas_experiment

    frame, truth = saas_experiment(n_users=50_000, n_days=30, seed=0)
    effects, story = truth["effects"], truth["uplift"]
    # the truth is the published story
    for arm in ARMS:
        assert 0.15 <= round(effects["revenue"][arm]["relative"], 3) <= 0.25
        assert 0.10 <= round(effects["retention_7d"][arm]["relative"], 3) <= 0.20
        assert 3 <= story["arms"][arm]["top_20_percent_ratio"] <= 5
    assert (
        effects["revenue"]["C_adaptive_v2"]["relative"]
        > effects["revenue"]["B_adaptive_v1"]["relative"]
    )
    assert story["drivers"] == ["baseline_productivity", "churn_risk", "tenure_months"]

    ab = cerebro.abtest(
        frame, treatment="cohort", control="A_control", outcome=["revenue", "retention_7d"],
        covariates=["pre_ai_calls", "pre_tasks_completed", "pre_revenue"], cluster="user_id",
    )  # fmt: skip
    up = cerebro.uplift(
        frame, treatment="cohort", control="A_control", outcome="revenue", unit="user_id",
        aggregate="mean", features=FEATURES, value_per_outcome=30, cost_per_treatment=2.5,
    )  # fmt: skip
    for metric in ("revenue", "retention_7d"):
        for arm in ARMS:
            key = f"{metric}_{arm.lower()}_vs_a_control_relative"
            e, true = ab.estimate(key), truth["estimates"][key]
            assert e.ci_low <= true <= e.ci_high, (key, e, true)
        b = ab.estimate(f"{metric}_b_adaptive_v1_vs_a_control_relative")
        c = ab.estimate(f"{metric}_c_adaptive_v2_vs_a_control_relative")
        assert c.value > b.value and c.ci_low > b.value, metric
    tiers, drivers = up.tables["tiers"], up.tables["drivers"]
    for arm in ARMS:
        ate = up.estimate(f"ate_{arm.lower()}_vs_a_control")
        assert ate.ci_low <= story["arms"][arm]["ate"] <= ate.ci_high
        top = tiers[(tiers.arm == arm) & (tiers.tier == "very high")].observed.iloc[0]
        assert 2.5 <= top / ate.value <= 5, (arm, top / ate.value)
        ranked = drivers[drivers.arm == arm].sort_values("importance", ascending=False)
        assert set(ranked.feature.iloc[:3]) == set(story["drivers"]), list(ranked.feature)


def test_saas_options_set_the_truth(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    args = ["datasets", "saas", "-o", str(out), "--users", "300", "--days", "2"]
    run = CliRunner().invoke(
        app,
        [*args, "--revenue-lift", "0.3,0.1", "--retention-lift", "0,0.05", "--heterogeneity", "0"],
    )
    assert run.exit_code == 0, run.output
    truth = json.loads((tmp_path / "s_truth.json").read_text())
    revenue, retention = truth["effects"]["revenue"], truth["effects"]["retention_7d"]
    # without heterogeneity every user's purchase probability rises by exactly the lift
    assert revenue["B_adaptive_v1"]["relative"] == pytest.approx(0.3, rel=1e-9)
    assert revenue["C_adaptive_v2"]["relative"] == pytest.approx(0.1, rel=1e-9)
    assert retention["B_adaptive_v1"]["absolute"] == 0.0
    assert 0.04 < retention["C_adaptive_v2"]["relative"] <= 0.05  # capped at 0.995 per user
    # only the plan (purchase rate and amount) spreads the effect now: far below 3.8×
    assert truth["uplift"]["arms"]["B_adaptive_v1"]["top_20_percent_ratio"] < 2.5
    assert truth["options"] == {"revenue_lift": [0.3, 0.1], "retention_lift": [0.0, 0.05],
                                "heterogeneity": 0.0}  # fmt: skip
    for bad, message in (
        (["--revenue-lift", "0.3"], "--revenue-lift takes two numbers"),
        (["--heterogeneity", "5"], "heterogeneity must be between 0 and 3"),
        (["--retention-lift", "0.1,-2"], "retention_lift takes two relative lifts"),
    ):
        run = CliRunner().invoke(app, [*args, *bad])
        assert run.exit_code == 2 and message in run.output, run.output
