"""`cerebro bandit`: next-period allocation from data, or regret simulation of bandit policies.

`bandit(...)` is the Python face and `run_bandit(spec, data)` the runner (`cerebro run` with
``kind: bandit``). Numerics and references: `cerebro.experiments.bandit.policies` and `bayes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.load import load_table, require_columns
from cerebro.data.validate import (
    require_discrete_treatment,
    require_finite,
    require_units_per_arm,
    require_varying,
)
from cerebro.experiments.bandit import policies as bandits
from cerebro.experiments.bandit.spec import BanditSpec
from cerebro.experiments.bayes import beta_posterior, prob_best, t_posterior

if TYPE_CHECKING:
    import pandas as pd


def _arm_summaries(frame: pd.DataFrame, spec: BanditSpec, findings: list[Finding]):
    import pandas as pd

    assert spec.arm and spec.reward
    require_columns(list(frame.columns), [spec.arm, spec.reward], "the data")
    reward = frame[spec.reward]
    if not pd.api.types.is_numeric_dtype(reward):
        raise UserInputError(f"reward column {spec.reward!r} is not numeric; recode it as numbers.")
    infinite = int(np.isinf(reward.to_numpy(dtype=float, na_value=np.nan)).sum())
    if infinite:
        raise UserInputError(
            f"reward column {spec.reward!r} has {infinite:,} infinite value(s); fix or drop "
            "those rows (a bandit needs finite rewards)."
        )
    require_finite(reward, spec.reward, "reward")  # magnitudes whose squares overflow
    _check_arms(frame[spec.arm], spec.arm)
    keep = frame[spec.arm].notna() & reward.notna()
    if (~keep).any():
        findings.append(
            Finding(
                "warning",
                "dropped_missing",
                f"dropped {int((~keep).sum()):,} rows with a missing arm or reward.",
            )
        )
    grouped = reward[keep].astype(float).groupby(frame.loc[keep, spec.arm].astype(str))
    stats = grouped.agg(["count", "sum", "mean", "var"])
    if len(stats) < 2:
        raise UserInputError(
            f"column {spec.arm!r} has {len(stats)} arm(s); a bandit needs at least two."
        )
    binary = bool(reward[keep].isin([0, 1]).all())
    kind = spec.reward_type or ("binary" if binary else "continuous")
    if kind == "binary" and not binary:
        raise UserInputError(
            f"--reward-type binary needs 0/1 rewards, but {spec.reward!r} has other values; use continuous."
        )
    if kind == "continuous":  # a Normal posterior needs some variation of the rewards
        require_varying(reward[keep], spec.reward, "reward")
    if spec.reward_type is None:
        findings.append(
            Finding(
                "info", "reward_type", f"rewards in {spec.reward!r} read as {kind} (auto-detected)."
            )
        )
    return stats, kind


def _check_arms(values: pd.Series, column: str) -> None:
    """A numeric arm column must hold a few finite labels: ±inf or a measurement of many values
    would make an arm of each value, with a row or two apiece."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_numeric_dtype(values) and not is_bool_dtype(values):
        require_finite(values, column, "arm")
    require_discrete_treatment(values, column, fix=ARMS_FIX, role="arm")


ARMS_FIX = (
    "a bandit allocates between a few arms – check that --arm names the arm column, or label "
    "the arms (at most {max_arms} numeric ones) as text"
)


def _allocation(frame: pd.DataFrame, spec: BanditSpec) -> Result:
    findings: list[Finding] = []
    stats, kind = _arm_summaries(frame, spec, findings)
    names = list(stats.index)
    n, total, mean = stats["count"].to_numpy(), stats["sum"].to_numpy(), stats["mean"].to_numpy()
    if kind == "binary":
        posteriors = [beta_posterior(int(s), int(c)) for s, c in zip(total, n, strict=True)]
    else:
        # the t model needs 3 rewards an arm (a variance with a proper posterior): say which arm
        codes = np.repeat(np.arange(len(names)), n.astype(np.int64))
        labels = [str(a) for a in names]
        fix = "collect more rewards of it"
        require_units_per_arm(codes, labels, str(spec.arm), 3, "rows", arm_noun="arm", fix=fix)
        posteriors = [
            t_posterior(c, m, v) for c, m, v in zip(n, mean, stats["var"].to_numpy(), strict=True)
        ]
    p_best = prob_best(posteriors)
    table: dict[str, list[Any]] = {
        "arm": names,
        "n": n.tolist(),
        "reward_mean": mean.tolist(),
        "posterior_mean": [p.mean for p in posteriors],
        "posterior_ci_low": [float(p.ppf(0.025)) for p in posteriors],
        "posterior_ci_high": [float(p.ppf(0.975)) for p in posteriors],
        "p_best": p_best.tolist(),
    }
    if spec.policy == "thompson":
        allocation = p_best
        rule = "Thompson sampling: each arm's share is its posterior probability of being best (exact, by quadrature)"
    elif spec.policy == "ucb1":
        span = mean.max() - mean.min() if kind == "continuous" else 1.0
        scaled = (mean - mean.min()) / span if kind == "continuous" and span > 0 else mean
        index = bandits.ucb1_index(scaled, n.astype(float))
        table["ucb1_index"] = index.tolist()
        allocation = (index == index.max()) / (index == index.max()).sum()
        rule = "UCB1: every unit of the next period goes to the arm with the largest index" + (
            " (rewards rescaled to [0, 1] by their observed range)" if kind == "continuous" else ""
        )
    else:
        allocation = bandits.epsilon_allocation(mean, spec.epsilon)
        rule = f"epsilon-greedy with epsilon {spec.epsilon:g}"
    table["allocation"] = np.asarray(allocation, dtype=float).tolist()
    best = names[int(np.argmax(p_best))]
    findings += [
        Finding("info", "policy", rule + "."),
        Finding(
            "info",
            "best_arm",
            f"{best!r} is the most likely best arm (P(best) = {p_best.max():.1%}).",
        ),
    ]
    estimates = [
        Estimate(f"allocation: {a}", float(w), extra={"p_best": float(p)})
        for a, w, p in zip(names, table["allocation"], p_best, strict=True)
    ]
    return Result(
        kind="bandit",
        method=spec.policy,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"arms": table},
        summary={
            "headline_table": "arms",
            "title": f"Bandit allocation for the next period ({spec.policy}, {kind} rewards)",
        },
    )


def _simulation(spec: BanditSpec, means: list[float], binary: bool) -> Result:
    from cerebro.core.context import progress

    steps = spec.horizon * len(spec.policies)
    sim = bandits.simulate(
        means, spec.horizon, spec.runs, spec.policies, spec.seed, binary, spec.epsilon,
        progress=progress("simulating", steps),
    )  # fmt: skip
    final = {p: c[:, -1] for p, c in sim.curves.items()}
    table = {
        "policy": list(final),
        "regret_mean": [float(v.mean()) for v in final.values()],
        "regret_se": [
            float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None for v in final.values()
        ],
        "regret_q05": [float(np.quantile(v, 0.05)) for v in final.values()],
        "regret_q95": [float(np.quantile(v, 0.95)) for v in final.values()],
    }
    curves: dict[str, list[Any]] = {"t": sim.checkpoints.tolist()}
    for p, c in sim.curves.items():
        curves[f"{p}_mean"] = c.mean(axis=0).tolist()
        curves[f"{p}_q05"] = np.quantile(c, 0.05, axis=0).tolist()
        curves[f"{p}_q95"] = np.quantile(c, 0.95, axis=0).tolist()
    best = table["policy"][int(np.argmin(table["regret_mean"]))]
    findings = [
        Finding(
            "info",
            "simulation",
            f"{spec.runs} seeded runs (seed {spec.seed}) of {spec.horizon:,} steps on "
            f"{'Bernoulli' if binary else 'unit-variance Gaussian'} arms with means "
            f"{', '.join(f'{m:g}' for m in means)}; regret is expected (pseudo-)regret Σ(μ* − μ_chosen).",
        ),
        Finding("info", "best_policy", f"lowest mean regret at the horizon: {best}."),
    ]
    estimates = [
        Estimate(f"regret at {spec.horizon}: {p}", m, se)
        for p, m, se in zip(table["policy"], table["regret_mean"], table["regret_se"], strict=True)
    ]
    return Result(
        kind="bandit",
        method="simulation",
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"regret": table, "curves": curves},
        summary={
            "headline_table": "regret",
            "title": f"Bandit regret simulation, horizon {spec.horizon:,}",
        },
    )


def run_bandit(spec: BanditSpec, data: pd.DataFrame | None = None) -> Result:
    if spec.simulate:
        unknown = [p for p in spec.policies if p not in bandits.POLICIES]
        if unknown:
            raise UserInputError(
                f"unknown policy {unknown[0]!r}; choose from {', '.join(bandits.POLICIES)}."
            )
        if spec.means is not None:
            binary = spec.reward_type != "continuous"
            return _simulation(spec, list(spec.means), binary)
        if data is None and spec.data is None:
            raise UserInputError(
                "--simulate needs --means (e.g. 0.05,0.06) or a data file to take arm means from."
            )
    if not (spec.arm and spec.reward):
        raise UserInputError("name the --arm and --reward columns (or use --simulate --means …).")
    if data is None:
        if spec.data is None:
            raise UserInputError("no data: pass a data file with --arm and --reward columns.")
        data = load_table(spec.data, [spec.arm, spec.reward])
    if spec.simulate:
        stats, kind = _arm_summaries(data, spec, [])
        return _simulation(spec, stats["mean"].tolist(), kind == "binary")
    return _allocation(data, spec)


bandit = python_face(
    BanditSpec,
    run_bandit,
    name="bandit",
    summary="Next-period allocation from data (`arm`, `reward`), or a regret simulation "
    "(`simulate=True, means=…`).",
    example="""
    >>> bandit(df, arm="variant", reward="converted").tables.columns("arms")["allocation"]
    >>> bandit(simulate=True, means=[0.05, 0.06], horizon=1000, runs=20)
    """,
)


def bandit_plot(result: Result):
    """Regret curves (simulation) or the next-period allocation (data)."""
    from cerebro.core.figure import new_figure

    fig = new_figure(6.5, 3.8)
    ax = fig.add_subplot()
    if result.method == "simulation":
        curves = result.tables.columns("curves")
        for i, policy in enumerate(result.tables.columns("regret")["policy"]):
            ax.plot(curves["t"], curves[f"{policy}_mean"], color=f"C{i}", label=policy)
            ax.fill_between(
                curves["t"],
                curves[f"{policy}_q05"],
                curves[f"{policy}_q95"],
                color=f"C{i}",
                alpha=0.15,
            )
        ax.set_xscale("log")
        ax.set_xlabel("step (log scale)")
        ax.set_ylabel("cumulative expected regret")
        ax.legend(fontsize=8)
    else:
        arms = result.tables.columns("arms")
        ax.bar(arms["arm"], arms["allocation"], color="C0")
        ax.set_ylabel("share of next period's traffic")
    ax.set_title(result.summary.get("title", ""), fontsize=9)
    return fig


register(
    Method(
        kind="bandit",
        spec_type=BanditSpec,
        run=run_bandit,
        summary="Multi-armed bandits: Thompson/UCB1/epsilon-greedy allocation from data; regret simulation.",
        needs_data=False,
        plot="cerebro.experiments.bandit.analysis:bandit_plot",
        example="cerebro.experiments.examples:bandit",
    )
)
