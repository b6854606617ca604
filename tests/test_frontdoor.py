"""The front-door estimator (`cerebro causal --method frontdoor`) and `--dag` on `cerebro causal`.

- Reference: with linear models the front-door effect is β·γ, the T → M coefficient times the
  M → Y coefficient given T (statsmodels OLS): equal to 1e-10.
- Simulation: a latent U confounds T and Y, T acts on Y only through M. The front-door CI covers
  the true effect, while the naive estimates (Y on T; adjusting for the mediator) are biased far
  outside theirs; a discrete mediator is estimated by the plug-in formula; a small coverage study.
- `--dag`: no --confounders adjusts for the graph's back-door set (said in a finding);
  --confounders with a descendant of the treatment is a warning; `method: backdoor` runs aipw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.observational.analysis import run_causal
from cerebro.observational.spec import CausalSpec

FRONT = 'digraph { u [observed="no"]; u -> t; u -> y; t -> m; m -> y }'


def frontdoor_data(n: int, seed: int, discrete: bool = False) -> tuple[pd.DataFrame, float]:
    """(data, true ATE): U → T, U → Y, T → M → Y."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-1.5 * u))).astype(int)
    if discrete:
        p = np.where(t == 1, 0.7, 0.2)
        m = (rng.random(n) < p).astype(float)
        truth = (0.7 - 0.2) * 2.0
    else:
        m = 0.8 * t + rng.normal(size=n)
        truth = 0.8 * 2.0
    y = 2.0 * m + 2.0 * u + rng.normal(size=n)
    return pd.DataFrame({"t": t, "m": m, "y": y}), truth


def test_linear_frontdoor_equals_the_product_of_ols_coefficients() -> None:
    import statsmodels.api as sm

    frame, _ = frontdoor_data(1_500, 3)
    result = run_causal(CausalSpec(treatment="t", outcome="y", method="frontdoor",
                                   mediator="m", bootstrap=50), frame)  # fmt: skip
    beta = sm.OLS(frame["m"], sm.add_constant(frame[["t"]])).fit().params["t"]
    gamma = sm.OLS(frame["y"], sm.add_constant(frame[["t", "m"]])).fit().params["m"]
    assert result.estimates[0].value == pytest.approx(beta * gamma, abs=1e-10)


@pytest.mark.parametrize("discrete", [False, True])
def test_frontdoor_recovers_the_effect_that_naive_estimates_miss(discrete: bool) -> None:
    # one seeded draw (a 95% CI misses 1 in 20 seeds; coverage is the study below)
    frame, truth = frontdoor_data(4_000, 1, discrete)
    front = run_causal(
        CausalSpec(treatment="t", outcome="y", method="frontdoor", dag=FRONT, bootstrap=300), frame
    )
    head = front.estimates[0]
    assert head.ci_low < truth < head.ci_high
    assert ("plug-in" in front.findings[-1].message) is discrete
    assert any("front-door set: m" in f.message for f in front.findings)
    assert front.tables.columns("graph_nodes")["role"][0] == "latent"
    # the naive comparison (no adjustment possible: u is latent) is biased well beyond its CI
    naive = run_causal(CausalSpec(treatment="t", outcome="y", method="regression",
                                  confounders=["m"]), frame)  # fmt: skip
    assert not naive.estimates[0].ci_low < truth < naive.estimates[0].ci_high
    import statsmodels.api as sm

    raw = sm.OLS(frame["y"], sm.add_constant(frame[["t"]])).fit()
    low, high = raw.conf_int().loc["t"]
    assert not low < truth < high and raw.params["t"] > truth + 1


@pytest.mark.slow
@pytest.mark.parametrize("discrete", [False, True])
def test_frontdoor_ci_coverage(discrete: bool) -> None:
    """60 replications, n = 800, 199 resamples each: coverage of the 95% percentile CI within
    the binomial band of 0.95 (0.86–1.0 at 60 draws)."""
    hits = 0
    for seed in range(60):
        frame, truth = frontdoor_data(800, 100 + seed, discrete)
        est = run_causal(CausalSpec(treatment="t", outcome="y", method="frontdoor",
                                    mediator="m", bootstrap=199, seed=seed), frame).estimates[0]  # fmt: skip
        hits += est.ci_low < truth < est.ci_high
    assert hits / 60 >= 0.86


def confounded(n: int = 2_000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(2, n))
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    m = t + rng.normal(size=n)
    y = 1.0 * m + x + rng.normal(size=n)
    return pd.DataFrame({"t": t, "x": x, "w": w, "m": m, "y": y})


GRAPH = "x -> t\nx -> y\nt -> m\nm -> y\nw -> y"


def test_dag_without_confounders_adjusts_for_the_backdoor_set() -> None:
    result = run_causal(CausalSpec(treatment="t", outcome="y", dag=GRAPH), confounded())
    assert result.spec.confounders == ["x"]
    assert any(f.code == "backdoor" and "back-door set: x" in f.message for f in result.findings)
    assert result.estimates[0].ci_low < 1.0 < result.estimates[0].ci_high
    same = run_causal(CausalSpec(treatment="t", outcome="y", confounders=["x"]), confounded())
    assert result.estimates[0].value == pytest.approx(same.estimates[0].value, abs=1e-12)


def test_dag_checks_named_confounders() -> None:
    result = run_causal(
        CausalSpec(treatment="t", outcome="y", confounders=["x", "m"], dag=GRAPH), confounded()
    )
    warned = [f for f in result.findings if f.code == "post_treatment"]
    assert warned and "m is a descendant of t" in warned[0].message
    ok = run_causal(CausalSpec(treatment="t", outcome="y", confounders=["x", "w"], dag=GRAPH),
                    confounded())  # fmt: skip
    assert any(f.code == "backdoor" and f.level == "info" for f in ok.findings)
    missing = run_causal(CausalSpec(treatment="t", outcome="y", confounders=["w"], dag=GRAPH),
                         confounded())  # fmt: skip
    assert any(f.code == "backdoor" and f.level == "warning" and "open" in f.message
               for f in missing.findings)  # fmt: skip


def test_method_backdoor_is_aipw() -> None:
    spec = CausalSpec(treatment="t", outcome="y", method="backdoor", confounders=["x"])
    assert spec.method == "aipw"
    from_graph = CausalSpec.model_validate(
        {"treatment": "t", "outcome": "y", "method": "backdoor", "dag": GRAPH}
    )
    result = run_causal(from_graph, confounded())
    assert result.method == "aipw" and result.spec.confounders == ["x"]


def test_adjusting_for_the_m_bias_collider_is_warned() -> None:
    rng = np.random.default_rng(9)
    n = 2_000
    u1, u2 = rng.normal(size=(2, n))
    c = u1 + u2 + rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-u1))).astype(int)
    y = 1.0 * t + u2 + rng.normal(size=n)
    frame = pd.DataFrame({"t": t, "c": c, "y": y})
    m_bias = "u1 -> t\nu1 -> c\nu2 -> c\nu2 -> y\nt -> y"
    warned = run_causal(CausalSpec(treatment="t", outcome="y", confounders=["c"], dag=m_bias),
                        frame)  # fmt: skip
    finding = next(f for f in warned.findings if f.code == "backdoor")
    assert finding.level == "warning" and "smallest back-door set is nothing" in finding.message
    chosen = run_causal(CausalSpec(treatment="t", outcome="y", dag=m_bias, method="regression"),
                        frame)  # fmt: skip
    assert chosen.spec.confounders == []
    assert chosen.estimates[0].ci_low < 1.0 < chosen.estimates[0].ci_high
    assert not warned.estimates[0].ci_low < 1.0 < warned.estimates[0].ci_high  # c biases it
    from cerebro.core.errors import UserInputError

    with pytest.raises(UserInputError, match="back-door set is empty"):
        run_causal(CausalSpec(treatment="t", outcome="y", dag=m_bias, method="dml"), frame)


def test_named_mediators_are_checked_against_the_graph() -> None:
    frame, _ = frontdoor_data(1_000, 4)
    frame = frame.assign(w=np.random.default_rng(0).normal(size=1_000))
    fields = {"treatment": "t", "outcome": "y", "method": "frontdoor", "bootstrap": 50}
    ok = run_causal(CausalSpec(**fields, mediator="m", dag=FRONT), frame)
    assert any(f.code == "frontdoor" and f.level == "info" and "satisfy" in f.message
               for f in ok.findings)  # fmt: skip
    graph = FRONT.replace("}", "; w -> y }")
    bad = run_causal(CausalSpec(**fields, mediator="w", dag=graph), frame)
    assert any(f.code == "frontdoor" and f.level == "warning" and "front-door set: m" in f.message
               for f in bad.findings)  # fmt: skip
    filled = run_causal(CausalSpec(**fields, dag=FRONT), frame)
    assert filled.spec.mediator == ["m"]


def test_binary_outcome_with_a_continuous_mediator_equals_a_direct_statsmodels_computation() -> (
    None
):
    """Logistic outcome model: E[Y|do(t)] = mean_i Σ_t' P(t') expit(γ0 + γ1 t' + γ2 (m̂(t) + r_i))."""
    import statsmodels.api as sm
    from scipy.special import expit

    rng = np.random.default_rng(12)
    n = 1_500
    u = rng.normal(size=n)
    t = (rng.random(n) < expit(u)).astype(int)
    m = 0.7 * t + rng.normal(size=n)
    y = (rng.random(n) < expit(-0.3 + 0.8 * m + u)).astype(int)
    frame = pd.DataFrame({"t": t, "m": m, "y": y})
    result = run_causal(CausalSpec(treatment="t", outcome="y", method="frontdoor", mediator="m",
                                   bootstrap=50), frame)  # fmt: skip
    stage = sm.OLS(m, sm.add_constant(t)).fit()
    residuals = stage.resid
    outcome = sm.Logit(y, np.column_stack([np.ones(n), t, m])).fit(disp=0).params
    p1 = t.mean()
    means = []
    for arm in (0, 1):
        draws = stage.params[0] + stage.params[1] * arm + residuals
        means.append(sum(w * expit(outcome[0] + outcome[1] * tp + outcome[2] * draws).mean()
                         for tp, w in ((0, 1 - p1), (1, p1))))  # fmt: skip
    assert result.estimates[0].value == pytest.approx(means[1] - means[0], abs=1e-8)
    assert result.estimates[0].label == "ATE (risk difference)"


def test_binary_mediator_and_outcome_plug_in_recovers_the_truth() -> None:
    rng = np.random.default_rng(21)
    n = 20_000
    u = (rng.random(n) < 0.5).astype(int)
    t = (rng.random(n) < np.where(u == 1, 0.7, 0.3)).astype(int)
    m = (rng.random(n) < np.where(t == 1, 0.8, 0.3)).astype(int)
    y = (rng.random(n) < 0.1 + 0.4 * m + 0.4 * u).astype(int)
    truth = 0.4 * (0.8 - 0.3)
    frame = pd.DataFrame({"t": t, "m": m, "y": y})
    result = run_causal(CausalSpec(treatment="t", outcome="y", method="frontdoor", mediator="m",
                                   bootstrap=200), frame)  # fmt: skip
    head = result.estimates[0]
    assert head.ci_low < truth < head.ci_high and abs(head.value - truth) < 0.02
    naive = y[t == 1].mean() - y[t == 0].mean()  # 0.2 + 0.4 · 0.4 = 0.36: biased by u
    assert naive > head.ci_high


def test_worked_smoking_tar_cancer_example() -> None:
    """The counts of Pearl, Glymour & Jewell (2016, *Causal Inference in Statistics: A Primer*,
    Table 3.1): 400 smokers and 400 nonsmokers by tar deposits and cancer. The front-door
    formula by hand: Σ_x' P(y | x', tar) P(x') = 0.5·0.15 + 0.5·0.95 = 0.55 with tar and
    0.5·0.10 + 0.5·0.90 = 0.50 without; P(tar | smoker) = 0.95, P(tar | nonsmoker) = 0.05; so
    P(cancer | do(smoke)) = 0.95·0.55 + 0.05·0.50 = 0.5475, P(cancer | do(not)) = 0.5025."""
    counts = {  # (smoker, tar, cancer): people
        (1, 1, 0): 323, (1, 1, 1): 57, (0, 1, 0): 1, (0, 1, 1): 19,
        (1, 0, 0): 18, (1, 0, 1): 2, (0, 0, 0): 38, (0, 0, 1): 342,
    }  # fmt: skip
    rows = [key for key, k in counts.items() for _ in range(k)]
    frame = pd.DataFrame(rows, columns=["smoker", "tar", "cancer"])
    result = run_causal(
        CausalSpec(
            treatment="smoker", outcome="cancer", method="frontdoor", mediator="tar", bootstrap=200
        ),
        frame,
    )
    assert result.estimates[0].value == pytest.approx(0.045, abs=1e-12)
    assert result.tables.columns("potential_outcomes")["mean"] == pytest.approx([0.5025, 0.5475])
    # the naive comparison says smoking protects: 59/400 vs 361/400 with cancer
    assert frame.groupby("smoker")["cancer"].mean().diff().iloc[-1] == pytest.approx(-0.755)
