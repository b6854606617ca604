"""A zoo of synthetic tables, one per design the advisor knows and one per trap, each with the
design, method and traps the advisor must find. Held out: the advisor's rules were written from
the vocabulary of docs/auto.md, and these tables use other column names and sizes where they
can (seeded; no file on disk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Case:
    name: str
    frame: pd.DataFrame
    kind: str
    spec: dict[str, Any] = field(default_factory=dict)  # fields the advice must hold
    traps: tuple[str, ...] = ()
    roles: dict[str, Any] = field(default_factory=dict)


def ab_simple(rng: np.random.Generator) -> Case:
    n = 4000
    variant = rng.choice(["control", "treatment"], n)
    converted = rng.binomial(1, np.where(variant == "treatment", 0.12, 0.10))
    frame = pd.DataFrame(
        {"visitor_id": np.arange(n) + 10_000, "variant": variant, "converted": converted}
    )
    frame["country"] = rng.choice(["DE", "FR", "UK"], n)
    return Case(
        "randomised A/B", frame, "abtest", {"treatment": "variant", "outcome": ["converted"]}
    )


def abn_cuped(rng: np.random.Generator) -> Case:
    n = 3000
    pre = rng.gamma(2.0, 20.0, n)
    arm = rng.choice(["control", "B", "C"], n)
    revenue = pre * 0.8 + rng.normal(0, 10, n) + np.select([arm == "B", arm == "C"], [2.0, 4.0], 0)
    frame = pd.DataFrame({"arm": arm, "pre_revenue": pre, "revenue": revenue})
    return Case(
        "A/B/n with a pre-period column",
        frame,
        "abtest",
        {"treatment": "arm", "covariates": ["pre_revenue"], "outcome": ["revenue"]},
    )


def ab_user_days(rng: np.random.Generator) -> Case:
    users, days = 400, 7
    user = np.repeat(np.arange(users), days)
    group = np.repeat(rng.choice(["control", "test"], users), days)
    base = np.repeat(rng.normal(5, 2, users), days)
    revenue = np.maximum(base + rng.normal(0, 1, users * days) + (group == "test") * 0.3, 0)
    day = np.tile(pd.date_range("2024-03-01", periods=days).strftime("%Y-%m-%d"), users)
    frame = pd.DataFrame({"user_id": user, "day": day, "group": group, "revenue": revenue})
    return Case(
        "randomised test with repeated user-days (trap)",
        frame,
        "abtest",
        {"treatment": "group", "cluster": "user_id"},
        ("repeated_units",),
    )


def ab_post_treatment(rng: np.random.Generator) -> Case:
    n = 3000
    bucket = rng.choice(["control", "new_checkout"], n)
    pre_orders = rng.poisson(3, n).astype(float)
    sessions_after = rng.poisson(4 + 2 * (bucket == "new_checkout")).astype(float)
    revenue = 10 * pre_orders + 3 * sessions_after + rng.normal(0, 5, n)
    frame = pd.DataFrame(
        {
            "bucket": bucket,
            "pre_orders": pre_orders,
            "sessions_after": sessions_after,
            "revenue": revenue,
        }
    )
    return Case(
        "randomised test with a post-treatment column (trap)",
        frame,
        "abtest",
        {"treatment": "bucket", "covariates": ["pre_orders"]},
        ("post_treatment",),
    )


def confounded(rng: np.random.Generator) -> Case:
    n = 3000
    age = rng.normal(40, 10, n)
    income = rng.normal(50, 15, n) + 0.5 * (age - 40)
    p = 1 / (1 + np.exp(-(0.08 * (age - 40) + 0.05 * (income - 50))))
    treated = rng.binomial(1, p)
    spend = 2 * treated + 0.1 * age + 0.05 * income + rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {"age": age, "income": income, "treated": treated, "spend_next_month": spend}
    )
    return Case(
        "confounded observational table (trap)",
        frame,
        "causal",
        {"treatment": "treated", "method": "aipw", "outcome": "spend_next_month"},
        ("not_randomised",),
        {"kpi": ["spend_next_month"]},
    )


def many_confounders(rng: np.random.Generator) -> Case:
    n = 2000
    x = rng.normal(size=(n, 12))
    treated = rng.binomial(1, 1 / (1 + np.exp(-x[:, 0] - 0.5 * x[:, 1])))
    outcome = treated + x[:, 0] + np.sin(x[:, 2]) + rng.normal(0, 1, n)
    frame = pd.DataFrame(x, columns=[f"feature_{i}" for i in range(12)])
    frame["treatment"], frame["outcome"] = treated, outcome
    return Case(
        "observational, many confounders", frame, "causal", {"method": "dml"}, ("not_randomised",)
    )


def panel(
    rng, units=40, periods=12, treated_units=20, start=6, trend=0.0, geo=False
) -> pd.DataFrame:
    unit = np.repeat(np.arange(units), periods)
    period = np.tile(np.arange(periods), units)
    is_treated = unit < treated_units
    level = np.repeat(rng.normal(100, 10, units), periods)
    y = level + 0.5 * period + rng.normal(0, 1, units * periods)
    # the trend (if any) in the treated units and in a quarter of the others: a synthetic
    # control can match it with those, a difference-in-differences cannot
    trending = is_treated | (unit >= units - units // 4)
    y += np.where(trending, trend * period, 0) + np.where(is_treated & (period >= start), 5.0, 0)
    frame = pd.DataFrame({"store": unit, "month": period, "sales": y})
    frame["on_program"] = (is_treated & (period >= start)).astype(int)
    if geo:
        frame = frame.rename(columns={"store": "dma"})
        frame["dma"] = "dma " + frame["dma"].astype(str).str.zfill(2)
    return frame


def did_panel(rng: np.random.Generator) -> Case:
    return Case(
        "panel with an intervention date",
        panel(rng),
        "did",
        {"unit": "store", "time": "month", "treatment": "on_program"},
    )


def pre_trend_panel(rng: np.random.Generator) -> Case:
    return Case(
        "panel with a pre-trend (trap)",
        panel(rng, trend=1.0),
        "synthetic_control",
        {"unit": "store", "time": "month", "treat_start": 6},
        ("pre_trend",),
    )


def single_unit(rng: np.random.Generator) -> Case:
    return Case(
        "a single treated unit (trap)",
        panel(rng, units=15, periods=20, treated_units=1, start=14),
        "synthetic_control",
        {"treated_unit": ["0"], "treat_start": 14, "sc_model": "sdid"},
        ("single_treated_unit",),
    )


def geo_panel(rng: np.random.Generator) -> Case:
    geos, days = 20, 60
    frame = panel(rng, units=geos, periods=days, treated_units=3, start=45, geo=True)
    dates = pd.date_range("2024-01-01", periods=days).strftime("%Y-%m-%d")
    frame["month"] = np.tile(dates, geos)
    frame = frame.rename(columns={"month": "date", "sales": "orders", "on_program": "campaign"})
    return Case(
        "geo × date panel",
        frame,
        "geotest",
        {"geo_column": "dma", "date_column": "date", "treatment_start": "2024-02-15"},
    )


def rdd_table(rng: np.random.Generator) -> Case:
    n = 2000
    score = rng.uniform(0, 100, n)
    scholarship = (score >= 60).astype(int)
    gpa = 2 + 0.015 * score + 0.3 * scholarship + rng.normal(0, 0.3, n)
    frame = pd.DataFrame({"exam_score": score, "scholarship": scholarship, "gpa": gpa})
    frame["female"] = rng.binomial(1, 0.5, n)
    return Case(
        "running variable with a cutoff",
        frame,
        "rdd",
        {"running_variable": "exam_score", "cutoff": 60.0},
        ("running_variable",),
        {"kpi": ["gpa"]},  # gpa or female: the outcome is the user's to say
    )


def uplift_table(rng: np.random.Generator) -> Case:
    n = 3000
    tenure = rng.exponential(12, n)
    usage = rng.normal(0, 1, n)
    plan = rng.choice(["free", "pro"], n)
    arm = rng.choice(["control", "offer"], n)
    p = 0.1 + 0.1 * (arm == "offer") * (usage > 0)
    frame = pd.DataFrame({"tenure": tenure, "usage": usage, "plan": plan, "arm": arm})
    frame["converted"] = rng.binomial(1, p)
    return Case(
        "heterogeneity question",
        frame,
        "uplift",
        {"treatment": "arm", "features": ["tenure", "usage", "plan"]},
        roles={"question": "heterogeneity"},
    )


def mmm_weekly(rng: np.random.Generator) -> Case:
    weeks = 104
    tv = rng.gamma(4, 5000, weeks)
    search = rng.gamma(4, 3000, weeks)
    social = rng.gamma(4, 1500, weeks)
    price = 1 + rng.normal(0, 0.03, weeks)
    revenue = 200_000 + 2 * tv + 3 * search + 1.5 * social - 50_000 * (price - 1)
    revenue += rng.normal(0, 5000, weeks)
    frame = pd.DataFrame(
        {
            "week": pd.date_range("2022-01-03", periods=weeks, freq="7D").strftime("%Y-%m-%d"),
            "revenue": revenue,
            "tv_spend": tv,
            "search_spend": search,
            "social_spend": social,
            "price": price,
        }
    )
    return Case(
        "MMM weekly data",
        frame,
        "mmm",
        {
            "kpi": "revenue",
            "channels": ["tv_spend", "search_spend", "social_spend"],
            "controls": ["price"],
        },
    )


def bayesian_ab(rng: np.random.Generator) -> Case:
    case = ab_simple(rng)
    return Case(
        "A/B test read the Bayesian way (asked)",
        case.frame,
        "abtest",
        {"test_type": "bayesian"},
        roles={"design": "bayesian"},
    )


def leaky(rng: np.random.Generator) -> Case:
    case = abn_cuped(rng)
    case.frame["revenue_eur"] = case.frame["revenue"] * 0.92
    return Case(
        "a column that leaks the outcome (trap)",
        case.frame,
        "abtest",
        {"outcome": ["revenue"]},
        ("leak",),
    )


def saas_like(rng: np.random.Generator) -> Case:
    """User × day rows; the arm column is 'cohort' (its levels name the control); usage is
    raised by the treatment (post-treatment, named like nothing); churn_risk is an attribute."""
    users, days = 600, 5
    user = np.repeat(np.arange(1, users + 1), days)
    cohort = np.repeat(rng.choice(["A_control", "B_new", "C_newer"], users), days)
    churn_risk = np.repeat(rng.uniform(0, 1, users), days)
    pre_usage = np.repeat(rng.gamma(3, 2, users), days)
    usage = rng.poisson(
        pre_usage * np.select([cohort == "B_new", cohort == "C_newer"], [1.3, 1.5], 1)
    )
    frame = pd.DataFrame(
        {"user_id": user, "day": np.tile(np.arange(1, days + 1), users), "cohort": cohort,
         "churn_risk": churn_risk, "pre_usage": pre_usage, "usage": usage.astype(float)}
    )  # fmt: skip
    frame["retained"] = rng.binomial(1, 0.7 - 0.2 * churn_risk)
    return Case(
        "A/B/n as user × day rows, arm named 'cohort' (traps)",
        frame,
        "abtest",
        {
            "treatment": "cohort",
            "outcome": ["retained"],
            "cluster": "user_id",
            "covariates": ["pre_usage"],
        },
        ("repeated_units", "post_treatment"),
    )


ZOO = [
    ab_simple, abn_cuped, ab_user_days, ab_post_treatment, confounded, many_confounders,
    did_panel, pre_trend_panel, single_unit, geo_panel, rdd_table, uplift_table, mmm_weekly,
    bayesian_ab, leaky, saas_like,
]  # fmt: skip


def cases() -> list[Case]:
    return [make(np.random.default_rng(100 + i)) for i, make in enumerate(ZOO)]
