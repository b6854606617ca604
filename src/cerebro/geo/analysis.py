"""`geotest`: the lift of a geo experiment, cell by cell (runner, result, plot, registration).

For each cell the treated geos are averaged and compared with a counterfactual from the control
pool (`cerebro.geo.lift`): lift % = incremental / counterfactual total, incremental units, and
the ATT per geo and day. Inference (`cerebro.geo.conformal`): the p-value is the conformal test
of "no effect on any test date" (Σ|residual| for two-sided, GeoLift's statistic; Σ for one-
sided), the interval inverts the test of a constant effect τ with the window-average statistic
(it covers the average effect; see the conformal module). For `tbr` the interval and p-value are
instead Kerman et al.'s (2017) Student-t predictive ones. Lift's interval maps the ATT
interval through lift(τ) = τ / (observed mean − τ): the counterfactual under H0 is observed − τ.

With `spend`, the treated geos' spend in the window gives cost per incremental unit (spend /
incremental) and incremental ROAS (incremental / spend – meaningful when the outcome is
revenue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.donor_weights import donor_vector
from cerebro.data.load import load_table, require_columns
from cerebro.engine.panel import event_panel
from cerebro.geo.conformal import ConformalTest
from cerebro.geo.lift import LiftFit, fit_lift, tbr_interval
from cerebro.geo.lift_spec import GeoTestSpec
from cerebro.geo.matched import match_controls
from cerebro.geo.panel import GeoPanel, _text, geo_panel

if TYPE_CHECKING:
    import pandas as pd

METHOD_NAMES = {
    "augmented_synthetic_control": "augmented synthetic control (ridge, augsynth/GeoLift)",
    "synthetic_control": "synthetic control (GeoLift's default model)",
    "tbr": "time-based regression (Kerman et al. 2017)",
    "matched_markets": "matched markets, ratio estimator",
}
POOR_FIT = 0.5  # scaled L2 imbalance above which the pre-period fit is called poor
MIN_PRE = 3  # pre-test dates: ridge's leave-one-out CV and TBR's regression need 3
FEW_DONORS = 5


def _needed(spec: GeoTestSpec) -> list[str]:
    cols = [spec.geo_column, spec.date_column, spec.outcome, *spec.matching_vars, spec.spend,
            *spec.covariates]  # fmt: skip
    return [c for c in cols if c]


def _window(panel: GeoPanel, spec: GeoTestSpec) -> tuple[int, int]:
    """(n_pre, n_post); the pre-period must hold at least MIN_PRE dates and be at least as long
    as the test window – with fewer, the counterfactual is fitted on almost nothing and most
    permuted windows of the conformal test overlap the test itself (geo-design's rule too)."""
    n_pre = panel.date_index(spec.treatment_start, "--treatment-start")
    if n_pre < MIN_PRE:
        raise UserInputError(
            f"--treatment-start {spec.treatment_start!r} leaves {n_pre} date(s) before the test "
            f"(the data start {_text(panel.dates[0])}); a geo test needs at least {MIN_PRE} "
            "pre-test dates to fit the counterfactual on – give a later --treatment-start or "
            "earlier data."
        )
    n_post = len(panel.dates) - n_pre
    if spec.treatment_end is not None:
        from cerebro.geo.panel import date_value

        end = date_value(spec.treatment_end, panel.dates, "--treatment-end")
        inside = [i for i, d in enumerate(panel.dates) if d <= end]
        if not inside or inside[-1] < n_pre:
            raise UserInputError(
                f"--treatment-end {spec.treatment_end!r} is before --treatment-start "
                f"{spec.treatment_start!r}; give a later end."
            )
        n_post = inside[-1] - n_pre + 1
    if n_pre < n_post:
        raise UserInputError(
            f"--treatment-start {spec.treatment_start!r} leaves {n_pre} date(s) before the test, "
            f"fewer than the {n_post}-date test itself; the pre-period must be at least as long "
            "as the test (GeoLift advises several times longer) – give earlier data or end the "
            "test sooner with --treatment-end."
        )
    return n_pre, n_post


def _lift_of(tau: float, fit: LiftFit) -> float:
    """Lift implied by an ATT of tau: the counterfactual under it is observed − tau.

    Increasing in tau while the counterfactual stays positive; an ATT at or above a positive
    observed mean leaves no positive counterfactual, so its lift is unbounded (+inf)."""
    obs = float(np.mean(fit.observed[fit.n_pre :]))
    cf = obs - tau
    if obs > 0 and cf <= 0:
        return float("inf")
    return tau / abs(cf) if cf != 0 else float("nan")


def pre_period_covariates(panel: GeoPanel, names: list[str], n_pre: int) -> np.ndarray | None:
    """GeoLift's X: each covariate's mean over a geo's pre-test dates (augsynth's default
    aggregation), geos × k; a geo with no pre-test value of one is refused."""
    if not names:
        return None
    means = []
    for name in names:
        pre = panel.covariate_series[name][:, :n_pre]
        seen = ~np.isnan(pre)
        if not seen.any(axis=1).all():
            geo = panel.geos[int(np.flatnonzero(~seen.any(axis=1))[0])]
            raise UserInputError(
                f"geo {geo!r} has no value of covariate {name!r} before the test; fill it or "
                "leave that covariate out."
            )
        means.append(np.where(seen, pre, 0.0).sum(axis=1) / seen.sum(axis=1))
    return np.column_stack(means)


def analyse_cell(
    panel: GeoPanel, treated: np.ndarray, donors: np.ndarray, n_pre: int, n_post: int,
    spec: GeoTestSpec,
) -> tuple[LiftFit, dict[str, Any]]:  # fmt: skip
    """Fit one cell and its inference: (fit, {p, att_low, att_high, ...})."""
    method = spec.method
    info: dict[str, Any] = {}
    if method == "matched_markets":
        donors, distance = match_controls(panel.Y, treated, n_pre, donors, panel.covariates)
        info["match_distance"] = distance
    covariates = pre_period_covariates(panel, spec.covariates, n_pre)
    weights = None
    if spec.donor_weights is not None:
        weights = donor_vector(spec.donor_weights, panel.geos, np.asarray(donors), "geo")
    fit = fit_lift(
        panel.Y, treated, n_pre, n_post, method=method, donors=donors,
        fixed_effects=spec.fixed_effects, covariates=covariates, weights=weights,
    )  # fmt: skip
    if method == "tbr":
        from cerebro.stats.intervals import p_value_from_statistic, quantile, wald_interval

        dof = fit.extra["dof"]
        low, high = tbr_interval(fit, 0.9)
        se = (high - low) / 2 / quantile(0.95, dof)  # SD of the cumulative effect's prediction
        t = fit.incremental / se if se > 0 else np.inf
        scale = fit.n_treated * fit.n_post
        low, high = wald_interval(fit.incremental, se, spec.alpha, spec.alternative, dof)
        p = p_value_from_statistic(t, spec.alternative, dof)
        att_low, att_high = low / scale, high / scale
        info.update(p=float(p), inference="Student-t predictive interval (Kerman et al. 2017)")
    else:
        common = dict(
            method=method, alternative=spec.alternative, permutation=spec.permutation,
            seed=spec.seed, donors=fit.donors, fixed_effects=spec.fixed_effects, lam=fit.lam,
            covariates=covariates, weights=weights,
        )  # fmt: skip
        p = ConformalTest(panel.Y, treated, n_pre, n_post, statistic="absolute", **common).p_value()
        test = ConformalTest(panel.Y, treated, n_pre, n_post, statistic="average", **common)
        att_low, att_high = test.interval(spec.alpha)
        info.update(
            p=p,
            p_at_estimate=test.p_value(fit.att),
            inference=f"conformal ({spec.permutation} permutations, Chernozhukov, Wüthrich & "
            "Zhu 2021)",
        )
    info.update(att_low=float(att_low), att_high=float(att_high))
    if covariates is not None and fit.weights is not None:
        synthetic = fit.weights @ covariates[fit.donors]
        info["covariate_balance"] = [
            f"{name} {treated_mean:.4g} vs {synth:.4g}"
            for name, treated_mean, synth in zip(
                spec.covariates, covariates[treated].mean(axis=0), synthetic, strict=True
            )
        ]
    return fit, info


def _resolve_roles(spec: GeoTestSpec, frame: pd.DataFrame, findings: list[Finding]) -> GeoTestSpec:
    """The spec with the roles it left out read off the data (`roles.py`), each in a finding."""
    from cerebro.geo import roles

    columns = [str(c) for c in frame.columns]
    geo = spec.geo_column or roles.infer_geo_column(columns, findings)
    updates: dict[str, Any] = {"geo_column": geo}
    if (not spec.treatment_geos or spec.treatment_start is None) and spec.date_column in columns:
        geos, start = roles.infer_test(frame, geo, spec.date_column, findings)
        if geos and not spec.treatment_geos:
            updates["treatment_geos"] = [geos]
        if start and spec.treatment_start is None:
            updates["treatment_start"] = start
    if spec.outcome is None:
        taken = [geo, spec.date_column, *spec.matching_vars, *spec.covariates,
                 *([spec.spend] if spec.spend else [])]  # fmt: skip
        updates["outcome"] = roles.infer_outcome(frame, taken, findings)
    return spec.model_copy(update=updates)


def _control_pool(
    panel: GeoPanel, spec: GeoTestSpec, cells: list[np.ndarray], n_pre: int
) -> np.ndarray:
    """The control geos: `--control-geos`, or every geo in no cell; refused when a control is
    treated, when none is left, or when none moves before the test."""
    all_treated = np.concatenate(cells)
    if spec.control_geos:
        pool = panel.index(spec.control_geos, "--control-geos")
        clash = np.intersect1d(pool, all_treated)
        if len(clash):
            raise UserInputError(
                f"--control-geos names {panel.geos[clash[0]]!r}, which is also treated; a geo "
                "is either treated or a control."
            )
    else:
        pool = np.setdiff1d(np.arange(len(panel.geos)), all_treated)
    if len(pool) == 0:
        raise UserInputError(
            f"all {len(panel.geos)} geos of the data are treated, so none is left as a control; "
            "treat fewer geos (the counterfactual is built from untreated ones)."
        )
    if not np.ptp(panel.Y[pool, :n_pre], axis=1).any():
        raise UserInputError(
            f"every control geo's {spec.outcome!r} is constant over the {n_pre} pre-test dates, "
            "so no combination of them can track the treated geos; check the data or give "
            "--control-geos that move."
        )
    return pool


def _panel_frame(spec: GeoTestSpec, frame: pd.DataFrame | None) -> tuple[Any, GeoTestSpec]:
    """The long panel: `frame`, raw events totalled per geo and date (`panel_freq`: outcome
    and spend summed, matching variables and covariates constant), or the spec's file."""
    sums = [spec.outcome, spec.spend]
    constant = [*spec.matching_vars, *spec.covariates]
    frame, spec = event_panel(spec, frame, spec.geo_column, spec.date_column, sums, constant)
    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        # every role named: read only those columns; else the whole file, to read roles off it
        complete = spec.geo_column and spec.outcome and spec.treatment_geos and spec.treatment_start
        frame = load_table(spec.data, _needed(spec) if complete else None)
    return frame, spec


def run_geotest(spec: GeoTestSpec, frame: pd.DataFrame | None = None) -> Result:
    """Estimate the lift of every cell of the geo test `spec` describes (or, with matched
    markets and no treated geos, propose matched pairs for one)."""
    findings: list[Finding] = []
    frame, spec = _panel_frame(spec, frame)
    spec = _resolve_roles(spec, frame, findings)
    require_columns([str(c) for c in frame.columns], _needed(spec), "the data")
    if not spec.treatment_geos:
        if spec.method == "matched_markets":
            from cerebro.geo.pair_design import propose_design

            return propose_design(spec, frame, findings)
        raise UserInputError(
            "give --treatment-geos (the geos in the test) and --treatment-start, or use --method "
            "matched_markets with --matching-vars to have matched pairs proposed."
        )
    if spec.treatment_start is None:
        raise UserInputError(
            "give --treatment-start (the first date of the test), or a 0/1 treated column "
            "whose first 1 marks it."
        )
    assert spec.geo_column is not None and spec.outcome is not None
    panel = geo_panel(
        frame, spec.geo_column, spec.date_column, spec.outcome, spend=spec.spend,
        covariates=spec.matching_vars, series=spec.covariates, findings=findings,
    )  # fmt: skip
    n_pre, n_post = _window(panel, spec)
    cells = [panel.index(cell, "--treatment-geos") for cell in spec.treatment_geos]
    pool = _control_pool(panel, spec, cells, n_pre)

    estimates: list[Estimate] = []
    by_date: dict[str, list[Any]] = {k: [] for k in
        ("cell", "date", "post", "observed", "counterfactual", "gap", "cumulative")}  # fmt: skip
    weights: dict[str, list[Any]] = {"cell": [], "geo": [], "weight": []}
    cell_rows: dict[str, list[Any]] = {k: [] for k in (
        "cell", "geos", "lift", "lift_ci_low", "lift_ci_high", "incremental",
        "incremental_ci_low", "incremental_ci_high", "att", "p_value", "pre_rmse",
        "scaled_l2_imbalance", "controls")}  # fmt: skip
    multi = len(cells) > 1
    level = 1 - spec.alpha
    for c, treated in enumerate(cells, start=1):
        prefix = f"cell {c} " if multi else ""
        names = ", ".join(panel.geos[i] for i in treated)
        fit, info = analyse_cell(panel, treated, pool, n_pre, n_post, spec)
        scale = fit.n_treated * fit.n_post
        att_low, att_high = info["att_low"], info["att_high"]
        inc_low, inc_high = att_low * scale, att_high * scale
        lift_low = _lift_of(att_low, fit) if np.isfinite(att_low) else -np.inf
        lift_high = _lift_of(att_high, fit) if np.isfinite(att_high) else np.inf
        common = {"cell": c, "geos": names, "inference": info["inference"], "level": level}
        estimates += [
            Estimate(f"{prefix}lift", fit.lift, None, lift_low, lift_high, info["p"],
                     {**common, "units": "fraction of the counterfactual"}),
            Estimate(f"{prefix}incremental {spec.outcome}", fit.incremental, None, inc_low,
                     inc_high, info["p"], {**common, "units": spec.outcome}),
            Estimate(f"{prefix}ATT per geo-day", fit.att, None, att_low, att_high, info["p"],
                     {**common, "n_treated": fit.n_treated, "n_days": fit.n_post}),
        ]  # fmt: skip
        if panel.spend is not None:
            spent = float(panel.spend[treated, n_pre : n_pre + n_post].sum())
            if spent > 0:
                cpi = spent / fit.incremental if fit.incremental > 0 else float("nan")
                lo = spent / inc_high if inc_high > 0 and np.isfinite(inc_high) else None
                hi = spent / inc_low if inc_low > 0 else None
                estimates.append(Estimate(f"{prefix}cost per incremental {spec.outcome}", cpi,
                                          None, lo, hi, None, {**common, "spend": spent}))  # fmt: skip
                estimates.append(Estimate(f"{prefix}incremental ROAS", fit.incremental / spent,
                                          None, inc_low / spent, inc_high / spent, None,
                                          {**common, "spend": spent}))  # fmt: skip
                if fit.incremental <= 0:
                    findings.append(Finding("warning", "no_incremental", f"{prefix}has no "
                        "positive incremental units, so cost per incremental unit is undefined."))  # fmt: skip
        cum = np.concatenate([np.zeros(n_pre), fit.cumulative])
        for t in range(n_pre + n_post):
            by_date["cell"].append(c)
            by_date["date"].append(_text(panel.dates[t]))
            by_date["post"].append(t >= n_pre)
            by_date["observed"].append(float(fit.observed[t]))
            by_date["counterfactual"].append(float(fit.counterfactual[t]))
            by_date["gap"].append(float(fit.gap[t]))
            by_date["cumulative"].append(float(cum[t]))
        if fit.weights is not None:
            order = np.argsort(-np.abs(fit.weights), kind="stable")
            for j in order:
                if abs(fit.weights[j]) >= 1e-4:
                    weights["cell"].append(c)
                    weights["geo"].append(panel.geos[fit.donors[j]])
                    weights["weight"].append(float(fit.weights[j]))
        row = [c, names, fit.lift, lift_low, lift_high, fit.incremental, inc_low, inc_high,
               fit.att, info["p"], fit.pre_rmse, fit.scaled_l2_imbalance, len(fit.donors)]  # fmt: skip
        for key, value in zip(cell_rows, row, strict=True):
            cell_rows[key].append(value)
        findings += _cell_findings(prefix, fit, info, spec)

    result = Result(
        kind="geotest",
        method=spec.method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"cells": cell_rows, "weights": weights, "by_date": by_date},
        summary={
            "title": f"Geo test: {spec.outcome}, {METHOD_NAMES[spec.method]}",
            "alpha": spec.alpha,
            "n_geos": len(panel.geos),
            "n_pre": n_pre,
            "n_post": n_post,
            "test_start": _text(panel.dates[n_pre]),
            "test_end": _text(panel.dates[n_pre + n_post - 1]),
        },
    )
    return result


def _cell_findings(
    prefix: str, fit: LiftFit, info: dict[str, Any], spec: GeoTestSpec
) -> list[Finding]:
    out = []
    who = prefix.strip() or "the treated geos"
    level = "warning" if fit.scaled_l2_imbalance > POOR_FIT else "info"
    out.append(Finding(level, "pre_fit",
        f"pre-period fit of {who}: RMSE {fit.pre_rmse:.4g} per geo-day, scaled L2 imbalance "
        f"{fit.scaled_l2_imbalance:.3f} (0 = perfect, 1 = no better than averaging the "
        f"controls){'; the fit is poor, so the counterfactual is doubtful' if level == 'warning' else ''}."))  # fmt: skip
    if fit.extra.get("fixed_weights"):
        named = int(np.count_nonzero(fit.weights))
        out.append(Finding("info", "donor_weights",
            f"the synthetic control of {who} uses the {named} control weights given by "
            "--donor-weights, not fitted ones; the conformal test keeps them under every null "
            "it tries (only the geo levels are re-estimated)."))  # fmt: skip
    if "covariate_balance" in info:
        out.append(Finding("info", "covariates",
            f"covariates of {who} balanced beside the pre-test outcomes (GeoLift's X, each "
            "weighing like one date), pre-test means treated vs synthetic: "
            + "; ".join(info["covariate_balance"]) + "."))  # fmt: skip
    p, low, high = info["p"], info["att_low"], info["att_high"]
    if (p <= spec.alpha) == (low <= 0 <= high) and np.isfinite(low) | np.isfinite(high):
        out.append(Finding("info", "test_vs_interval",
            f"for {who} the p-value ({p:.3g}) tests 'no effect on any test day' while the "
            "interval covers the average effect; they disagree here"
            + (", so the days differ from the counterfactual more than the average does."
               if p <= spec.alpha else ".")))  # fmt: skip
    p_hat = info.get("p_at_estimate")
    if p_hat is not None and p_hat <= spec.alpha and np.isfinite(low) | np.isfinite(high):
        out.append(Finding("warning", "estimate_rejected",
            f"for {who} the conformal test rejects an average effect equal to the estimate "
            f"itself (p = {p_hat:.3g} at ATT {fit.att:.4g}): refitted on all dates, as the test "
            "does, the counterfactual moves, so the test window is not the pre-period fit's "
            "path plus a constant; the interval is widened to include the estimate – treat "
            "the estimate with caution."))  # fmt: skip
    if len(fit.donors) < FEW_DONORS:
        out.append(Finding("warning", "few_donors",
            f"{who} has only {len(fit.donors)} control geo(s); the counterfactual leans on very "
            "few markets – add controls if you can."))  # fmt: skip
    if not np.isfinite(info["att_low"]) and not np.isfinite(info["att_high"]):
        out.append(Finding("warning", "no_interval",
            f"no effect size for {who} is accepted by the conformal test at alpha "
            f"{spec.alpha:g}; the fit is too poor to give an interval."))  # fmt: skip
    return out


geotest = python_face(
    GeoTestSpec,
    run_geotest,
    name="geotest",
    summary="Estimate the lift of a geo experiment: treated markets against a synthetic control "
    "built from the others, with conformal inference.",
    example="""
    >>> res = geotest("sales.csv", geo_column="dma", outcome="sales", treatment_geos="NY,CA",
    ...               treatment_start="2024-03-01")
    """,
)


def plot(result: Result) -> Any:
    """Per cell: observed vs counterfactual with the test window shaded, and the cumulative
    incremental units."""
    from cerebro.core.figure import new_figure

    rows = result.tables.columns("by_date")
    cells = sorted(set(rows["cell"]))
    fig = new_figure(11, 3.6 * len(cells))
    axes = fig.subplots(len(cells), 2, squeeze=False)
    for (left, right), c in zip(axes, cells, strict=True):
        idx = [i for i, x in enumerate(rows["cell"]) if x == c]
        t = np.arange(len(idx))
        post = np.array([rows["post"][i] for i in idx], bool)
        start = int(np.argmax(post))
        left.plot(t, [rows["observed"][i] for i in idx], color="black", label="observed")
        left.plot(t, [rows["counterfactual"][i] for i in idx], color="tab:red",
                  linestyle="--", label="counterfactual")  # fmt: skip
        left.legend(loc="best", fontsize=8)
        left.set_ylabel("treated average per geo")
        right.plot(t[post], [rows["cumulative"][i] for i, p in zip(idx, post, strict=True) if p],
                   color="tab:blue")  # fmt: skip
        right.axhline(0, color="black", linewidth=0.6)
        right.set_ylabel("cumulative incremental")
        for ax in (left, right):
            ax.axvspan(start - 0.5, len(t) - 0.5, color="0.9")
            step = max(1, len(t) // 7)
            ax.set_xticks(t[::step], [rows["date"][idx[k]] for k in t[::step]], fontsize=7)
        left.set_title(f"cell {c}" if len(cells) > 1 else "", loc="left", fontsize=9)
    fig.suptitle(result.summary.get("title", "Geo test"), fontsize=10)
    return fig


register(
    Method(
        kind="geotest",
        spec_type=GeoTestSpec,
        run=run_geotest,
        summary="Geo lift test: lift %, incremental units and ATT by (augmented) synthetic "
        "control, TBR or matched markets, with conformal inference; multi-cell.",
        plot="cerebro.geo.analysis:plot",
        example="cerebro.geo.examples:geotest",
    )
)
