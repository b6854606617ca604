"""`cerebro causal --method iv`: instrumental variables (2SLS or LIML) with weak-IV diagnostics.

Estimand: with a binary treatment and a binary instrument, the local average treatment effect
(LATE) – the effect for compliers, the units whose treatment the instrument changes (Imbens &
Angrist 1994, Econometrica 62:467); with a multi-valued or continuous treatment, a weighted
average of the effects of unit increments over the units and levels the instrument shifts
(Angrist & Imbens 1995, JASA 90:431); with several instruments, a weighted average of the
instrument-specific ones. Assumptions: independence (the instrument is as good as random given
the controls), exclusion (it moves the outcome only through the treatment), relevance (it moves
the treatment) and monotonicity (it moves nobody against its direction).

`run` only orchestrates: the numerics are in `estimators` (k-class fits, covariances,
first stage, Anderson–Rubin set, over-identification and endogeneity tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.columns import confounder_terms, note_dropped, numeric_column, source_columns
from cerebro.data.load import label_text
from cerebro.data.validate import require_units_per_arm, require_varying
from cerebro.quasi.design import design_result
from cerebro.quasi.iv import estimators as ive
from cerebro.stats.intervals import p_value_from_statistic, wald_interval

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from cerebro.quasi.iv.spec import IVSpec

COV_TYPES = ("robust", "unadjusted", "clustered")
COV_NAMES = {
    "robust": "heteroskedasticity-robust (HC0, White 1980)",
    "unadjusted": "classical (homoskedastic)",
    "clustered": "cluster-robust",
}


def _numeric_treatment(values: Any, spec: IVSpec, findings: list[Finding]) -> np.ndarray:
    """The treatment as numbers; a two-valued text column becomes 0/1 (1 = --treated or the
    second value in sorted order)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    name = spec.treatment
    if is_bool_dtype(values) or is_numeric_dtype(values):
        return numeric_column(values, name, "treatment")
    levels = sorted(values.dropna().astype(str).unique().tolist())
    if len(levels) != 2:
        raise UserInputError(
            f"treatment column {name!r} is text with {len(levels)} values; iv needs a numeric "
            "treatment (or two values, coded 0/1): recode it as a number."
        )
    treated = spec.treated if spec.treated is not None else levels[1]
    if treated not in levels:
        raise UserInputError(
            f"--treated {treated!r} is not a value of {name!r}; it has {', '.join(levels)}."
        )
    findings.append(
        Finding("info", "treatment", f"{name} coded 1 for {treated!r}, 0 for the other value.")
    )
    return np.where(values.isna(), np.nan, (values.astype(str) == treated).astype(float))


class Design:
    """Complete rows as arrays: y, d, W (intercept first), Z, cluster codes, and names."""

    def __init__(self, frame: pd.DataFrame, spec: IVSpec, findings: list[Finding]) -> None:
        from pandas.api.types import is_numeric_dtype

        self.y = numeric_column(frame[spec.outcome], spec.outcome, "outcome")
        self.d = _numeric_treatment(frame[spec.treatment], spec, findings)
        for column in dict.fromkeys(c for t in spec.instrument for c in source_columns(t)):
            if is_numeric_dtype(frame[column]):  # named as the instrument, not a confounder
                numeric_column(frame[column], column, "instrument")
        w_cols, self.w_names, notes = confounder_terms(frame, spec.confounders)
        z_cols, self.z_names, z_notes = confounder_terms(frame, list(spec.instrument))
        n = len(self.y)
        W = np.column_stack([np.ones(n), *w_cols])
        Z = np.column_stack(z_cols)
        keep = ~(np.isnan(self.y) | np.isnan(self.d) | np.isnan(W).any(1) | np.isnan(Z).any(1))
        clusters = None
        if spec.cluster is not None:
            raw = frame[spec.cluster]
            keep &= raw.notna().to_numpy()
            clusters = np.unique(raw.to_numpy()[keep].astype(str), return_inverse=True)[1]
        note_dropped(
            findings,
            keep,
            "outcome, treatment, instrument, control or cluster",
            "missingness is unrelated to the outcome given the other columns",
        )
        if notes or z_notes:
            findings.append(
                Finding(
                    "info",
                    "encoding",
                    "one-hot encoded categorical columns: " + "; ".join(notes + z_notes) + ".",
                )
            )
        self.y, self.d, self.W, self.Z = self.y[keep], self.d[keep], W[keep], Z[keep]
        self.clusters = clusters
        self._check(spec)

    @property
    def Zf(self) -> np.ndarray:
        return np.column_stack([self.W, self.Z])

    @property
    def X(self) -> np.ndarray:
        return np.column_stack([self.d, self.W])

    @property
    def n(self) -> int:
        return len(self.y)

    def _check(self, spec: IVSpec) -> None:
        n, p, k = self.n, self.W.shape[1], self.Z.shape[1]
        if n <= p + k + 1:
            raise UserInputError(
                f"only {n} complete rows for {p + k} instrument and control columns; iv needs "
                "more rows than that – check missing values or use fewer controls."
            )
        require_varying(self.y, spec.outcome, "outcome")
        require_varying(self.d, spec.treatment, "treatment")
        levels = np.unique(self.d)
        if len(levels) == 2:  # a binary treatment: both values need rows
            require_units_per_arm(
                (self.d == levels[1]).astype(float), [f"{v:g}" for v in levels], spec.treatment,
                fix="one row gives no first stage; collect more, or choose another treatment",
            )  # fmt: skip
        for j, name in enumerate(self.w_names):
            if np.ptp(self.W[:, j + 1]) == 0:
                raise UserInputError(
                    f"control {name!r} is constant in the complete rows; drop it from "
                    "--confounders."
                )
        if np.linalg.matrix_rank(self.W) < p:
            raise UserInputError(
                "the controls in --confounders are collinear (one is a combination of the "
                "others); drop the redundant one."
            )
        resid = self.Z - self.W @ ive.projection_coef(self.W, self.Z)
        for j, name in enumerate(self.z_names):
            if np.sum(resid[:, j] ** 2) <= 1e-10 * np.sum(
                (self.Z[:, j] - self.Z[:, j].mean()) ** 2
            ):
                raise UserInputError(
                    f"instrument {name!r} is constant or explained by the controls; it cannot "
                    "shift the treatment apart from them – choose another instrument."
                )
        for j, name in enumerate(self.z_names):
            values = np.unique(self.Z[:, j])
            if len(values) != 2:
                continue
            codes = (self.Z[:, j] == values[1]).astype(float)
            require_units_per_arm(
                codes, [label_text(v) for v in values], name, arm_noun="instrument value",
                fix="a binary instrument needs both values well represented; choose another "
                "instrument",
            )  # fmt: skip
            if self.clusters is not None and self.clusters.max() >= 1:  # one: refused below
                for code, value in enumerate(values):
                    count = len(np.unique(self.clusters[codes == code]))
                    if count < 2:
                        raise UserInputError(
                            f"the rows with instrument {name!r} = {label_text(value)} lie in only "
                            f"{count} cluster of {spec.cluster!r}; cluster-robust standard errors "
                            "need at least 2 clusters per instrument value – cluster by a finer "
                            "column."
                        )
        if np.linalg.matrix_rank(self.Zf) < p + k:
            raise UserInputError(
                "the instruments are collinear given the controls; drop a redundant one from "
                "--instrument."
            )
        if self.clusters is not None and self.clusters.max() < 1:
            raise UserInputError(
                f"cluster column {spec.cluster!r} has a single value in the complete rows; "
                "cluster-robust SEs need at least two clusters."
            )


def _interval(value: float, se: float, alpha: float, df: int | None) -> tuple[float, float, float]:
    """Normal (or t(df) when debiased) interval and two-sided p-value, as linearmodels."""
    low, high = wald_interval(value, se, alpha, "two-sided", df)
    p = p_value_from_statistic(value / se, "two-sided", df) if se > 0 else float("nan")
    return float(low), float(high), p


def _set_text(intervals: list[tuple[float, float]]) -> str:
    if not intervals:
        return "empty"

    def bound(x: float) -> str:
        return "−∞" if x == -np.inf else "+∞" if x == np.inf else f"{x:+.4g}"

    return " ∪ ".join(
        f"{'(' if lo == -np.inf else '['}{bound(lo)}, {bound(hi)}{')' if hi == np.inf else ']'}"
        for lo, hi in intervals
    )


def _bins(x: np.ndarray, y: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    """Means of y within quantile bins of x (fewer bins when x has few values)."""
    values = np.unique(x)
    if len(values) <= bins:
        codes = np.searchsorted(values, x)
    else:
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
        codes = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    count = np.bincount(codes)
    used = count > 0
    return {
        "instrument_mean": (np.bincount(codes, x)[used] / count[used]).tolist(),
        "treatment_mean": (np.bincount(codes, y)[used] / count[used]).tolist(),
        "n": count[used].tolist(),
    }


def run(frame: pd.DataFrame, spec: IVSpec) -> Result:
    """Estimate the effect of `spec.treatment` on `spec.outcome` with `spec.instrument`.

    `spec.iv_cov`: "robust" (HC0, the default – `linearmodels`' default too), "unadjusted"
    (classical) or "clustered" (the default when `spec.cluster` is set); `spec.debiased` adds
    the n/(n − q) small-sample factor and t/F reference distributions (`linearmodels`' flag).
    """
    findings: list[Finding] = []
    data = Design(frame, spec, findings)
    cov = _covariance(data, spec)
    y, d, W, Zf, X = data.y, data.d, data.W, data.Zf, data.X
    k = data.Z.shape[1]
    kappa = float(ive.liml_kappa(y, d, W, Zf))
    fits = {
        "OLS": ive.kclass(y, X, X, 1.0, cov),
        "2SLS": ive.kclass(y, X, Zf, 1.0, cov),
        "LIML": ive.kclass(y, X, Zf, kappa, cov),
    }
    chosen = "2SLS" if spec.iv_estimator == "2sls" else "LIML"
    fs = ive.first_stage(d, Zf, k, cov)
    pieces = ive.ar_pieces(y, d, Zf, k, cov)
    ar_set = ive.ar_confidence_set(pieces, spec.alpha)
    df = (data.n - X.shape[1]) if spec.debiased else None

    rows, estimates = _effect_estimates(fits, chosen, spec, df)
    head = estimates[0]
    finite = [(lo, hi) for lo, hi in ar_set if np.isfinite(lo) and np.isfinite(hi)]
    head.extra.update(
        {
            "cov_type": cov.kind,
            "debiased": spec.debiased,
            "anderson_rubin_set": _set_text(ar_set),
            "ar_ci_low": finite[0][0] if len(ar_set) == 1 and finite else None,
            "ar_ci_high": finite[0][1] if len(ar_set) == 1 and finite else None,
            "first_stage_f": float(fs.f_stat),
            "effective_f": float(fs.effective_f),
            "instruments": k,
        }
    )
    if chosen == "LIML":
        head.extra["liml_kappa"] = kappa
    first = _first_stage_estimates(data, spec, cov, fs, df, estimates)

    findings.append(_standard_error_finding(data, spec, cov.kind))
    critical = ive.mop_critical_value(float(fs.k_eff), 0.05, 0.10)
    _first_stage_findings(fs, critical, spec, findings)
    findings.append(_ar_finding(ar_set, pieces, spec))
    diagnostics = _diagnostics(data, spec, cov, fits, fs, critical, kappa, findings)
    if cov.kind == "clustered" and data.clusters.max() + 1 < 30:
        findings.append(
            Finding(
                "warning",
                "few_clusters",
                f"only {int(data.clusters.max()) + 1} clusters: cluster-robust SEs and tests "
                "are unreliable with fewer than about 30–50 clusters.",
            )
        )
    findings.append(_late_finding(data, spec, fs))

    tables: dict[str, Any] = {
        "effects": rows,
        "anderson_rubin": {
            "lower": [lo for lo, _ in ar_set],
            "upper": [hi for _, hi in ar_set],
        },
        "first_stage": first,
        "diagnostics": diagnostics,
        **_binned_first_stage(data, fs),
    }
    treat, out = spec.treatment, spec.outcome
    level = f"{1 - spec.alpha:.0%}"
    narrative = (
        f"By {chosen} with instrument{'s' if k > 1 else ''} {', '.join(spec.instrument)}, one "
        f"more unit of {treat} changes {out} by {head.value:+.4g} ({level} CI "
        f"{head.ci_low:+.4g} to {head.ci_high:+.4g}, {COV_NAMES[cov.kind].split(' (')[0]} SEs); "
        f"the Anderson–Rubin set, valid however weak the instruments, is {_set_text(ar_set)}. "
        f"OLS gives {fits['OLS'].params[0]:+.4g}. This is causal only if the instrument is as "
        f"good as random given the controls and moves {out} only through {treat}."
    )
    title = f"Effect of {treat} on {out} — instrumental variables ({chosen}), {data.n:,} units"
    return design_result(
        spec,
        estimates,
        findings,
        tables,
        title=title,
        narrative=narrative,
        units=data.n,
        treatment=treat,
        outcome=out,
        estimator=chosen,
        cov_type=cov.kind,
        first_stage_f=float(fs.f_stat),
        effective_f=float(fs.effective_f),
        effective_f_critical=critical,
    )


def _covariance(data: Design, spec: IVSpec) -> ive.CovSpec:
    """The covariance every fit uses: `spec.iv_cov`, or clustered when a cluster column is named
    and robust otherwise – refused here, before any fit, when it cannot be computed."""
    kind = spec.iv_cov or ("clustered" if spec.cluster else "robust")
    if kind not in COV_TYPES:
        raise UserInputError(f"cov_type {kind!r} is not one of {', '.join(COV_TYPES)}.")
    if kind == "clustered" and data.clusters is None:
        raise UserInputError("cov_type 'clustered' needs a cluster column (--cluster).")
    return ive.CovSpec(kind, spec.debiased, data.clusters if kind == "clustered" else None)


def _effect_estimates(
    fits: dict[str, Any], chosen: str, spec: IVSpec, df: int | None
) -> tuple[dict[str, list[Any]], list[Estimate]]:
    """The `effects` table and its estimates: the chosen estimator first (the headline), then
    the other IV estimator, then OLS as the naive comparison."""
    treat, out = spec.treatment, spec.outcome
    rows: dict[str, list[Any]] = {
        k_: [] for k_ in ("estimator", "estimate", "se", "ci_low", "ci_high", "p_value")
    }
    estimates: list[Estimate] = []
    for name in (chosen, "LIML" if chosen == "2SLS" else "2SLS", "OLS"):
        fit = fits[name]
        value, se = float(fit.params[0]), float(fit.se[0])
        low, high, p = _interval(value, se, spec.alpha, df)
        for col, v in zip(rows, (name, value, se, low, high, p), strict=True):
            rows[col].append(v)
        label = f"effect of {treat} on {out} ({name})"
        if name == "OLS":
            label += ", not causal if the treatment is endogenous"
        estimates.append(Estimate(label, value, se, low, high, p, {"estimator": name}))
    return rows, estimates


def _first_stage_estimates(
    data: Design,
    spec: IVSpec,
    cov: ive.CovSpec,
    fs: ive.FirstStage,
    df: int | None,
    estimates: list[Estimate],
) -> dict[str, list[Any]]:
    """The `first_stage` table – each instrument's first-stage and reduced-form coefficient –
    with an estimate per first-stage coefficient appended to `estimates` (relevance is read off
    these; the reduced form is the instrument's intention-to-treat effect)."""
    W, Zf = data.W, data.Zf
    rf = ive.kclass(data.y, Zf, Zf, 1.0, cov)
    fs_fit_se = np.sqrt(np.diag(fs.cov))
    first = {k_: [] for k_ in ("instrument", "coef", "se", "p_value", "reduced_form", "rf_se")}
    for j, name in enumerate(data.z_names):
        coef, se = float(fs.coef[j]), float(fs_fit_se[j])
        r_coef, r_se = float(rf.params[W.shape[1] + j]), float(rf.se[W.shape[1] + j])
        for col, v in zip(
            first,
            (name, coef, se, _interval(coef, se, spec.alpha, df)[2], r_coef, r_se),
            strict=True,
        ):
            first[col].append(v)
        estimates.append(
            Estimate(
                f"first stage: {name} → {spec.treatment}",
                coef,
                se,
                *_interval(coef, se, spec.alpha, df),
            )
        )
    return first


def _standard_error_finding(data: Design, spec: IVSpec, kind: str) -> Finding:
    """Which standard errors the tables show, and how to get the other conventions: the
    packages users compare with differ in their defaults."""
    cov_note = COV_NAMES[kind] + (
        f", {int(data.clusters.max()) + 1} clusters of {spec.cluster}"
        if kind == "clustered"
        else ""
    )
    return Finding(
        "info",
        "standard_errors",
        f"standard errors are {cov_note}"
        + (
            ", with the small-sample factor n/(n − q) and t/F reference distributions"
            if spec.debiased
            else ", without small-sample factors (linearmodels' cov_type="
            f"'{kind}', debiased=False; --iv-cov unadjusted gives classical SEs, --debiased "
            "Stata-like ones)"
        )
        + ".",
    )


def _binned_first_stage(data: Design, fs: ive.FirstStage) -> dict[str, Any]:
    """The tables of the first-stage plot: binned means and the fitted line.

    The treatment net of the fitted contribution of the controls and the other instruments,
    against the first instrument: a line of slope π̂₁ plus v̂. For a binary instrument the two
    bin means lie on the line exactly (v̂ sums to zero and is orthogonal to z); otherwise they
    scatter around it.
    """
    W, Z, Zf, d = data.W, data.Z, data.Zf, data.d
    zf_coef = ive.projection_coef(Zf, d[:, None])[:, 0]
    others = np.delete(Zf, W.shape[1], axis=1)
    contribution = others @ np.delete(zf_coef, W.shape[1])
    return {
        "first_stage_bins": _bins(Z[:, 0], d - contribution + contribution.mean()),
        "first_stage_line": {
            "instrument": [data.z_names[0]],
            "slope": [float(fs.coef[0])],
            "center_x": [float(Z[:, 0].mean())],
            "center_y": [float(d.mean())],
        },
    }


def _diagnostics(
    data: Design,
    spec: IVSpec,
    cov: ive.CovSpec,
    fits: dict[str, ive.Fit],
    fs: ive.FirstStage,
    critical: float,
    kappa: float,
    findings: list[Finding],
) -> dict[str, list[Any]]:
    """Weak-instrument, over-identification and endogeneity statistics (table + findings)."""
    from scipy import stats

    y, d, W, Zf, X = data.y, data.d, data.W, data.Zf, data.X
    n, k = data.n, data.Z.shape[1]
    chosen = fits["2SLS" if spec.iv_estimator == "2sls" else "LIML"]
    table: dict[str, list[Any]] = {k_: [] for k_ in ("test", "statistic", "df", "p_value", "note")}

    def add(test: str, stat: float, df: str, p: float | None, note: str) -> None:
        for col, v in zip(table, (test, float(stat), df, p, note), strict=True):
            table[col].append(v)

    unadj = cov.kind == "unadjusted"
    f_p = stats.f.sf(fs.f_stat, k, fs.df_resid) if unadj else stats.chi2.sf(fs.wald, k)
    add("first-stage F", fs.f_stat, f"{k}, {fs.df_resid}" if unadj else f"{k}",
        float(f_p), "Wald/k with the chosen SEs (F test if classical, else χ²/k)")  # fmt: skip
    add("first-stage Wald", fs.wald, f"{k}", float(stats.chi2.sf(fs.wald, k)),
        "linearmodels first_stage f.stat for robust/clustered SEs")  # fmt: skip
    add("partial R²", fs.partial_r2, "", None, "of the instruments, controls partialled out")
    add("effective F", fs.effective_f, f"K_eff = {float(fs.k_eff):.3g}", None,
        f"Montiel Olea–Pflueger; 5% critical value {critical:.3g} (2SLS bias ≤ 10%)")  # fmt: skip
    add("LIML kappa", kappa, "", None, "1 = exactly identified")
    if k > 1:
        s = float(ive.sargan(chosen.resid, Zf))
        add("Sargan", s, f"{k - 1}", float(stats.chi2.sf(s, k - 1)),
            "over-identification, assumes homoskedastic errors")  # fmt: skip
        j_p = None
        if cov.kind != "unadjusted":
            j = float(ive.hansen_j(y, X, Zf, fits["2SLS"].resid, cov))
            j_p = float(stats.chi2.sf(j, k - 1))
            add("Hansen J", j, f"{k - 1}", j_p,
                f"over-identification, {cov.kind} (two-step GMM)")  # fmt: skip
        p_used = j_p if j_p is not None else float(stats.chi2.sf(s, k - 1))
        test_name = "Hansen J" if j_p is not None else "Sargan"
        findings.append(
            Finding(
                "warning" if p_used < spec.alpha else "info",
                "overidentification",
                f"{test_name} test of the over-identifying restrictions: p = {p_used:.3g}"
                + (
                    " – the instruments disagree, so at least one violates exclusion, or the "
                    "effect differs between the groups each instrument moves (different LATEs)."
                    if p_used < spec.alpha
                    else " – no evidence that the instruments disagree (the test has power only "
                    "if some instruments are valid, and cannot show that all are)."
                ),
            )
        )
    else:
        findings.append(
            Finding(
                "info",
                "overidentification",
                "exactly identified (one instrument): the exclusion restriction cannot be "
                "tested and must be argued from how the instrument was assigned.",
            )
        )
    wh = float(ive.wu_hausman(y, d, W, Zf, chosen.resid))
    wh_p = float(stats.f.sf(wh, 1, n - X.shape[1] - 1))
    add("Wu–Hausman", wh, f"1, {n - X.shape[1] - 1}", wh_p,
        "exogeneity of the treatment, homoskedastic F")  # fmt: skip
    cf = float(ive.control_function_test(y, X, fs.resid, cov))
    cf_p = float(stats.chi2.sf(cf, 1))
    add("control-function Wald", cf, "1", cf_p,
        f"exogeneity of the treatment, {cov.kind} SEs (Wooldridge regression test)")  # fmt: skip
    p_endog = wh_p if unadj else cf_p
    findings.append(
        Finding(
            "info",
            "endogeneity",
            f"endogeneity test ({'Wu–Hausman' if unadj else f'control function, {cov.kind}'}): "
            f"p = {p_endog:.3g}"
            + (
                f" – OLS and IV differ beyond chance, so {spec.treatment} is endogenous "
                "(if the instruments are valid)."
                if p_endog < spec.alpha
                else " – no evidence that OLS is biased; OLS would be more precise, but the "
                "test has little power when the instruments are weak."
            ),
        )
    )
    return table


def _first_stage_findings(
    fs: ive.FirstStage, critical: float, spec: IVSpec, findings: list[Finding]
) -> None:
    f, eff = float(fs.f_stat), float(fs.effective_f)
    weak = eff < critical or f < 10
    findings.append(
        Finding(
            "warning" if weak else "info",
            "weak_instruments",
            f"first stage: F = {f:.3g}, effective F = {eff:.3g} (Montiel Olea–Pflueger) "
            f"against its 5% critical value {critical:.3g} for a 2SLS bias of at most 10% of "
            f"the worst case, partial R² = {float(fs.partial_r2):.3g}"
            + (
                " – the instruments may be weak: Wald intervals can under-cover and 2SLS is "
                "biased towards OLS; rely on the Anderson–Rubin set."
                if weak
                else " – the instruments are strong enough for Wald inference."
            ),
        )
    )


def _ar_finding(ar_set: list[tuple[float, float]], pieces: ive.ARPieces, spec: IVSpec) -> Finding:
    level = f"{1 - spec.alpha:.0%}"
    text = _set_text(ar_set)
    if not ar_set:
        message = (
            f"the {level} Anderson–Rubin set is empty: every effect size is rejected, which "
            "means the over-identifying restrictions fail (an instrument is invalid)."
        )
        return Finding("warning", "anderson_rubin", message)
    if ar_set == [(-np.inf, np.inf)]:
        message = (
            f"the {level} Anderson–Rubin set is the whole real line: the instruments carry no "
            "information about the effect (far too weak)."
        )
        return Finding("warning", "anderson_rubin", message)
    bounded = all(np.isfinite(lo) and np.isfinite(hi) for lo, hi in ar_set)
    if bounded and len(ar_set) == 1:
        message = f"{level} Anderson–Rubin interval, valid however weak the instruments: {text}."
        return Finding("info", "anderson_rubin", message)
    shape = "unbounded" if not bounded else "a union of disjoint intervals"
    message = (
        f"the {level} Anderson–Rubin set is {shape}: {text} – the first stage is too weak to "
        "bound the effect, so the Wald interval is not to be trusted."
    )
    return Finding("warning", "anderson_rubin", message)


def _late_finding(data: Design, spec: IVSpec, fs: ive.FirstStage) -> Finding:
    treat = spec.treatment
    binary_d = bool(np.isin(data.d, (0.0, 1.0)).all())
    binary_z = data.Z.shape[1] == 1 and bool(np.isin(data.Z[:, 0], (0.0, 1.0)).all())
    assumptions = (
        f"independence ({', '.join(spec.instrument)} as good as random given the controls), "
        f"exclusion (it affects {spec.outcome} only through {treat}), relevance (it moves "
        f"{treat}) and monotonicity (it moves nobody against its direction)"
    )
    if binary_d and binary_z:
        share = float(fs.coef[0])
        what = (
            f"the local average treatment effect (LATE): the effect for compliers, the units "
            f"whose {treat} the instrument switches (about {abs(share):.0%} of units, the "
            "first-stage difference), not for always- or never-takers"
        )
    elif binary_d:
        what = (
            "a weighted average of local average treatment effects: the effect for units whose "
            f"{treat} the instrument(s) switch (compliers), not for the whole population"
        )
    else:
        what = (
            f"a weighted average of the effects of one more unit of {treat}, over the units and "
            f"levels of {treat} the instrument shifts (Angrist–Imbens average causal response)"
        )
    several = (
        "; with several instruments it is a weighted mix of what each instrument identifies"
        if data.Z.shape[1] > 1
        else ""
    )
    controls = (
        "; with controls entering linearly the weights are guaranteed positive only if the "
        "first stage is saturated in them (Słoczyński 2024)"
        if data.W.shape[1] > 1
        else ""
    )
    return Finding(
        "info", "estimand", f"IV estimates {what}, under {assumptions}{several}{controls}."
    )


def plot(result: Result) -> Figure:
    """Left: OLS, 2SLS and LIML with Wald CIs and the Anderson–Rubin set; right: the binned
    first stage (treatment against the first instrument, controls partialled out)."""
    from cerebro.core.figure import new_figure

    effects = result.tables["effects"]
    ar = result.tables["anderson_rubin"]
    fig = new_figure(10, 4)
    left, right = fig.subplots(1, 2, width_ratios=[1.15, 1])
    labels = list(effects["estimator"])
    value = effects["estimate"].to_numpy(float)
    low, high = effects["ci_low"].to_numpy(float), effects["ci_high"].to_numpy(float)
    chosen = result.summary.get("estimator", labels[0])
    order = [lab for lab in ("OLS", "2SLS", "LIML") if lab in labels]
    ypos = {lab: len(order) - i for i, lab in enumerate(order)}
    finite = np.r_[low, high, value]
    lows = ar["lower"].to_numpy(float) if len(ar) else np.array([])
    highs = ar["upper"].to_numpy(float) if len(ar) else np.array([])
    finite = np.r_[finite, lows[np.isfinite(lows)], highs[np.isfinite(highs)]]
    pad = 0.15 * (np.ptp(finite) or 1.0)
    xmin, xmax = finite.min() - pad, finite.max() + pad
    for lab, v, lo, hi in zip(labels, value, low, high, strict=True):
        colour = "tab:blue" if lab == chosen else ("tab:gray" if lab == "OLS" else "tab:cyan")
        left.hlines(ypos[lab], lo, hi, colors=colour, linewidth=2)
        left.plot(v, ypos[lab], "o", color=colour)
    # AR set: lower/upper NaN (JSON null) or ±inf mean unbounded
    for lo, hi in zip(lows, highs, strict=True):
        a = xmin if not np.isfinite(lo) else lo
        b = xmax if not np.isfinite(hi) else hi
        left.hlines(0, a, b, colors="tab:orange", linewidth=2)
        for end, open_end, direction in (
            (a, not np.isfinite(lo), "<"),
            (b, not np.isfinite(hi), ">"),
        ):
            left.plot(end, 0, direction if open_end else "|", color="tab:orange", markersize=8)
    if not len(lows):
        left.text(0.5, 0.08, "Anderson–Rubin set empty", transform=left.transAxes, ha="center")
    left.axvline(0, color="black", linewidth=0.8)
    level = 1 - float(result.summary.get("alpha", 0.05))
    left.set_yticks([*ypos.values(), 0], [*ypos.keys(), "Anderson–Rubin\n(weak-IV robust)"])
    left.set_xlim(xmin, xmax)
    left.set_ylim(-0.7, len(order) + 0.7)
    left.set_xlabel(f"effect of {result.summary.get('treatment', 'treatment')} ({level:.0%} CI)")
    left.set_title(result.summary.get("title", "Instrumental variables"), loc="left", fontsize=9)

    bins = result.tables["first_stage_bins"]
    line = result.tables["first_stage_line"]
    x = bins["instrument_mean"].to_numpy(float)
    right.scatter(x, bins["treatment_mean"], s=12 + 30 * bins["n"] / bins["n"].max(),
                  color="tab:blue", alpha=0.8)  # fmt: skip
    grid = np.linspace(x.min(), x.max(), 2)
    slope, cx, cy = (float(line[c].iloc[0]) for c in ("slope", "center_x", "center_y"))
    right.plot(grid, cy + slope * (grid - cx), color="tab:red", linewidth=1)
    right.set_xlabel(f"{line['instrument'].iloc[0]} (binned)")
    right.set_ylabel(f"mean {result.summary.get('treatment', 'treatment')}, net of the controls")
    right.set_title(
        f"First stage: F = {result.summary.get('first_stage_f', float('nan')):.3g}, "
        f"effective F = {result.summary.get('effective_f', float('nan')):.3g} "
        f"(crit. {result.summary.get('effective_f_critical', float('nan')):.3g})",
        loc="left",
        fontsize=9,
    )
    return fig
