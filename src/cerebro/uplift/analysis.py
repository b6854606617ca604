"""`cerebro uplift`: conditional average treatment effects (CATE), their evaluation and targeting.

Runner of `kind: uplift`: load → complete cases → features (one-hot text) → for each treated arm
against the control, the chosen model(s) fitted with cross-fitting so that every row's CATE comes
from models that never saw it → headline ATE (doubly robust, influence-function SE) → model
comparison (AUUC, Qini coefficient, uplift in the top decile, calibration), uplift by decile,
Qini curves, response tiers, targeting policy under a cost and a budget, drivers of heterogeneity
(permutation importance, partial dependence) → findings.

Estimand: τ_k(x) = E[Y(k) − Y(control) | X = x] for each treated arm k, identified under
unconfoundedness given the features (true by design in a randomised experiment), overlap
(0 < P(arm k | x, arm ∈ {k, control}) < 1) and consistency. With several arms each arm is a
separate binary problem on its own rows and the control's (Lechner 2001), and the best
treatment per unit is the arm of largest expected net value.

Heterogeneity test: the best linear predictor (BLP) of the CATE of Chernozhukov, Demirer, Duflo &
Fernández-Val (2018, "Generic machine learning inference on heterogeneous treatment effects in
randomized experiments"), in the doubly robust form of grf's `test_calibration` (Athey, Tibshirani
& Wager 2019): the out-of-fold AIPW scores ψ_i are regressed on 1 and S_i − mean(S) (S the
out-of-fold CATE); the slope β₂ is 1 for a well-calibrated CATE and 0 when the model finds no
heterogeneity the data confirm (one-sided test of β₂ ≤ 0; HC1 SEs).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.context import progress
from cerebro.core.errors import UserInputError
from cerebro.core.output import Artefact, write_bytes
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.columns import arm_codes, note_dropped, numeric_column
from cerebro.data.load import label_text, load_table, require_columns
from cerebro.data.units import (
    RepeatedUnit,
    collapse_units,
    is_none,
    unit_in_file,
    unit_in_frame,
)
from cerebro.data.validate import require_discrete_treatment, require_finite
from cerebro.uplift.model_file import (
    FeatureEncoding,
    UpliftModel,
    model_bytes,
    prediction_frame,
    write_csv,
)
from cerebro.uplift.spec import MODELS, UpliftSpec

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[str], None]

MAX_LEVELS = 20  # a text column with more distinct values is not used as a feature by default
CURVE_POINTS = 201  # curves are thinned to at most this many points in the result
SMALL_ARM = 200  # fewer rows than this in an arm: CATE estimates are mostly noise
# Drivers re-predict the CATE for every permuted column and grid point (≈ 100 predictions of the
# rows used), so they use a seeded subsample: importance shares from 2,000 rows vary by a few
# percentage points between subsamples, far less than between features that matter and not.
DRIVER_ROWS = 2_000
PD_ROWS = 1_000
IMPORTANCE_REPEATS = 3
PD_GRID = 20
TOP_DRIVERS = 3
CLIP = 0.01  # estimated propensities are clipped to [CLIP, 1 − CLIP]
_ID_NAME = re.compile(r"(^|[_\W])(id|uuid|guid|key)$|^index$|(?<=[a-z])Id$", re.IGNORECASE)
MODEL_NAMES = {
    "s_learner": "S-learner",
    "t_learner": "T-learner",
    "x_learner": "X-learner",
    "r_learner": "R-learner",
    "dr_learner": "DR-learner",
    "causal_forest": "causal forest",
}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
@dataclass
class UpliftData:
    """Complete rows: arm code a (0 = control), outcome y, design X; `keep` maps to the input."""

    a: np.ndarray
    y: np.ndarray
    X: np.ndarray
    frame: pd.DataFrame  # the feature columns of the kept rows (for tier profiles)
    keep: np.ndarray  # boolean mask over the input rows
    arms: list[str]  # control first
    encoding: FeatureEncoding
    binary: bool
    findings: list[Finding] = field(default_factory=list)
    groups: np.ndarray | None = None  # unit code per kept row (--unit), else None

    @property
    def control(self) -> str:
        return self.arms[0]

    @property
    def treated(self) -> list[str]:
        return self.arms[1:]


def _id_like(name: str, values: Any) -> bool:
    """A name like user_id / uuid / index, or an integer or text column unique on every row."""
    from pandas.api.types import is_float_dtype

    if _ID_NAME.search(str(name)):
        return True
    present = values.dropna()
    if len(present) < 50 or is_float_dtype(values):
        return False
    return bool(present.nunique() == len(present))


def choose_features(
    frame: pd.DataFrame, spec: UpliftSpec, unit: str | None = None
) -> tuple[list[str], list[str]]:
    """Every other usable column: numeric or boolean, or text with at most `MAX_LEVELS` values;
    not ID-like, not constant, not a date, not the unit id. Returns the chosen names and notes
    on the skipped."""
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    chosen, skipped = [], []
    for name in frame.columns:
        if name in (spec.treatment, spec.outcome):
            continue
        if unit is not None and str(name) == unit:
            skipped.append(f"{name} (the unit id)")
            continue
        values = frame[name]
        distinct = values.nunique(dropna=True)
        if is_datetime64_any_dtype(values):
            skipped.append(f"{name} (date/time)")
        elif distinct < 2:
            skipped.append(f"{name} (constant)")
        elif _id_like(name, values):
            skipped.append(f"{name} (ID-like)")
        elif is_numeric_dtype(values) or is_bool_dtype(values) or distinct <= MAX_LEVELS:
            chosen.append(str(name))
        else:
            skipped.append(f"{name} ({distinct:,} distinct text values)")
    if not chosen:
        raise UserInputError(
            "no usable feature columns (numeric, or text with at most "
            f"{MAX_LEVELS} values) besides the treatment and outcome; name them with --features."
        )
    return chosen, skipped


# What to do with a numeric treatment of more than `MAX_ARMS` values in an uplift model.
ARMS_FIX = (
    "uplift compares a control with a few treated arms – check that --treatment names the arm "
    "column, or band the dose into at most {max_arms} arms (or a 0/1 indicator)"
)


def _arms(values: Any, spec: UpliftSpec) -> tuple[np.ndarray, list[str], str]:
    """Arm code per row (0 = control; NaN if missing), labels (control first), and how the
    control was chosen. ±inf and a dose (a numeric column of many values) are no arms."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_numeric_dtype(values) and not is_bool_dtype(values):
        require_finite(values, spec.treatment, "treatment")
    require_discrete_treatment(values, spec.treatment, fix=ARMS_FIX)
    labels = sorted({label_text(v) for v in values.dropna().unique().tolist()})
    if len(labels) < 2:
        raise UserInputError(
            f"treatment column {spec.treatment!r} has {len(labels)} value(s) "
            f"({', '.join(labels) or 'none'}); uplift needs a control and at least one treated arm."
        )
    if spec.control is not None:
        if spec.control not in labels:
            raise UserInputError(
                f"--control {spec.control!r} is not a value of {spec.treatment!r}; it has "
                f"{', '.join(labels)}."
            )
        control, how = spec.control, "set by --control"
    elif "0" in labels or "False" in labels:
        control, how = ("0" if "0" in labels else "False"), "the value 0/False"
    elif len(named := [v for v in labels if "control" in v.lower()]) == 1:
        control, how = named[0], "the value named control"
    else:
        control, how = labels[0], "first in sorted order; use --control to choose"
    arms = [control, *[v for v in labels if v != control]]
    return arm_codes(values, arms), arms, how


def _outcome(values: Any, spec: UpliftSpec) -> tuple[np.ndarray, bool]:
    """The outcome as floats (text, ±inf and overflowing magnitudes refused) and whether it
    is modelled as binary."""
    y = numeric_column(values, spec.outcome, "outcome")
    present = y[~np.isnan(y)]
    binary = bool(np.isin(present, (0.0, 1.0)).all())
    if spec.outcome_type == "binary" and not binary:
        example = present[~np.isin(present, (0.0, 1.0))][0]
        raise UserInputError(
            f"outcome {spec.outcome!r} has values other than 0 and 1 (e.g. {example:g}) but "
            "--outcome-type binary was asked; use --outcome-type continuous or auto."
        )
    return y, binary and spec.outcome_type != "continuous"


def prepare(frame: pd.DataFrame, spec: UpliftSpec, unit: str | None = None) -> UpliftData:
    """Complete rows of treatment, outcome, features (and unit id), encoded for the models."""
    findings: list[Finding] = []
    if spec.features:
        features = list(spec.features)
    else:
        features, skipped = choose_features(frame, spec, unit)
        findings.append(
            Finding(
                "info",
                "features",
                f"no --features given: using every other usable column ({', '.join(features)})"
                + (f"; left out {', '.join(skipped)}" if skipped else "")
                + ".",
            )
        )
    a, arms, how = _arms(frame[spec.treatment], spec)
    y, binary = _outcome(frame[spec.outcome], spec)
    encoding = FeatureEncoding.learn(frame, features)
    X, _ = encoding.transform(frame)
    keep = ~np.isnan(a) & ~np.isnan(y) & ~np.isnan(X).any(axis=1)
    units = None
    if unit is not None:
        import pandas as pd

        units = pd.factorize(frame[unit])[0]
        keep &= units >= 0
    note_dropped(
        findings, keep,
        "treatment, outcome, feature" + (" or unit id" if unit else "")
        + "; their predictions are left empty",
        "missingness does not depend on the outcome given the features",
    )  # fmt: skip
    a, y, X = a[keep].astype(int), y[keep], X[keep]
    groups = None if units is None else pd.factorize(units[keep])[0].astype(np.int64)
    for code, label in enumerate(arms):
        if not (a == code).any():
            raise UserInputError(
                f"treatment arm {label!r} of {spec.treatment!r} has no complete rows; check the "
                "missing values of the outcome and features, or drop the arm."
            )
    if len(np.unique(y)) < 2:
        raise UserInputError(
            f"outcome {spec.outcome!r} takes a single value in the complete rows; there is no "
            "effect to model."
        )
    counts = ", ".join(f"{arm} {int((a == i).sum()):,}" for i, arm in enumerate(arms))
    findings.append(
        Finding(
            "info",
            "treatment",
            f"control = {spec.treatment} {arms[0]!r} ({how}); rows per arm: {counts}; outcome "
            f"{'binary (0/1)' if binary else 'continuous'}.",
        )
    )
    small = [arm for i, arm in enumerate(arms) if (a == i).sum() < SMALL_ARM]
    if small:
        findings.append(
            Finding(
                "warning",
                "small_arm",
                f"arm(s) {', '.join(repr(s) for s in small)} have fewer than {SMALL_ARM} rows: "
                "per-unit effects are mostly noise at this size; read the ATE, not the tiers.",
            )
        )
    categorical = [f for f in encoding.features if f.kind == "categorical"]
    if categorical:
        findings.append(
            Finding(
                "info",
                "encoding",
                "one-hot encoded text features: "
                + "; ".join(
                    f"{f.name} ({len(f.levels)} levels, reference {f.levels[0]!r})"
                    for f in categorical
                )
                + ".",
            )
        )
    kept = frame.loc[keep, features].reset_index(drop=True)
    return UpliftData(a, y, X, kept, keep, arms, encoding, binary, findings, groups)


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------
@dataclass
class ArmFit:
    """One model fitted on one arm-vs-control problem."""

    model: str
    fitted: Any  # FittedUplift or CausalForest: .predict(X)
    cate: np.ndarray  # out-of-fold CATE of the pair's rows
    ate: float
    ate_se: float
    seconds: float
    psi: np.ndarray  # out-of-fold AIPW scores (their mean is the ATE)
    cate_var: np.ndarray | None = None


def forest_nuisances(
    X: np.ndarray, y: np.ndarray, t: np.ndarray, spec: UpliftSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold m(x) = E[Y | X] and e(x) = P(T = 1 | X) (the known propensity when given)
    for the forest's local centring and its AIPW ATE (`forest.cross_fitted_nuisances`)."""
    from cerebro.uplift.forest import cross_fitted_nuisances

    m, e = cross_fitted_nuisances(
        X, y, t.astype(float), t_hat=spec.propensity, folds=spec.folds, seed=spec.seed,
        n_jobs=spec.jobs,
    )  # fmt: skip
    return np.asarray(m, float), np.asarray(e, float)


def dr_scores(y: np.ndarray, t: np.ndarray, m: np.ndarray, e: np.ndarray, tau: np.ndarray):
    """AIPW scores with μ₁ = m + (1 − e)τ and μ₀ = m − eτ (grf's construction):
    ψ = τ + (t − e)/(e(1 − e)) · (y − m − (t − e)τ); E[ψ | X] = τ(X) when e or (m, τ) is right."""
    return tau + (t - e) / (e * (1 - e)) * (y - m - (t - e) * tau)


def _fit_one(
    model: str,
    X: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    spec: UpliftSpec,
    binary: bool,
    groups: np.ndarray | None = None,
) -> ArmFit:
    start = time.perf_counter()
    if model == "causal_forest":
        from cerebro.uplift.forest import CausalForest

        m, e = forest_nuisances(X, y, t, spec)
        forest = CausalForest(seed=spec.seed, n_jobs=spec.jobs).fit(X, y, t, y_hat=m, t_hat=e)
        tau, var = forest.oob_predict(variance=True)
        tau = np.asarray(tau, float)
        psi = dr_scores(y, t, m, e, tau)
        return ArmFit(
            model, forest, tau, float(psi.mean()), float(psi.std(ddof=1) / np.sqrt(len(psi))),
            time.perf_counter() - start, psi, np.asarray(var, float),
        )  # fmt: skip
    from cerebro.uplift.learners import fit_learner

    fitted = fit_learner(
        model, X, y, t,
        outcome_learner=spec.learner, effect_learner=spec.learner,
        propensity_learner=spec.learner,
        propensity=spec.propensity, binary_outcome=binary, folds=spec.folds, seed=spec.seed,
        jobs=spec.jobs, groups=groups,
    )  # fmt: skip
    mu0, mu1, e = fitted.mu0, fitted.mu1, fitted.propensity
    psi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    return ArmFit(
        model, fitted, np.asarray(fitted.cate_oof, float), float(fitted.ate),
        float(fitted.ate_se), time.perf_counter() - start, psi,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Evaluation helpers
# --------------------------------------------------------------------------------------------
def thin(frame: pd.DataFrame, points: int = CURVE_POINTS) -> pd.DataFrame:
    """At most `points` rows, evenly spaced in row order, always keeping the first and last."""
    if len(frame) <= points:
        return frame.reset_index(drop=True)
    index = np.unique(np.round(np.linspace(0, len(frame) - 1, points)).astype(int))
    return frame.iloc[index].reset_index(drop=True)


def blp_test(
    psi: np.ndarray, score: np.ndarray, groups: np.ndarray | None = None
) -> dict[str, float]:
    """OLS of ψ on [1, S − mean S] with HC1 SEs (CR1 by unit with `groups`, the same numbers
    when every unit has one row): β₁ (mean effect), β₂ (heterogeneity loading), their SEs and
    the one-sided p-value of β₂ ≤ 0."""
    from scipy import special

    Z = np.column_stack([np.ones(len(score)), score - score.mean()])
    n = len(Z)
    if np.ptp(score) == 0:
        return {"beta_mean": float(psi.mean()), "beta_het": np.nan, "se_het": np.nan, "p_het": 1.0}
    from cerebro.stats.ols import ols

    units = 0 if groups is None else len(np.unique(groups))
    # CR1 by unit; with one row per unit that is HC1's number, so HC1 keeps the plain path.
    fit = ols(psi, Z, cluster=groups if units not in (0, n) else None)
    beta, cov = fit.coef, fit.vcov
    se = np.sqrt(np.diag(cov))
    p = float(special.ndtr(-beta[1] / se[1])) if se[1] > 0 else np.nan
    return {
        "beta_mean": float(beta[0]),
        "se_mean": float(se[0]),
        "beta_het": float(beta[1]),
        "se_het": float(se[1]),
        "p_het": p,
    }


def _with_arm(frame: pd.DataFrame, arm: str, model: str | None = None) -> pd.DataFrame:
    frame = frame.copy()
    if model is not None:
        frame.insert(0, "model", model)
    frame.insert(0, "arm", arm)
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _drivers(
    fit: ArmFit, X: np.ndarray, data: UpliftData, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Permutation importance of every feature and partial dependence on the top drivers, on at
    most `DRIVER_ROWS` rows (a seeded subsample)."""
    import pandas as pd

    from cerebro.uplift.drivers import partial_dependence, permutation_importance

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    rows = X[np.sort(order[:DRIVER_ROWS])]
    grid_rows = X[np.sort(order[:PD_ROWS])]
    predict = fit.fitted.predict
    groups = data.encoding.groups
    importance = permutation_importance(
        predict, rows, data.encoding.columns, groups=groups, n_repeats=IMPORTANCE_REPEATS,
        seed=seed,
    )  # fmt: skip
    feature_column = "feature" if "feature" in importance.columns else importance.columns[0]
    top = [str(f) for f in importance[feature_column].tolist()[:TOP_DRIVERS]]
    kinds = {f.name: f for f in data.encoding.features}
    frames = []
    for name in top:
        feature = kinds.get(name)
        if feature is None:
            continue
        if feature.kind == "numeric":
            pd_frame = partial_dependence(predict, grid_rows, groups[name][0], grid=PD_GRID)
            pd_frame = pd_frame.rename(columns={pd_frame.columns[0]: "value"})
            pd_frame.insert(1, "level", None)
        else:
            pd_frame = _level_dependence(predict, grid_rows, feature, groups[name])
        pd_frame.insert(0, "feature", name)
        frames.append(pd_frame)
    return (
        importance,
        (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()),
        len(rows),
    )


def _level_dependence(predict: Callable, X: np.ndarray, feature: Any, columns: list[int]):
    """Partial dependence on a text feature: every row set to each level in turn."""
    import pandas as pd

    out: dict[str, list[Any]] = {k: [] for k in ("value", "level", "mean_cate", "p10", "p90")}
    for j, level in enumerate(feature.levels):
        Xs = X.copy()
        Xs[:, columns] = 0.0
        if j > 0:
            Xs[:, columns[j - 1]] = 1.0
        ice = np.asarray(predict(Xs), float)
        for key, value in zip(
            out, [np.nan, level, ice.mean(), *np.quantile(ice, [0.1, 0.9])], strict=True
        ):
            out[key].append(value)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------
def _load(spec: UpliftSpec, frame: pd.DataFrame | None, unit: str | None = None) -> pd.DataFrame:
    named = [spec.treatment, spec.outcome, *spec.features, *([unit] if unit else [])]
    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        if spec.features:
            return load_table(spec.data, named)
        # No features named: every column is read (to choose from), treatment and outcome
        # first so that a missing one is named like any other missing column.
        return load_table(spec.data, lambda available: [*named, *available])
    require_columns([str(c) for c in frame.columns], named, "the data")
    return frame


def _find_unit(spec: UpliftSpec, frame: pd.DataFrame | None) -> RepeatedUnit | None:
    """A repeating unit id among the columns that are not the treatment, outcome or a feature
    (rule: `cerebro.data.units`)."""
    exclude = {spec.treatment, spec.outcome, *spec.features}
    if frame is None:
        from pathlib import Path

        from cerebro.data.load import describe_file

        source, types = describe_file(Path(str(spec.data)), [spec.treatment])
        if spec.treatment not in types:
            return None  # the loader names the missing column
        return unit_in_file(source, types, spec.treatment, exclude)
    if spec.treatment not in frame.columns:
        return None
    import pandas as pd

    arm = pd.factorize(frame[spec.treatment])[0].astype(np.int64)
    return unit_in_frame(frame, arm, exclude)


def resolve_unit(spec: UpliftSpec, frame: pd.DataFrame | None) -> tuple[str | None, list[Finding]]:
    """The unit column the folds keep together: --unit, a detected repeating unit id, or None
    (--unit none, or none found). The causal forest samples rows, so it refuses units."""
    if is_none(spec.unit):
        note = (
            "--unit none: every row is treated as an independent unit (no check for a repeated "
            "unit id)."
        )
        return None, [Finding("info", "units", note)]
    if frame is None and spec.data is None:
        return None, []  # `_load` says what is missing
    if spec.unit:
        unit, why = spec.unit, f"--unit {spec.unit}"
        level, code = "info", "units"
    else:
        found = _find_unit(spec, frame)
        if found is None:
            return None, []
        unit = found.column
        why = f"rows repeat the unit id {found.describe()}, so they are not independent"
        level, code = "warning", "repeated_units"
    if spec.aggregate != "none":
        return unit, []  # `aggregate` collapses the rows to one per unit and says so
    if spec.model == "causal_forest":
        raise UserInputError(
            f"{why}, and the causal forest samples rows, not units; use a meta-learner (e.g. "
            f"--model x_learner, whose folds keep each {unit} together), aggregate to one row "
            f"per {unit}, or pass --unit none if the rows really are independent."
        )
    message = (
        f"{why}: cross-fitting folds keep each {unit}'s rows together (group k-fold) and the "
        f"ATE's standard error and the heterogeneity test are clustered by {unit}; uplift by "
        "decile, tiers and targeting still count rows"
        + ("; the causal forest is left out (it samples rows)" if spec.model == "all" else "")
        + (
            "; pass --unit COLUMN to name the unit yourself, or --unit none if the rows really "
            "are independent."
            if level == "warning"
            else "."
        )
    )
    return unit, [Finding(level, code, message)]


def run_uplift(spec: UpliftSpec, frame: pd.DataFrame | None = None) -> Result:
    """Fit, evaluate and act on the CATE `spec` describes (the runner every face calls).

    Nothing is written: `--predictions` and `--save` come back as `Result.artefacts` for the
    face to write; progress goes to the run context, one step per model fit, targeting policy
    and drivers of each arm."""
    unit, unit_findings = resolve_unit(spec, frame)
    frame = _load(spec, frame, unit)
    if spec.aggregate != "none":
        frame, note = _aggregate(spec, frame, unit)
        unit, unit_findings = None, [note]
    data = prepare(frame, spec, unit)
    findings = [*unit_findings, *data.findings]
    models = list(MODELS) if spec.model == "all" else [spec.model]
    if unit is not None:
        models = [m for m in models if m != "causal_forest"]  # it samples rows, not units
    say = _steps(len(data.treated) * (len(models) + 2) + 1)
    fits: dict[str, dict[str, ArmFit]] = {}
    pair_data: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for k, arm in enumerate(data.treated, start=1):
        rows = (data.a == 0) | (data.a == k)
        X, y, t = data.X[rows], data.y[rows], (data.a[rows] == k).astype(int)
        groups = None if data.groups is None else data.groups[rows]
        pair_data[arm] = (rows, X, y, t)
        fits[arm] = {}
        for model in models:
            say(f"{arm}: fitting the {MODEL_NAMES[model]} ({len(y):,} rows, {spec.folds} folds)")
            fits[arm][model] = _fit_one(model, X, y, t, spec, data.binary, groups)
    say("evaluating")
    return _build_result(spec, data, fits, pair_data, findings, say)


def _aggregate(
    spec: UpliftSpec, frame: pd.DataFrame, unit: str | None
) -> tuple[pd.DataFrame, Finding]:
    """One row per unit (`spec.aggregate`), and the finding that says so."""
    if unit is None:
        raise UserInputError(
            f"--aggregate {spec.aggregate} collapses each unit's rows, but no repeating unit id "
            "was found; name it with --unit COLUMN."
        )
    rows = len(frame)
    collapsed, dropped = collapse_units(
        frame, unit, spec.outcome, [spec.treatment, *spec.features], spec.aggregate
    )
    message = (
        f"{rows:,} rows collapsed to {len(collapsed):,} {unit} units: the {spec.aggregate} of "
        f"{spec.outcome} per {unit}; every effect, tier and targeting count is per {unit}"
        + (f"; columns varying within a {unit} left out: {', '.join(dropped)}" if dropped else "")
        + "."
    )
    return collapsed.drop(columns=[unit]), Finding("info", "aggregated", message)


def _steps(total: int) -> Progress:
    """`say(step)` as each of `total` steps starts: the run context's task counts those done."""
    advance = progress("modelling uplift", total)
    started = [0]

    def say(step: str) -> None:
        advance(min(started[0], 1), step)
        started[0] += 1

    return say


def _choose(spec: UpliftSpec, comparisons: dict[str, pd.DataFrame]) -> tuple[str, str | None]:
    """The model used for tiers, targeting and drivers: the one asked for, or with 'all' the
    largest Qini coefficient averaged over arms."""
    if spec.model != "all":
        return spec.model, None
    from collections import defaultdict

    totals: dict[str, list[float]] = defaultdict(list)
    for table in comparisons.values():
        for model, qini in zip(table["model"], table["qini"], strict=True):
            totals[str(model)].append(float(qini))
    best = max(totals, key=lambda name: np.nanmean(totals[name]))
    note = (
        f"compared {len(totals)} models on out-of-fold predictions; the {MODEL_NAMES[best]} has "
        f"the largest Qini coefficient ({np.nanmean(totals[best]):.4g}) and is used for tiers, "
        "targeting, drivers, predictions and --save (choosing on the same folds flatters the "
        "winner slightly)."
    )
    return best, note


def _build_result(
    spec: UpliftSpec,
    data: UpliftData,
    fits: dict[str, dict[str, ArmFit]],
    pair_data: dict[str, tuple],
    findings: list[Finding],
    say: Progress,
) -> Result:
    import pandas as pd

    from cerebro.uplift.evaluation import calibration_slope
    from cerebro.uplift.policy import targeting

    comparisons = _model_comparisons(fits, pair_data)
    chosen, choice_note = _choose(spec, comparisons)
    if choice_note:
        findings.append(Finding("info", "model_choice", choice_note))
    findings.append(_method_finding(spec, data, chosen))

    estimates: list[Estimate] = []
    effects: dict[str, list[Any]] = {
        k: []
        for k in (
            "arm", "model", "n_treated", "n_control", "ate", "se", "ci_low", "ci_high",
            "p_value", "qini", "auuc", "blp_slope", "blp_p",
        )
    }  # fmt: skip
    deciles, curves, profiles, policies, driver_tables, pd_tables = [], [], [], [], [], []
    decisions: dict[str, dict[str, Any]] = {}
    subsampled = False
    full_cate = np.full((len(data.y), len(data.treated)), np.nan)
    for j, arm in enumerate(data.treated):
        rows, X, y, t = pair_data[arm]
        fit = fits[arm][chosen]
        estimate, values, blp = _arm_effect(spec, data, arm, chosen, fit, comparisons[arm], rows, t)
        estimates.append(estimate)
        for key, value in zip(effects, values, strict=True):
            effects[key].append(value)
        findings.extend(_heterogeneity_findings(arm, blp, y, t, fit.cate, spec, calibration_slope))

        arm_curves, decile, profile = _arm_evaluation(spec, data, arm, fits[arm], fit, rows, y, t)
        curves += arm_curves
        deciles.append(decile)
        profiles.append(profile)
        say(f"{arm}: targeting policy")
        curve, decision = targeting(
            y, t, fit.cate, value_per_outcome=spec.value_per_outcome,
            cost_per_treatment=spec.cost_per_treatment, budget=spec.budget, alpha=spec.alpha,
        )  # fmt: skip
        policies.append(_with_arm(thin(curve), arm))
        decisions[arm] = decision
        estimates.extend(_decision_estimates(arm, decision))
        findings.append(_policy_finding(arm, decision, spec))
        say(f"{arm}: drivers of heterogeneity")
        importance, dependence, used = _drivers(fit, X, data, spec.seed)
        subsampled = subsampled or used < len(y)
        driver_tables.append(_with_arm(importance, arm))
        if len(dependence):
            pd_tables.append(_with_arm(dependence, arm))
        # CATE for every complete row: out of fold for the pair's rows, the fitted model for
        # rows of other arms (which it never saw).
        full_cate[rows, j] = fit.cate
        other = ~rows
        if other.any():
            full_cate[other, j] = np.asarray(fit.fitted.predict(data.X[other]), float)
    if subsampled:
        findings.append(
            Finding(
                "info",
                "drivers",
                f"permutation importance ({IMPORTANCE_REPEATS} permutations per feature) and "
                f"partial dependence use random subsamples of {DRIVER_ROWS:,} and {PD_ROWS:,} "
                "rows of each arm-vs-control comparison "
                f"(seed {spec.seed}); the CATE model itself uses every row.",
            )
        )
    tables: dict[str, Any] = {
        "effects": effects,
        "models": _concat([_with_arm(c, arm) for arm, c in comparisons.items()]),
        "uplift_by_decile": _concat(deciles),
        "qini_curve": _concat(curves),
        "tiers": _concat(profiles),
        "targeting": _concat(policies),
        "drivers": _concat(driver_tables),
        "partial_dependence": _concat(pd_tables),
    }
    summary_extra: dict[str, Any] = {}
    if len(data.treated) > 1:
        _best_treatment(spec, data, full_cate, tables, summary_extra, findings)
    artefacts = _artefacts(spec, data, fits, chosen, full_cate, findings)
    head = estimates[0]
    narrative = _narrative(spec, data, chosen, effects, decisions)
    return Result(
        kind="uplift",
        method=spec.model,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        data=pd.DataFrame(full_cate, columns=[f"cate_{a}" for a in data.treated]),
        summary={
            "headline_table": "effects",
            "title": f"Uplift of {spec.treatment} on {spec.outcome} — {MODEL_NAMES[chosen]}, "
            f"{len(data.y):,} units, {len(data.encoding.features)} features",
            "narrative": narrative,
            "units": len(data.y),
            "alpha": spec.alpha,
            "model": chosen,
            "control": data.control,
            "arms": ", ".join(data.treated),
            "binary_outcome": data.binary,
            "ate": head.value,
            **summary_extra,
        },
        artefacts=artefacts,
    )


def _model_comparisons(
    fits: dict[str, dict[str, ArmFit]], pair_data: dict[str, tuple]
) -> dict[str, Any]:
    """Per treated arm, every fitted model's Qini, AUUC and ATE side by side (the `models`
    table), from which `_choose` picks the model the rest of the result describes."""
    from cerebro.uplift.evaluation import compare_models

    comparisons = {}
    for arm, by_model in fits.items():
        _, _, y, t = pair_data[arm]
        table = compare_models(y, t, {name: fit.cate for name, fit in by_model.items()})
        table["ate"] = [by_model[str(m)].ate for m in table["model"]]
        table["ate_se"] = [by_model[str(m)].ate_se for m in table["model"]]
        table["seconds"] = [by_model[str(m)].seconds for m in table["model"]]
        comparisons[arm] = table
    return comparisons


def _arm_effect(
    spec: UpliftSpec,
    data: UpliftData,
    arm: str,
    chosen: str,
    fit: ArmFit,
    comparison: Any,
    rows: np.ndarray,
    t: np.ndarray,
) -> tuple[Estimate, list[Any], dict[str, Any]]:
    """The arm's doubly robust ATE as an estimate, its row of the `effects` table (with the
    chosen model's Qini and AUUC and the BLP heterogeneity test) and the BLP test itself."""
    from cerebro.stats.intervals import normal_interval

    row = comparison[comparison["model"] == chosen].iloc[0]
    low, high, p = normal_interval(fit.ate, fit.ate_se, spec.alpha)
    label = f"ATE ({arm} vs {data.control})"
    blp = blp_test(fit.psi, fit.cate, None if data.groups is None else data.groups[rows])
    estimate = Estimate(
        label, fit.ate, fit.ate_se, low, high, p,
        {"arm": arm, "model": chosen, "measure": "ATE (doubly robust)"},
    )  # fmt: skip
    values = [arm, chosen, int(t.sum()), int((1 - t).sum()), fit.ate, fit.ate_se, low, high, p,
              float(row["qini"]), float(row["auuc"]), blp["beta_het"], blp["p_het"]]  # fmt: skip
    return estimate, values, blp


def _arm_evaluation(
    spec: UpliftSpec,
    data: UpliftData,
    arm: str,
    by_model: dict[str, ArmFit],
    fit: ArmFit,
    rows: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
) -> tuple[list[Any], Any, Any]:
    """How well the CATE ranks units in one arm: the Qini curve of every model (thinned for
    plotting), the chosen model's uplift by decile, and its tiers profiled by feature."""
    from cerebro.uplift.evaluation import thin_curve, uplift_by_bin, uplift_curve
    from cerebro.uplift.segments import tier_profile, tiers

    curves = [
        _with_arm(thin_curve(uplift_curve(y, t, model_fit.cate), CURVE_POINTS), arm, name)
        for name, model_fit in by_model.items()
    ]
    decile = _with_arm(uplift_by_bin(y, t, fit.cate, bins=10, alpha=spec.alpha), arm)
    labels = tiers(fit.cate, n_tiers=spec.tiers)
    profile = tier_profile(
        data.frame.loc[rows].reset_index(drop=True), labels, y, t,
        list(data.frame.columns), score=fit.cate, alpha=spec.alpha,
    )  # fmt: skip
    return curves, decile, _with_arm(profile, arm)


def _best_treatment(
    spec: UpliftSpec,
    data: UpliftData,
    full_cate: np.ndarray,
    tables: dict[str, Any],
    summary_extra: dict[str, Any],
    findings: list[Finding],
) -> None:
    """With several treated arms, the best treatment per unit (largest value × CATE − cost,
    control when none pays): the `best_treatment` table, its shares in the summary and a
    finding."""
    best = prediction_frame(
        full_cate, data.treated, data.control, spec.value_per_outcome,
        spec.cost_per_treatment,
    )["best_treatment"].to_numpy()  # fmt: skip
    share = {arm: float(np.mean(best == arm)) for arm in data.arms}
    tables["best_treatment"] = {
        "treatment": list(data.arms),
        "units": [int(np.sum(best == arm)) for arm in data.arms],
        "share": [share[arm] for arm in data.arms],
        "mean_cate": [None] + [float(full_cate[:, j].mean()) for j in range(len(data.treated))],
    }
    top = max(data.treated, key=lambda arm: share[arm])
    summary_extra["best_treatment_shares"] = ", ".join(
        f"{arm} {share[arm]:.1%}" for arm in data.arms
    )
    findings.append(
        Finding(
            "info",
            "best_treatment",
            "best treatment per unit (largest value × CATE − cost, control when none is "
            "positive): "
            + ", ".join(f"{arm} {share[arm]:.1%}" for arm in data.arms)
            + f"; {top!r} is best for the most units.",
        )
    )


def _artefacts(
    spec: UpliftSpec,
    data: UpliftData,
    fits: dict[str, dict[str, ArmFit]],
    chosen: str,
    full_cate: np.ndarray,
    findings: list[Finding],
) -> list[Artefact]:
    """The files asked for – `spec.predictions` (CATE per input row) and `spec.save` (the
    chosen model, for `uplift-score`) – in memory for the face to write, each said in a
    finding."""
    artefacts: list[Artefact] = []
    if spec.predictions:
        out = np.full((len(data.keep), len(data.treated)), np.nan)
        out[data.keep] = full_cate
        preds = prediction_frame(
            out, data.treated, data.control, spec.value_per_outcome, spec.cost_per_treatment
        )
        artefacts.append(Artefact("predictions", spec.predictions, preds, write_csv))
        findings.append(
            Finding(
                "info",
                "predictions",
                f"wrote out-of-fold CATE predictions for {int(data.keep.sum()):,} of "
                f"{len(data.keep):,} rows to {spec.predictions} (input row order).",
            )
        )
    if spec.save:
        model = UpliftModel(
            spec=spec.model_dump(mode="json"),
            encoding=data.encoding,
            control=data.control,
            arms=list(data.treated),
            model=chosen,
            binary_outcome=data.binary,
            fitted={arm: fits[arm][chosen].fitted for arm in data.treated},
            value_per_outcome=spec.value_per_outcome,
            cost_per_treatment=spec.cost_per_treatment,
        )
        artefacts.append(Artefact("save", spec.save, model_bytes(model), write_bytes))
        findings.append(
            Finding(
                "info",
                "saved",
                f"saved the fitted {MODEL_NAMES[chosen]} to {spec.save}; score new data with "
                f"cerebro uplift-score {spec.save} new.csv.",
            )
        )
    return artefacts


def _decision_estimates(arm: str, d: dict[str, Any]) -> list[Estimate]:
    """The targeting decision (`policy.targeting`) as estimates: the share to treat, the
    incremental outcomes and profit of the policy, and treating everyone for comparison."""
    extra = {"arm": arm, "k": d["k"], "score_threshold": d["score_threshold"], "roi": d["roi"]}
    everyone = d["treat_everyone"]
    return [
        Estimate(f"policy: share to treat ({arm})", d["fraction"], extra=dict(extra)),
        Estimate(
            f"policy: incremental outcomes ({arm})", d["incremental"], d["incremental_se"],
            d["incremental_ci_low"], d["incremental_ci_high"], extra=dict(extra),
        ),
        Estimate(
            f"policy: profit ({arm})", d["profit"], None, d["profit_ci_low"],
            d["profit_ci_high"], extra=dict(extra),
        ),
        Estimate(
            f"treat everyone: profit ({arm})", everyone["profit"], None,
            everyone["profit_ci_low"], everyone["profit_ci_high"],
            extra={"arm": arm, "k": everyone["k"], "roi": everyone["roi"]},
        ),
    ]  # fmt: skip


def _policy_finding(arm: str, d: dict[str, Any], spec: UpliftSpec) -> Finding:
    everyone = d["treat_everyone"]
    level = 1 - spec.alpha
    budget = ""
    if d["budget"] is not None:
        budget = f" The budget of {d['budget']:,.6g} " + (
            "binds: a larger group would earn more." if d["budget_binding"] else "does not bind."
        )
    return Finding(
        "info",
        "policy",
        f"{arm}: treat the top {d['fraction']:.1%} by predicted uplift ({d['k']:,} of "
        f"{d['rows']:,} units, score ≥ {d['score_threshold']:.4g}): {d['incremental']:+,.4g} "
        f"incremental outcomes ({level:.0%} CI {d['incremental_ci_low']:+,.4g} to "
        f"{d['incremental_ci_high']:+,.4g}), profit {d['profit']:+,.4g}; treating everyone: "
        f"{everyone['incremental']:+,.4g} outcomes, profit {everyone['profit']:+,.4g}; treating no "
        f"one: 0 (value {spec.value_per_outcome:g} per outcome, cost {spec.cost_per_treatment:g} "
        "per treatment, estimated on held-out predictions; the best k's profit is optimistic)."
        + budget,
    )


def _maybe(x: Any) -> float | None:
    return None if x is None else float(x)


def _heterogeneity_findings(
    arm: str, blp: dict[str, float], y, t, cate, spec: UpliftSpec, calibration_slope
) -> list[Finding]:
    out = []
    slope, p = blp["beta_het"], blp["p_het"]
    if not np.isfinite(slope) or not p < spec.alpha:
        out.append(
            Finding(
                "warning",
                "no_heterogeneity",
                f"{arm}: no detectable heterogeneity – the best linear predictor test "
                f"(Chernozhukov et al. 2018; DR scores on the out-of-fold CATE) gives slope "
                f"{slope:.3g} (one-sided p = {p:.3g}); the effect may be the same for everyone, "
                "so targeting by the model may not beat treating everyone.",
            )
        )
    else:
        out.append(
            Finding(
                "info",
                "heterogeneity",
                f"{arm}: heterogeneity detected – best linear predictor slope {slope:.3g} "
                f"(SE {blp['se_het']:.3g}, one-sided p = {p:.3g}; 1 means well calibrated).",
            )
        )
    cal, cal_se = calibration_slope(y, t, cate, bins=10)
    if np.isfinite(cal) and np.isfinite(cal_se) and cal_se > 0 and abs(cal - 1) > 2 * cal_se:
        out.append(
            Finding(
                "warning",
                "calibration",
                f"{arm}: predicted uplift is poorly calibrated – the slope of observed on "
                f"predicted uplift by decile is {cal:.3g} (SE {cal_se:.3g}, 1 is perfect); "
                "rank units by the model but do not read its numbers as effect sizes.",
            )
        )
    return out


def _method_finding(spec: UpliftSpec, data: UpliftData, chosen: str) -> Finding:
    propensity = (
        f"known propensity {spec.propensity:g}"
        if spec.propensity is not None
        else f"propensity estimated by cross-fitted LightGBM (clipped to [{CLIP}, {1 - CLIP}])"
    )
    base = "" if chosen == "causal_forest" else f" with {spec.learner} base learners"
    return Finding(
        "info",
        "method",
        f"{MODEL_NAMES[chosen]}{base}, {spec.folds}-fold cross-fitting (seed {spec.seed}): every "
        f"row's CATE comes from models that never saw it; {propensity}; ATE by AIPW with an "
        f"influence-function SE; {len(data.encoding.columns)} design columns from "
        f"{len(data.encoding.features)} features.",
    )


def _narrative(spec, data, chosen, effects, decisions) -> str:
    parts = []
    for i, arm in enumerate(effects["arm"]):
        parts.append(
            f"{arm} vs {data.control}: ATE {effects['ate'][i]:+.4g} ({1 - spec.alpha:.0%} CI "
            f"{effects['ci_low'][i]:+.4g} to {effects['ci_high'][i]:+.4g}), Qini "
            f"{effects['qini'][i]:.3g}"
        )
    return (
        f"Uplift of {spec.treatment} on {spec.outcome} by the {MODEL_NAMES[chosen]}: "
        + "; ".join(parts)
        + ". Per-unit effects are causal if the features capture every common cause of "
        "treatment and outcome (true by design in a randomised test)."
    )


# --------------------------------------------------------------------------------------------
# Plot and the Python face
# --------------------------------------------------------------------------------------------
def plot(result: Result) -> Any:
    """Left: Qini curves of the models (first arm; all arms when one model); right: observed
    vs predicted uplift by decile with CIs."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    curves = result.tables["qini_curve"]
    arms = list(dict.fromkeys(curves["arm"]))
    for (arm, model), curve in curves.groupby(["arm", "model"], sort=False):
        if len(arms) > 1 and curves["model"].nunique() > 1 and arm != arms[0]:
            continue
        label = model if len(arms) == 1 else f"{arm}: {model}"
        left.plot(curve["fraction"], curve["qini_gain"], label=label)
    end = curves.groupby(["arm"], sort=False).tail(1)
    for _, row in end.iterrows():
        left.plot([0, row["fraction"]], [0, row["qini_gain"]], color="gray", linestyle="--",
                  linewidth=0.8)  # fmt: skip
    left.set_xlabel("fraction targeted (by predicted uplift)")
    left.set_ylabel("Qini (incremental outcomes)")
    left.legend(fontsize=8)
    left.set_title("Qini curves (dashed: random targeting)", loc="left", fontsize=10)
    deciles = result.tables["uplift_by_decile"]
    width = 0.8 / max(len(arms), 1)
    for i, (arm, table) in enumerate(deciles.groupby("arm", sort=False)):
        x = table["bin"].to_numpy(float) + (i - (len(arms) - 1) / 2) * width
        observed = table["observed"].to_numpy(float)
        err = np.vstack(
            [
                observed - table["ci_low"].to_numpy(float),
                table["ci_high"].to_numpy(float) - observed,
            ]
        )
        right.errorbar(x, observed, yerr=err, fmt="o", capsize=2, label=f"{arm} observed")
        right.scatter(x, table["predicted"], marker="x", label=f"{arm} predicted")
    right.axhline(0, color="black", linewidth=0.8)
    right.set_xlabel("decile of predicted uplift (1 = highest)")
    right.set_ylabel("uplift")
    right.legend(fontsize=8)
    right.set_title("Observed vs predicted uplift by decile", loc="left", fontsize=10)
    fig.suptitle(result.summary.get("title", "Uplift"), fontsize=10)
    return fig


uplift = python_face(
    UpliftSpec,
    run_uplift,
    name="uplift",
    summary="Model the conditional average treatment effect (CATE): meta-learners or a causal "
    "forest, evaluated out of fold, with tiers, targeting and drivers.",
    example="""
    >>> res = uplift(df, treatment="offer", outcome="purchase", model="x_learner")
    """,
)


register(
    Method(
        kind="uplift",
        spec_type=UpliftSpec,
        run=run_uplift,
        summary="Uplift modelling: S/T/X/R/DR meta-learners and causal forests, Qini/AUUC, "
        "uplift by decile, response tiers, targeting under a budget, drivers of heterogeneity.",
        plot="cerebro.uplift.analysis:plot",
        example="cerebro.uplift.examples:uplift",
    )
)
