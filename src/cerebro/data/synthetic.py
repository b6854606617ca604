"""Synthetic data with known truth, for demos, tests and benchmarks.

`saas_experiment` simulates the experiment our users describe: an AI assistant in a SaaS
product, users randomised at sign-up into three cohorts, one row per user and day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

COHORTS = ("A_control", "B_adaptive_v1", "C_adaptive_v2")
METRICS = ("ai_calls", "tasks_completed", "satisfaction_score", "retention_7d", "revenue")
PLANS = ("free", "pro", "team", "enterprise")
REGIONS = ("NA", "EU", "APAC", "LATAM")

# Effects of each cohort on the generating model (control first): relative lifts of the daily
# rates for calls and tasks; a shift of the latent satisfaction score. Revenue and retention
# effects are options (`SaasEffects`).
CALL_LIFT = (0.0, 0.12, 0.20)
TASK_LIFT = (0.0, 0.06, 0.03)
SATISFACTION_SHIFT = (0.0, 0.10, -0.05)
SATISFACTION_NOISE = 0.9
#: The user features that drive the revenue effect (`SaasEffects.heterogeneity`), with weights
#: on their standardised values (log scale for productivity and tenure): productive users,
#: users at risk of churning and newer users gain most.
DRIVERS = {"baseline_productivity": 0.6, "churn_risk": 0.5, "tenure_months": -0.45}
PRE_DAYS = 14
PRE_REVENUE_DAYS = 90


@dataclass(frozen=True)
class SaasEffects:
    """The effects of the SaaS experiment, B_adaptive_v1 then C_adaptive_v2 vs A_control.

    `revenue_lift`: the average relative lift of the daily purchase probability (so of revenue);
    `retention_lift`: the relative lift of the 7-day retention probability (capped at 0.995);
    `heterogeneity`: the spread (log scale) of each user's revenue effect around the average,
    a multiplier exp(h·z)/mean driven by `DRIVERS`; 0 gives every user the same relative lift.
    The defaults are the story users tell: revenue +15% (B) and +25% (C), retention +10% and
    +18%, and at h = 1.3 the top 20% of users by true effect gain 3–5× the average.
    """

    revenue_lift: tuple[float, float] = (0.15, 0.25)
    retention_lift: tuple[float, float] = (0.10, 0.18)
    heterogeneity: float = 1.3

    def __post_init__(self) -> None:
        for name in ("revenue_lift", "retention_lift"):
            values = getattr(self, name)
            if len(values) != 2 or any(not -1 < float(v) <= 5 for v in values):
                raise ValueError(f"{name} takes two relative lifts in (-1, 5], got {values}")
        if not 0 <= self.heterogeneity <= 3:
            raise ValueError(f"heterogeneity must be between 0 and 3, got {self.heterogeneity}")


def saas_experiment(
    n_users: int = 50_000,
    n_days: int = 30,
    seed: int = 0,
    effects: SaasEffects | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily usage of `n_users` users over `n_days` days in three randomised cohorts.

    Columns: ``user_id``, ``day`` (1…n_days), ``cohort`` (A_control, B_adaptive_v1,
    C_adaptive_v2; complete randomisation with equal shares), user features constant per user
    (``plan``, ``region``, ``tenure_months``, ``baseline_productivity``, ``churn_risk``),
    pre-period daily means for CUPED (``pre_ai_calls``, ``pre_tasks_completed``,
    ``pre_revenue``, over 14 and 90 days before the test), and the daily metrics ``ai_calls`` and
    ``tasks_completed`` (Poisson counts), ``satisfaction_score`` (1–5, a rounded latent normal),
    ``retention_7d`` (0/1, a user-level outcome repeated on each of the user's rows) and
    ``revenue`` (zero on most days: a purchase with a small daily probability, log-normal
    amounts). Effects are heterogeneous: calls rise more for productive users, and the revenue
    effect of each user is `effects.revenue_lift` times a multiplier driven by baseline
    productivity, churn risk and tenure (`SaasEffects`, `DRIVERS`).

    The returned truth is the **sample average treatment effect on the per-user-day mean** of
    each metric: for each cohort, the average over all realised users (whatever their assigned
    cohort) of the model's expected daily value under that cohort, minus the same under
    A_control; relative effects divide by the control's value. Because every user has the same
    number of days, the difference of cohort means is unbiased for it, and a CI that accounts
    for the clustering of days within users (``--cluster user_id``) covers it at its nominal rate.
    """
    if n_users < 3 or n_days < 1:
        raise ValueError("saas_experiment needs at least 3 users and 1 day")
    rng = np.random.default_rng(seed)
    cohort = rng.permutation(np.arange(n_users) % len(COHORTS))
    plan = rng.choice(len(PLANS), size=n_users, p=[0.5, 0.3, 0.15, 0.05])
    region = rng.choice(len(REGIONS), size=n_users, p=[0.4, 0.3, 0.2, 0.1])
    tenure = np.minimum(rng.gamma(2.0, 8.0, n_users).astype(int) + 1, 120)
    productivity = rng.lognormal(0.0, 0.35, n_users)
    churn = rng.beta(2.0, 5.0, n_users)
    engagement_pre = (
        productivity * np.array([0.8, 1.1, 1.3, 1.5])[plan] * rng.lognormal(0, 0.25, n_users)
    )
    engagement = engagement_pre * rng.lognormal(0, 0.3, n_users)  # users drift between periods

    effects = effects or SaasEffects()
    rates = _saas_rates(plan, tenure, productivity, churn, engagement, effects)
    calls_rate, tasks_rate = rates["calls_rate"], rates["tasks_rate"]
    satisfaction_mean, retention_p = rates["satisfaction_mean"], rates["retention_p"]
    purchase_p, amount_log_mean = rates["purchase_p"], rates["amount_log_mean"]
    amount_sigma = rates["amount_sigma"]

    # Pre-period: the same users untreated before the test (calls and tasks over 14 days,
    # revenue over 90 days because purchases are rare), at their pre-period engagement.
    drift = engagement_pre / engagement
    pre_calls = rng.poisson(calls_rate[:, 0] * drift * PRE_DAYS) / PRE_DAYS
    pre_tasks = rng.poisson(tasks_rate[:, 0] * drift * PRE_DAYS) / PRE_DAYS
    pre_purchases = rng.binomial(PRE_REVENUE_DAYS, purchase_p[:, 0])
    pre_revenue = (
        pre_purchases * np.exp(amount_log_mean + rng.normal(0, amount_sigma / 2, n_users))
    ) / PRE_REVENUE_DAYS

    # Daily rows: the assigned cohort's rates, a weekly rhythm that averages to one.
    user = np.repeat(np.arange(n_users), n_days)
    day = np.tile(np.arange(1, n_days + 1), n_users)
    rhythm = 1 + 0.15 * np.cos(2 * np.pi * np.arange(n_days) / 7)
    rhythm = (rhythm / rhythm.mean())[day - 1]
    arm = cohort[user]
    own = np.arange(n_users)
    calls = rng.poisson(calls_rate[own, cohort][user] * rhythm)
    tasks = rng.poisson(tasks_rate[own, cohort][user] * rhythm)
    latent = satisfaction_mean[own, cohort][user] + rng.normal(0, SATISFACTION_NOISE, len(user))
    score = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    retained = (rng.random(n_users) < retention_p[own, cohort]).astype(np.int64)[user]
    bought = rng.random(len(user)) < purchase_p[own, cohort][user]
    revenue = np.where(
        bought, np.exp(amount_log_mean[user] + rng.normal(0, amount_sigma, len(user))), 0.0
    ).round(2)

    frame = pd.DataFrame(
        {
            "user_id": user + 1,
            "day": day,
            "cohort": np.asarray(COHORTS)[arm],
            "plan": np.asarray(PLANS)[plan][user],
            "region": np.asarray(REGIONS)[region][user],
            "tenure_months": tenure[user],
            "baseline_productivity": productivity.round(4)[user],
            "churn_risk": churn.round(4)[user],
            "pre_ai_calls": pre_calls[user],
            "pre_tasks_completed": pre_tasks[user],
            "pre_revenue": pre_revenue.round(4)[user],
            "ai_calls": calls,
            "tasks_completed": tasks,
            "satisfaction_score": score,
            "retention_7d": retained,
            "revenue": revenue,
        }
    )
    truth = _saas_truth(rates["expected"], n_users, n_days, seed)
    truth["options"] = {
        "revenue_lift": list(effects.revenue_lift),
        "retention_lift": list(effects.retention_lift),
        "heterogeneity": effects.heterogeneity,
    }
    truth["uplift"] = _uplift_truth(rates["expected"]["revenue"])
    truth["estimates"] = _estimate_keys(truth)
    truth["story"] = _story(truth)
    return frame, truth


def _story(truth: dict[str, Any]) -> list[str]:
    """The truth in sentences, for the report beside the estimates."""
    effects, uplift = truth["effects"], truth["uplift"]

    def lifts(metric: str) -> str:
        return ", ".join(
            f"{arm} {100 * effects[metric][arm]['relative']:+.1f}%" for arm in COHORTS[1:]
        )

    ratios = ", ".join(
        f"{arm} {u['top_20_percent_ratio']:.1f}×" for arm, u in uplift["arms"].items()
    )
    return [
        f"Revenue per user-day vs {truth['control']}: {lifts('revenue')}.",
        f"7-day retention vs {truth['control']}: {lifts('retention_7d')}.",
        f"The top 20% of users by true revenue effect gain {ratios} the average effect.",
        "The revenue effect is driven by " + ", ".join(uplift["drivers"]) + ".",
    ]


def revenue_multiplier(
    productivity: np.ndarray, churn: np.ndarray, tenure: np.ndarray, heterogeneity: float
) -> np.ndarray:
    """Each user's revenue effect relative to the average (mean 1): exp(h·z) over its mean,
    z the `DRIVERS`-weighted sum of the standardised features, scaled to unit variance."""

    def standard(x: np.ndarray) -> np.ndarray:
        sd = x.std()
        return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)

    columns = {
        "baseline_productivity": np.log(productivity),
        "churn_risk": churn,
        "tenure_months": np.log(tenure),
    }
    z = sum(w * standard(columns[name]) for name, w in DRIVERS.items())
    z = standard(np.asarray(z, dtype=float))
    multiplier = np.exp(heterogeneity * z)
    return multiplier / multiplier.mean()


def _uplift_truth(revenue: np.ndarray) -> dict[str, Any]:
    """Per arm, the true per-user revenue effect (per day): its mean, the mean of the top 20%
    of users by it over the mean (how concentrated the effect is), and the drivers."""
    out = {}
    for a in range(1, len(COHORTS)):
        cate = revenue[:, a] - revenue[:, 0]
        top = cate >= np.quantile(cate, 0.8)
        out[COHORTS[a]] = {
            "ate": float(cate.mean()),
            "top_20_percent_ratio": float(cate[top].mean() / cate.mean()),
        }
    return {"outcome": "revenue", "arms": out, "drivers": list(DRIVERS)}


def _estimate_keys(truth: dict[str, Any]) -> dict[str, float]:
    """The truth by the estimate keys Cerebro's results use (`cerebro report --truth`): the A/B
    comparisons (absolute and relative) and the uplift ATE of each arm."""
    from cerebro.core.results import estimate_key

    keys: dict[str, float] = {}
    control = truth["control"]
    for metric, by_variant in truth["effects"].items():
        for variant, effect in by_variant.items():
            keys[estimate_key(f"{metric}: {variant} − {control}")] = effect["absolute"]
            keys[estimate_key(f"{metric}: {variant} vs {control} (relative)")] = effect["relative"]
    for arm, uplift in truth["uplift"]["arms"].items():
        keys[estimate_key(f"ATE {arm} vs {control}")] = uplift["ate"]
    return keys


def _saas_rates(
    plan: np.ndarray,
    tenure: np.ndarray,
    productivity: np.ndarray,
    churn: np.ndarray,
    engagement: np.ndarray,
    effects: SaasEffects,
) -> dict[str, Any]:
    """The model of `saas_experiment` without noise: every user's expected daily value of each
    metric under every cohort, shape (users, cohorts), in ``expected`` (the truth is their
    average), and the parameters the draws need (rates, satisfaction mean, purchase
    probability, log-mean purchase amount)."""
    heterogeneity = (productivity / productivity.mean())[:, None]
    calls_rate = 5.0 * engagement[:, None] * (1 + np.array(CALL_LIFT)[None, :] * heterogeneity)
    tasks_rate = 3.0 * engagement[:, None] * (1 + np.array(TASK_LIFT)[None, :])
    satisfaction_mean = (
        3.3
        + 0.25 * np.log(productivity)[:, None]
        - 0.8 * churn[:, None]
        + np.array(SATISFACTION_SHIFT)
    )
    retention_base = special.expit(1.6 - 4.0 * churn + 0.02 * tenure)[:, None]
    retention_p = np.minimum(retention_base * (1 + np.array([0.0, *effects.retention_lift])), 0.995)
    paid = np.array([0.4, 1.0, 1.3, 1.6])[plan]
    multiplier = revenue_multiplier(productivity, churn, tenure, effects.heterogeneity)
    purchase_lift = np.array([0.0, *effects.revenue_lift])[None, :] * multiplier[:, None]
    purchase_p = np.clip(0.04 * paid[:, None] * (1 + purchase_lift), 0, 1)
    amount_log_mean = np.log(20.0) + 0.5 * np.log(paid)
    amount_sigma = 0.8
    amount_mean = np.exp(amount_log_mean + amount_sigma**2 / 2)[:, None]
    expected_score = 1 + sum(
        special.ndtr((satisfaction_mean - k - 0.5) / SATISFACTION_NOISE) for k in range(1, 5)
    )
    expected = {
        "ai_calls": calls_rate,
        "tasks_completed": tasks_rate,
        "satisfaction_score": expected_score,
        "retention_7d": retention_p,
        "revenue": purchase_p * amount_mean,
    }

    return {
        "expected": expected,
        "calls_rate": calls_rate,
        "tasks_rate": tasks_rate,
        "satisfaction_mean": satisfaction_mean,
        "retention_p": retention_p,
        "purchase_p": purchase_p,
        "amount_log_mean": amount_log_mean,
        "amount_sigma": amount_sigma,
    }


def _saas_truth(
    expected: dict[str, np.ndarray], n_users: int, n_days: int, seed: int
) -> dict[str, Any]:
    """The sample average effects of `saas_experiment`: each cohort's mean expected value over
    all realised users minus A_control's, absolute and relative."""
    effects: dict[str, dict[str, dict[str, float]]] = {}
    for metric, values in expected.items():
        means = values.mean(axis=0)
        effects[metric] = {
            COHORTS[a]: {
                "control_mean": float(means[0]),
                "absolute": float(means[a] - means[0]),
                "relative": float(means[a] / means[0] - 1),
            }
            for a in range(1, len(COHORTS))
        }
    truth = {
        "estimand": "sample average treatment effect on the per-user-day mean, vs A_control",
        "control": COHORTS[0],
        "effects": effects,
        "n_users": n_users,
        "n_days": n_days,
        "seed": seed,
    }
    return truth


def confounded_table(n: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Observational data with known truth: `treated` (0/1) is more likely for older and more
    engaged customers, who also spend more; `spend` = 1·treated + 0.05·age + 2·engagement +
    noise, so the true ATE is 1 while the naive difference of means is biased upwards (it is
    returned too). Adjusting for `age` and `engagement` removes the bias."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 70, n).round(0)
    engagement = rng.normal(0, 1, n)
    logit = -2.2 + 0.04 * age + 0.9 * engagement
    treated = (rng.random(n) < special.expit(logit)).astype(np.int64)
    spend = 1.0 * treated + 0.05 * age + 2.0 * engagement + rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {"treated": treated, "age": age, "engagement": engagement.round(4), "spend": spend.round(4)}
    )
    naive = frame.spend[frame.treated == 1].mean() - frame.spend[frame.treated == 0].mean()
    return frame, {"ate": 1.0, "naive_difference": float(naive), "seed": seed}
