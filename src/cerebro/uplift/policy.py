"""Targeting policy: whom to treat, given a cost per treatment, a value per outcome and a budget.

The policy family is "treat the top k units by predicted uplift" (a threshold on the score).
For each k – one point per distinct score, rows with equal scores entering together – the
*incremental outcomes* of treating the top k are estimated from the held-out experiment, not
from the model's own predictions:

    incremental(k) = k · (ȳ_T(k) − ȳ_C(k)),

the difference in mean outcome between treated and control rows among the top k, scaled to
the k units (the uplift-curve gain of `evaluation.uplift_curve`). With value v per outcome
and cost c per treated unit

    value(k) = v · incremental(k),  cost(k) = c · k,  profit(k) = value(k) − cost(k),
    ROI(k) = profit(k) / cost(k)   (NaN when nothing is spent).

Standard errors use Welch's variance of the difference in means among the top k
(SE(incremental) = k · √(s_T²/N_T + s_C²/N_C)); intervals are normal (1 − alpha). The decision
takes the k with the largest estimated profit among those whose cost fits the budget (and
`max_treated`), with k = 0 (treat no one, profit 0) always allowed, and compares it with
treating everyone and no one. Amounts are for the rows passed in; scale by (population size /
rows) for a larger base.

Assumptions: treatment was randomised in the evaluation data (constant propensity) and the
scores were not fitted on these rows. The profit of the chosen k is the maximum of a noisy
curve, so it is optimistic (winner's curse); its interval ignores that selection. This is
the empirical-welfare-maximisation view of policy learning restricted to threshold rules
(Kitagawa & Tetenov 2018, *Econometrica* 86:591–616; Athey & Wager 2021, *Econometrica*
89:133–161); the cumulative-gain estimate follows Radcliffe (2007).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.uplift.evaluation import check_inputs, rank_scores

if TYPE_CHECKING:
    import pandas as pd

POLICY_COLUMNS = (
    "k",
    "fraction",
    "score",
    "n_treated",
    "n_control",
    "uplift",
    "incremental",
    "incremental_se",
    "incremental_ci_low",
    "incremental_ci_high",
    "value",
    "cost",
    "profit",
    "profit_ci_low",
    "profit_ci_high",
    "roi",
    "within_budget",
)


# The curve's columns a decision reports (the threshold score is reported as score_threshold).
DECISION_KEYS = tuple(
    c
    for c in POLICY_COLUMNS
    if c not in ("score", "n_treated", "n_control", "uplift", "within_budget")
)


def _check_money(name: str, x: float) -> float:
    x = float(x)
    if not math.isfinite(x) or x < 0:
        raise UserInputError(f"{name}={x} must be a finite number ≥ 0; pass e.g. {name}=1.0.")
    return x


def targeting(
    y,
    t,
    score,
    *,
    value_per_outcome: float = 1.0,
    cost_per_treatment: float = 0.0,
    budget: float | None = None,
    alpha: float = 0.05,
    max_treated: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Profit curve of "treat the top k by score" and the best k under the budget.

    Returns ``(curve, decision)``. `curve` has one row per distinct score plus k = 0 with the
    columns of `POLICY_COLUMNS` (`uplift` is the difference in means among the top k; NaN and
    not eligible while an arm has fewer than two rows). `decision` holds the chosen ``k``,
    ``fraction``, ``score_threshold`` (treat rows whose score is at least this), the estimates
    at that k (``incremental``, ``value``, ``cost``, ``profit``, ``roi`` and their intervals),
    ``budget_binding`` (whether the budget or `max_treated` excluded a more profitable k),
    and ``treat_everyone`` / ``treat_no_one`` dicts of the same estimates. See the module
    docstring for definitions and assumptions.
    """
    import pandas as pd

    from cerebro.stats.intervals import quantile

    value_per_outcome, cost_per_treatment, budget = _checked_terms(
        value_per_outcome, cost_per_treatment, budget, alpha, max_treated
    )
    y, t, score = check_inputs(y, t, score)
    n = y.size
    ranking = rank_scores(score)
    k, n_t, n_c, uplift, se_uplift, ok = _top_k_uplift(y, t, ranking)
    z = float(quantile(1 - alpha / 2, None))
    incremental = k * uplift
    inc_se = k * se_uplift
    value = value_per_outcome * incremental
    cost = cost_per_treatment * k
    profit = value - cost
    half = abs(value_per_outcome) * z * inc_se
    with np.errstate(invalid="ignore", divide="ignore"):
        roi = np.where(cost > 0, profit / cost, np.nan)
    within = np.ones(k.size, dtype=bool)
    if budget is not None:
        within &= cost <= budget * (1 + 1e-12)
    if max_treated is not None:
        within &= k <= max_treated

    def origin(x, first=0.0):
        out = np.empty(x.size + 1)
        out[0] = first
        out[1:] = x
        return out

    curve = pd.DataFrame(
        {
            "k": origin(k).astype(np.int64),
            "fraction": origin(k) / n,
            "score": origin(ranking.values, np.nan),
            "n_treated": origin(n_t).astype(np.int64),
            "n_control": origin(n_c).astype(np.int64),
            "uplift": origin(uplift, np.nan),
            "incremental": origin(incremental),
            "incremental_se": origin(inc_se),
            "incremental_ci_low": origin(incremental - z * inc_se),
            "incremental_ci_high": origin(incremental + z * inc_se),
            "value": origin(value),
            "cost": origin(cost),
            "profit": origin(profit),
            "profit_ci_low": origin(profit - half),
            "profit_ci_high": origin(profit + half),
            "roi": origin(roi, np.nan),
            "within_budget": np.r_[True, within],
        }
    )

    terms = {
        "value_per_outcome": value_per_outcome,
        "cost_per_treatment": cost_per_treatment,
        "budget": budget,
        "max_treated": None if max_treated is None else int(max_treated),
    }
    decision = _decision(curve, ok, within, terms, alpha, n)
    return curve, decision


def _checked_terms(
    value_per_outcome: float,
    cost_per_treatment: float,
    budget: float | None,
    alpha: float,
    max_treated: int | None,
) -> tuple[float, float, float | None]:
    """The money terms as floats, refusing a non-finite value, a negative cost or budget, an
    alpha outside (0, 1), a budget that cannot bind (no cost) and a fractional `max_treated`."""
    value_per_outcome = float(value_per_outcome)
    if not math.isfinite(value_per_outcome):
        raise UserInputError(
            f"value_per_outcome={value_per_outcome} is not finite; pass a number such as 1.0."
        )
    cost_per_treatment = _check_money("cost_per_treatment", cost_per_treatment)
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha={alpha} is not in (0, 1); pass e.g. 0.05.")
    if budget is not None:
        budget = _check_money("budget", budget)
        if cost_per_treatment == 0:
            raise UserInputError(
                f"budget={budget} needs a positive cost_per_treatment to bind; give the cost, or cap the count with max_treated."
            )
    if max_treated is not None and (int(max_treated) != max_treated or max_treated < 0):
        raise UserInputError(
            f"max_treated={max_treated} is not a whole number ≥ 0; pass e.g. 1000."
        )
    return value_per_outcome, cost_per_treatment, budget


def _top_k_uplift(y: np.ndarray, t: np.ndarray, ranking: Any) -> tuple[np.ndarray, ...]:
    """For every k (rows of score at least the k-th distinct score): k, treated and control
    counts, the difference in means among the top k and its Welch standard error, and whether
    both arms have two rows (else the uplift is NaN), all from cumulative sums in one pass."""
    order, ends = ranking.order, ranking.ends
    # centre y first: the variances below come from sums of squares
    yc = y - y.mean()
    y_s = yc[order]
    t_s = t[order].astype(float)
    n_t = np.cumsum(t_s)[ends]
    k = (ends + 1).astype(float)
    n_c = k - n_t
    s_t = np.cumsum(y_s * t_s)[ends]
    s_all = np.cumsum(y_s)[ends]
    q_t = np.cumsum(y_s * y_s * t_s)[ends]
    q_all = np.cumsum(y_s * y_s)[ends]
    s_c, q_c = s_all - s_t, q_all - q_t
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (n_t >= 2) & (n_c >= 2)
        m_t, m_c = s_t / n_t, s_c / n_c
        v_t = np.maximum(q_t - n_t * m_t * m_t, 0.0) / (n_t - 1)
        v_c = np.maximum(q_c - n_c * m_c * m_c, 0.0) / (n_c - 1)
        uplift = np.where(ok, m_t - m_c, np.nan)
        se_uplift = np.where(ok, np.sqrt(v_t / n_t + v_c / n_c), np.nan)
    return k, n_t, n_c, uplift, se_uplift, ok


def _decision(
    curve: pd.DataFrame,
    ok: np.ndarray,
    within: np.ndarray,
    terms: dict[str, Any],
    alpha: float,
    n: int,
) -> dict[str, Any]:
    """The most profitable eligible k (the smallest among ties) with its estimates and the
    money `terms`, whether the budget excluded a more profitable k, and the same estimates for
    treating everyone and no one."""

    def point(i: int) -> dict[str, Any]:
        row = curve.iloc[i]
        out = {key: (int(row[key]) if key == "k" else float(row[key])) for key in DECISION_KEYS}
        out["score_threshold"] = float(row["score"])
        return out

    eligible = np.r_[True, ok & within]
    profits = curve["profit"].to_numpy()
    candidates = np.where(eligible & np.isfinite(profits), profits, -np.inf)
    best = int(np.argmax(candidates))  # first maximum: the smallest k among equal profits
    unconstrained = np.where(np.r_[True, ok] & np.isfinite(profits), profits, -np.inf)
    decision = point(best)
    decision.update(
        {
            **terms,
            "budget_binding": bool(np.max(unconstrained) > candidates[best]),
            "alpha": alpha,
            "rows": int(n),
            "treat_everyone": {**point(len(curve) - 1), "within_budget": bool(within[-1])},
            "treat_no_one": {**point(0), "within_budget": True},
        }
    )
    decision["profit_vs_everyone"] = decision["profit"] - decision["treat_everyone"]["profit"]
    return decision
