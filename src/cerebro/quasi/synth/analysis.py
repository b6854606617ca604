"""`cerebro causal --method synthetic_control`: the effect of an intervention on one unit (or a few).

Runner: long panel (unit, time, outcome[, predictors]) → balanced (units × periods) matrix →
synthetic control of the treated unit (ADH, ridge-augmented, or synthetic DiD) → gaps, ATT over
the post-period, placebo-in-space permutation inference, leave-one-out, fit diagnostics.

Estimand: the average effect on the treated unit over the post-period, τ = mean_t≥T₀ (Y₁ₜ(1) −
Y₁ₜ(0)), with Y₁ₜ(0) imputed by a weighted average of untreated donors. It is causal if the
donors are unaffected by the intervention (no spillovers), nothing else hits the treated unit
at the same time, and the treated unit's untreated path is reproduced by the donors (a factor
model the pre-period fit can vouch for). Several treated units are averaged into one aggregate
treated unit (outcomes and predictors averaged) – the ATT of the average; SDID uses them as a
block, which is the same point estimate.

References: Abadie, Diamond & Hainmueller (2010, JASA) and (2015, AJPS); Abadie (2021, JEL);
Ben-Michael, Feller & Rothstein (2021, JASA); Arkhangelsky et al. (2021, AER).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.columns import confounder_terms, numeric_column
from cerebro.data.donor_weights import donor_vector
from cerebro.data.load import label_text
from cerebro.data.validate import require_finite, require_varying
from cerebro.quasi.design import design_result
from cerebro.quasi.synth.augmented import fit_augmented
from cerebro.quasi.synth.donor_weights import fixed_fit
from cerebro.quasi.synth.inference import (
    Placebos,
    adh_fitter,
    leave_one_out,
    permutation_p_value,
    placebo_se,
    placebos_in_space,
)
from cerebro.quasi.synth.sdid import fit_sdid, jackknife_se
from cerebro.stats.intervals import normal_interval
from cerebro.stats.synth_weights import SynthFit

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.quasi.synth.spec import SyntheticControlSpec

MODEL_NAMES = {
    "adh": "synthetic control (Abadie–Diamond–Hainmueller)",
    "augmented": "augmented synthetic control (ridge, Ben-Michael–Feller–Rothstein)",
    "sdid": "synthetic difference-in-differences (Arkhangelsky et al.)",
}
MSPE_CUTOFF = 5.0  # ADH (2010, fig. 6): drop placebos whose pre-MSPE is > 5× the treated unit's
POOR_FIT = 0.5  # pre-RMSPE above half the SD of the treated pre-period outcome: a poor fit
OUTCOME_BLOCKS = (
    3  # with --confounders, the outcome enters as its mean over thirds of the pre-period
)


@dataclass
class Panel:
    """A balanced panel as matrices: rows are units, columns periods in time order."""

    units: list[str]
    times: list[Any]
    Y: np.ndarray
    treated: np.ndarray  # row indices of the treated units
    n_pre: int
    predictors: np.ndarray | None  # (units × k) or None (the pre-period outcomes)
    predictor_names: list[str]

    @property
    def donors(self) -> np.ndarray:
        return np.setdiff1d(np.arange(len(self.units)), self.treated)


def _time_value(value: Any, times: Any, column: str) -> Any:
    """--treat-start in the time column's type."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(times):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise UserInputError(
                f"--treat-start {value!r} is not a number, but time column {column!r} is "
                "numeric; give a value of it (e.g. 1989)."
            ) from None
    if pd.api.types.is_datetime64_any_dtype(times):
        try:
            return pd.Timestamp(value)
        except (TypeError, ValueError):
            raise UserInputError(
                f"--treat-start {value!r} is not a date like those in {column!r}."
            ) from None
    return str(value)


def _treated_from_column(frame: Any, spec: SyntheticControlSpec) -> tuple[list[str], Any]:
    """Treated units and the start period from a 0/1 treated-this-period column."""
    import pandas as pd

    values = frame[spec.treatment]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numeric_column(values, spec.treatment, "treatment")  # ±inf, huge
    levels = set(values.dropna().unique().tolist())
    if not levels <= {0, 1}:
        raise UserInputError(
            f"--treatment {spec.treatment!r} must be 0/1 (treated in this period) for a "
            f"synthetic control; it has {sorted(map(str, levels))[:4]} – or name the unit with "
            "--treated-unit."
        )
    on = frame[values == 1]
    if on.empty:
        raise UserInputError(f"--treatment {spec.treatment!r} is never 1: no treated unit-period.")
    starts = on.groupby(spec.unit)[spec.time].min()
    if starts.nunique() > 1:
        raise UserInputError(
            f"treated units start at different periods ({', '.join(map(label_text, sorted(starts.unique())[:3]))}…): "
            "a synthetic control needs one start; fit each cohort with --treated-unit and "
            "--treat-start, or use --method did --did-model callaway_santanna."
        )
    return [label_text(u) for u in starts.index], starts.iloc[0]


def _refuse_treated_gap(gaps: pd.Series, treated_names: list[str], what: str) -> None:
    """Refuse the first treated unit flagged in `gaps` ("treated unit 'x' " + `what`): a donor
    with a gap is dropped with a finding, but without its treated units there is no analysis."""
    gap = next((u for u in treated_names if gaps.get(u, False)), None)
    if gap is not None:
        raise UserInputError(f"treated unit {gap!r} {what}")


def build_panel(frame: pd.DataFrame, spec: SyntheticControlSpec, findings: list[Finding]) -> Panel:
    """Validate the long panel and turn it into matrices and predictors."""
    import pandas as pd

    unit, time, outcome = spec.unit, spec.time, spec.outcome
    assert unit is not None and time is not None
    frame = frame.copy()
    frame[outcome] = numeric_column(frame[outcome], outcome, "outcome")
    if pd.api.types.is_numeric_dtype(frame[time]) and not pd.api.types.is_bool_dtype(frame[time]):
        require_finite(frame[time].to_numpy(float), time, "time")
    complete = frame[[unit, time, outcome]].notna().all(axis=1)
    if (~complete).any():
        findings.append(
            Finding(
                "warning",
                "dropped_missing",
                f"dropped {int((~complete).sum()):,} of {len(frame):,} rows with a missing "
                f"{unit}, {time} or {outcome}.",
            )
        )
        frame = frame[complete]
    frame["_unit"] = frame[unit].map(label_text)
    duplicated = frame.duplicated(["_unit", time])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise UserInputError(
            f"unit {row['_unit']!r} has several rows for {time} = {label_text(row[time])}; "
            "a synthetic control needs one row per unit and period (aggregate first)."
        )
    if spec.treated_unit:
        treated_names = list(spec.treated_unit)
        start = spec.treat_start
        if start is None:
            if spec.treatment is None:
                raise UserInputError(
                    "name the first treated period with --treat-start (e.g. --treat-start 1989)."
                )
            start = _treated_from_column(frame, spec)[1]
    else:
        treated_names, start = _treated_from_column(frame, spec)
        if spec.treat_start is not None:
            start = spec.treat_start
    start = _time_value(start, frame[time], time)
    known = set(frame["_unit"])
    unknown = [u for u in treated_names if u not in known]
    if unknown:
        examples = ", ".join(sorted(known)[:5])
        raise UserInputError(
            f"--treated-unit {unknown[0]!r} is not a value of {unit!r} (it has e.g. {examples})."
        )
    wide = frame.pivot(index="_unit", columns=time, values=outcome)
    wide = wide[sorted(wide.columns)]
    times = list(wide.columns)
    n_pre = int(sum(t < start for t in times))
    if n_pre < 2 or n_pre >= len(times):
        raise UserInputError(
            f"--treat-start {label_text(start)} leaves {n_pre} pre-period(s) and "
            f"{len(times) - n_pre} post-period(s) of {time!r}; a synthetic control needs at least "
            "2 before and 1 from the start."
        )
    holes = wide.isna().any(axis=1)
    _refuse_treated_gap(
        holes, treated_names, f"has no {outcome!r} for some periods of {time!r}; fill or drop "
        "those periods first."
    )  # fmt: skip
    predictors, names = None, []
    if spec.confounders:
        columns, names, _ = confounder_terms(frame, spec.confounders)
        pre_rows = (frame[time] < start).to_numpy()
        per_unit = pd.DataFrame(np.column_stack(columns), columns=names)
        per_unit["_unit"] = frame["_unit"].to_numpy()
        means = per_unit[pre_rows].groupby("_unit")[names].mean().reindex(wide.index)
        missing_pred = means.isna().any(axis=1)
        _refuse_treated_gap(
            missing_pred, treated_names, "has no pre-period value of a predictor in "
            f"{', '.join(spec.confounders)}; drop that predictor."
        )  # fmt: skip
        holes = holes | missing_pred
        predictors_frame = means
    if holes.any():
        dropped = sorted(holes[holes].index)
        findings.append(
            Finding(
                "warning",
                "dropped_units",
                f"dropped {len(dropped)} donor unit(s) with missing outcomes or predictors "
                f"(e.g. {', '.join(dropped[:3])}); the panel must be balanced.",
            )
        )
        wide = wide[~holes]
    units = list(wide.index)
    Y = wide.to_numpy(float)
    treated = np.array([units.index(u) for u in treated_names])
    if len(units) - len(treated) < 2:
        raise UserInputError(
            f"only {len(units) - len(treated)} donor unit(s) left; a synthetic control needs "
            "several untreated units."
        )
    require_varying(Y.ravel(), outcome, "outcome", rows="unit-periods of the balanced panel")
    donors = np.setdiff1d(np.arange(len(units)), treated)
    require_varying(Y[donors].ravel(), outcome, "outcome", rows="donor unit-periods")
    if spec.confounders:
        blocks = np.array_split(np.arange(n_pre), min(OUTCOME_BLOCKS, n_pre))
        outcome_means = np.column_stack([Y[:, b].mean(axis=1) for b in blocks])
        predictors = np.column_stack([predictors_frame.loc[units].to_numpy(float), outcome_means])
        names = names + [
            f"{outcome} mean {label_text(times[b[0]])}–{label_text(times[b[-1]])}" for b in blocks
        ]
    return Panel(units, times, Y, treated, n_pre, predictors, names)


def _fitter(model: str, panel: Panel) -> Any:
    """(Y, treated, donors) → SynthFit for the chosen model."""
    if model == "adh":
        return adh_fitter(panel.n_pre, panel.predictors)
    if model == "augmented":
        P = panel.predictors

        def augmented(Y: np.ndarray, treated: np.ndarray, donors: np.ndarray) -> SynthFit:
            covariates = None if P is None else P[:, : P.shape[1] - OUTCOME_BLOCKS]
            return fit_augmented(Y, treated, panel.n_pre, donors, covariates)

        return augmented

    def sdid(Y: np.ndarray, treated: np.ndarray, donors: np.ndarray) -> SynthFit:
        f = fit_sdid(Y, treated, panel.n_pre, donors)
        loss = float(np.mean(f.gaps[: panel.n_pre] ** 2))
        return SynthFit(f.omega, np.empty(0), f.synthetic, f.gaps, panel.n_pre, loss, loss,
                        {"sdid": f})  # fmt: skip

    return sdid


def _interval(
    value: float, se: float, alpha: float
) -> tuple[float | None, float | None, float | None]:
    if not np.isfinite(se) or se <= 0:
        return None, None, None
    return normal_interval(value, se, alpha)


def run(frame: pd.DataFrame, spec: SyntheticControlSpec) -> Result:
    """Fit the synthetic control `spec` describes and test it against placebos in space."""
    findings: list[Finding] = []
    panel = build_panel(frame, spec, findings)
    model = spec.sc_model
    fitter = _fitter(model, panel)
    Y, treated, donors, n_pre = panel.Y, panel.treated, panel.donors, panel.n_pre
    if spec.donor_weights is not None:
        w = donor_vector(spec.donor_weights, panel.units, donors)
        fit = fixed_fit(Y, treated, donors, w, n_pre)
    else:
        fit = fitter(Y, treated, donors)
    placebos = placebos_in_space(Y, treated, donors, n_pre, fitter)
    p_all, used_all = permutation_p_value(fit.gaps, placebos, n_pre)
    p_cut, used_cut = permutation_p_value(fit.gaps, placebos, n_pre, MSPE_CUTOFF)
    att = fit.att
    if model == "sdid" and len(treated) > 1:
        se, se_how = (
            jackknife_se(Y, treated, n_pre, fit.extra["sdid"], donors),
            "jackknife (weights fixed)",
        )
    else:
        se, se_how = placebo_se(placebos.att), f"placebo SD over {len(donors)} donors"
    low, high, p_normal = _interval(att, se, spec.alpha)
    p_head = p_normal if model == "sdid" else p_all
    estimates = [
        Estimate(
            "ATT (average post-period gap)",
            att,
            se if np.isfinite(se) else None,
            low,
            high,
            p_head,
            {
                "p_permutation": p_all,
                "p_permutation_mspe5": p_cut,
                "p_normal": p_normal,
                "se_method": se_how,
                "model": model,
            },
        ),
        Estimate(f"gap in {label_text(panel.times[-1])}", float(fit.gaps[-1])),
        Estimate("pre-period RMSPE", fit.pre_rmspe),
        Estimate(
            "post/pre RMSPE ratio",
            fit.post_rmspe / fit.pre_rmspe if fit.pre_rmspe > 0 else float("inf"),
        ),
    ]
    times = [label_text(t) if not isinstance(t, (int, float)) else t for t in panel.times]
    times = [str(t) if hasattr(t, "isoformat") else t for t in times]
    tables = _tables(panel, fit, placebos, estimates, times)
    if spec.donor_weights is None:
        _model_tables(model, panel, fit, fitter, times, tables, findings)
    findings += _findings(spec, panel, fit, placebos, p_all, used_all, p_cut, used_cut, se_how)
    names = ", ".join(np.array(panel.units)[treated])
    level = f"{1 - spec.alpha:.0%}"
    ci = f" ({level} CI {low:+.4g} to {high:+.4g}, {se_how})" if low is not None else ""
    narrative = (
        f"After {label_text(panel.times[n_pre])}, {spec.outcome} of {names} was on average "
        f"{att:+.4g} per period against its {MODEL_NAMES[model]}{ci}; "
        f"{round(p_all * (used_all + 1))} of {used_all + 1} units (the treated one included) "
        f"have a post/pre RMSPE ratio at least as large (permutation p = {p_all:.3g}). "
        "It is causal if the donors were untouched by the intervention and nothing else "
        "changed for the treated unit at the same time."
    )
    title = (
        f"Synthetic control: {spec.outcome} of {names} from "
        f"{label_text(panel.times[n_pre])} — {MODEL_NAMES[model]}, {len(donors)} donors"
    )
    return design_result(
        spec,
        estimates,
        findings,
        tables,
        title=title,
        narrative=narrative,
        units=len(panel.units),
        treat_start=times[n_pre],
        model=model,
    )


def _tables(
    panel: Panel, fit: SynthFit, placebos: Placebos, estimates: list[Estimate], times: list[Any]
) -> dict[str, Any]:
    """The tables every model has: the effects (ATT and last gap), the treated and synthetic
    paths with their gap, the donor weights (largest first) and each placebo's fit and path."""
    Y, treated, donors, n_pre = panel.Y, panel.treated, panel.donors, panel.n_pre
    head = estimates[0]
    units = np.array(panel.units)
    order = np.argsort(-fit.weights, kind="stable")
    return {
        "effects": {
            "estimate": [e.label for e in estimates[:2]],
            "value": [e.value for e in estimates[:2]],
            "se": [head.se, None],
            "ci_low": [head.ci_low, None],
            "ci_high": [head.ci_high, None],
            "p_value": [head.p_value, None],
        },
        "gaps": {
            "time": times,
            "treated": Y[treated].mean(axis=0),
            "synthetic": fit.synthetic,
            "gap": fit.gaps,
            "post": [i >= n_pre for i in range(len(times))],
        },
        "weights": {"unit": units[donors][order].tolist(), "weight": fit.weights[order]},
        "placebos": {
            "unit": units[placebos.units].tolist(),
            "pre_rmspe": placebos.pre_rmspe,
            "post_rmspe": placebos.post_rmspe,
            "ratio": placebos.ratio,
            "att": placebos.att,
            "within_mspe_cutoff": placebos.pre_rmspe**2 <= MSPE_CUTOFF * fit.pre_rmspe**2,
        },
        "placebo_gaps": {
            "unit": np.repeat(units[placebos.units], len(times)).tolist(),
            "time": times * len(placebos.units),
            "gap": placebos.gaps.ravel(),
        },
    }


def _model_tables(
    model: str,
    panel: Panel,
    fit: SynthFit,
    fitter: Any,
    times: list[Any],
    tables: dict[str, Any],
    findings: list[Finding],
) -> None:
    """The tables only one model has, added to `tables`: ADH's predictor balance and
    leave-one-donor-out fits (its weights are sparse, so one donor can carry the fit), the
    augmented model's plain SC weights, and SDID's time weights."""
    Y, treated, donors, n_pre = panel.Y, panel.treated, panel.donors, panel.n_pre
    units = np.array(panel.units)
    order = np.argsort(-fit.weights, kind="stable")
    if model == "adh" and panel.predictors is not None:
        P = panel.predictors
        tables["predictors"] = {
            "predictor": panel.predictor_names,
            "treated": P[treated].mean(axis=0),
            "synthetic": fit.weights @ P[donors],
            "donor_mean": P[donors].mean(axis=0),
            "v": fit.v,
        }
    if model == "adh":
        loo = leave_one_out(Y, treated, donors, fit.weights, n_pre, fitter)
        tables["leave_one_out"] = {
            "dropped": units[loo.dropped].tolist(),
            "att": loo.att,
            "pre_rmspe": loo.pre_rmspe,
        }
        tables["leave_one_out_paths"] = {
            "dropped": np.repeat(units[loo.dropped], len(times)).tolist(),
            "time": times * len(loo.dropped),
            "synthetic": loo.synthetic.ravel(),
        }
        if len(loo.att):
            findings.append(
                Finding(
                    "info",
                    "leave_one_out",
                    f"dropping one positive-weight donor at a time moves the ATT between "
                    f"{loo.att.min():+.4g} and {loo.att.max():+.4g} (all donors: {fit.att:+.4g}).",
                )
            )
    if model == "augmented":
        tables["weights"]["sc_weight"] = fit.extra["sc_weights"][order]
    if model == "sdid":
        sd = fit.extra["sdid"]
        tables["time_weights"] = {"time": times[:n_pre], "weight": sd.lam}


def _findings(
    spec: SyntheticControlSpec,
    panel: Panel,
    fit: SynthFit,
    placebos: Any,
    p_all: float,
    used_all: int,
    p_cut: float,
    used_cut: int,
    se_how: str,
) -> list[Finding]:
    out: list[Finding] = []
    n_pre, treated = panel.n_pre, panel.treated
    pre_sd = float(np.std(panel.Y[treated].mean(axis=0)[:n_pre], ddof=1))
    relative = fit.pre_rmspe / pre_sd if pre_sd > 0 else np.inf
    worse = float(np.mean(placebos.pre_rmspe < fit.pre_rmspe))
    if relative > POOR_FIT:
        out.append(
            Finding(
                "warning",
                "poor_pre_fit",
                f"pre-period RMSPE {fit.pre_rmspe:.4g} is {relative:.0%} of the SD of the treated "
                f"{spec.outcome} before treatment: the synthetic control does not track it, so "
                "the gaps mix effect and misfit (try --sc-model augmented or sdid, or other "
                "predictors).",
            )
        )
    else:
        out.append(
            Finding(
                "info",
                "pre_fit",
                f"pre-period RMSPE {fit.pre_rmspe:.4g} ({relative:.0%} of the treated unit's "
                f"pre-period SD; {worse:.0%} of placebo fits are better).",
            )
        )
    if panel.predictors is not None and spec.sc_model == "adh":
        P = panel.predictors
        x1 = P[treated].mean(axis=0)
        outside = [
            n for n, v, lo, hi in zip(
                panel.predictor_names, x1, P[panel.donors].min(0), P[panel.donors].max(0), strict=True
            ) if v < lo or v > hi
        ]  # fmt: skip
        if outside:
            out.append(
                Finding(
                    "warning",
                    "convex_hull",
                    f"the treated unit's {', '.join(outside)} lies outside the donors' range: no "
                    "convex combination can match it (consider --sc-model augmented).",
                )
            )
    how = {
        "adh": "predictors "
        + (
            ", ".join(panel.predictor_names) + " (pre-period means; V chosen to minimise the "
            "pre-period MSPE)"
            if panel.predictors is not None
            else "= every pre-period outcome (W minimises the pre-period MSPE directly)"
        ),
        "augmented": f"ridge λ = {fit.extra.get('lam', float('nan')):.4g} by leave-one-period-out CV",
        "sdid": "unit and time weights with the paper's regularisation",
    }[spec.sc_model]
    if spec.donor_weights is not None:
        how = (
            "the donor weights given (--donor-weights), not fitted; the placebos' weights are "
            "fitted as ADH would"
        )
    several = (
        f"; the {len(treated)} treated units are averaged into one treated series"
        if len(treated) > 1
        else ""
    )
    out.append(
        Finding(
            "info",
            "method",
            f"{MODEL_NAMES[spec.sc_model]}: {how}; {len(panel.donors)} donors, {n_pre} pre- and "
            f"{len(panel.times) - n_pre} post-periods{several}; SE: {se_how}.",
        )
    )
    out.append(
        Finding(
            "info" if p_all <= spec.alpha or used_all + 1 >= 1 / spec.alpha else "warning",
            "placebo_test",
            f"placebo-in-space test: permutation p = {p_all:.3g} over {used_all} placebos "
            f"(smallest attainable {1 / (used_all + 1):.3g}); excluding placebos with pre-MSPE "
            f"above {MSPE_CUTOFF:g}× the treated unit's: p = {p_cut:.3g} over {used_cut}.",
        )
    )
    if len(treated) > 1:
        out.append(
            Finding(
                "info",
                "several_treated",
                "placebos are single donors while the treated series averages several units, "
                "so it is smoother than a placebo; the permutation p-value is conservative for "
                "large effects and approximate.",
            )
        )
    big = fit.weights.max() if len(fit.weights) else 0
    if big > 0.8 and spec.sc_model != "sdid":
        top = np.array(panel.units)[panel.donors][int(np.argmax(fit.weights))]
        out.append(
            Finding(
                "warning",
                "weights",
                f"one donor ({top}) carries {big:.0%} of the weight: the counterfactual is "
                "essentially that unit alone.",
            )
        )
    return out


def plot(result: Result) -> Any:
    """Gap plot: treated vs synthetic outcome (left) and the gap with placebo gaps in grey."""
    from cerebro.core.figure import new_figure

    gaps = result.tables.columns("gaps")
    placebo = result.tables.columns("placebo_gaps")
    fig = new_figure(11, 4.2)
    left, right = fig.subplots(1, 2)
    t = np.arange(len(gaps["time"]))
    start = int(np.argmax(np.asarray(gaps["post"], bool)))
    if "leave_one_out_paths" in result.tables:
        loo = result.tables.columns("leave_one_out_paths")
        for unit in dict.fromkeys(loo["dropped"]):
            path = [s for d, s in zip(loo["dropped"], loo["synthetic"], strict=True) if d == unit]
            left.plot(t, path, color="0.75", linewidth=0.8)
    left.plot(t, gaps["treated"], color="black", label="treated")
    left.plot(t, gaps["synthetic"], color="tab:blue", linestyle="--", label="synthetic")
    spec = result.spec
    left.set_ylabel(getattr(spec, "outcome", "outcome"))
    left.legend(loc="best", fontsize=8)
    keep = {
        u for u, ok in zip(result.tables.columns("placebos")["unit"],
                           result.tables.columns("placebos")["within_mspe_cutoff"], strict=True)
        if ok
    }  # fmt: skip
    n = len(t)
    for i in range(0, len(placebo["unit"]), n):
        if placebo["unit"][i] in keep:
            right.plot(t, placebo["gap"][i : i + n], color="0.8", linewidth=0.7)
    right.plot(t, gaps["gap"], color="black", linewidth=1.6)
    right.axhline(0, color="black", linewidth=0.6, linestyle=":")
    right.set_ylabel("gap (treated − synthetic)")
    for ax in (left, right):
        ax.axvline(start - 0.5, color="gray", linestyle="--", linewidth=0.8)
        step = max(1, n // 8)
        ax.set_xticks(t[::step], [str(x) for x in gaps["time"][::step]], fontsize=8)
    right.set_title(
        f"placebo gaps in grey (pre-MSPE ≤ {MSPE_CUTOFF:g}× treated)", loc="left", fontsize=9
    )
    fig.suptitle(result.summary.get("title", "Synthetic control"), fontsize=10)
    return fig
