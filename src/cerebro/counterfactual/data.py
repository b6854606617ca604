"""The rows each counterfactual question runs on, checked once: a binary treatment coded 0/1,
numeric mediator and outcome, the covariate matrix, and the model family of a 0/1 column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import confounder_terms, numeric_column, treatment_arms
from cerebro.data.load import load_table, require_columns
from cerebro.data.validate import require_discrete_treatment

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.counterfactual.spec import CounterfactualSpec


def load(spec: CounterfactualSpec, data: pd.DataFrame | None) -> pd.DataFrame:
    """`data` (checked for the spec's columns) or `spec.data` read with only those columns."""
    if data is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        return load_table(spec.data, spec.columns())
    require_columns([str(c) for c in data.columns], spec.columns(), "the data")
    return data


def binary_treatment(
    frame: pd.DataFrame, spec: CounterfactualSpec, needed_by: str, findings: list[Finding]
) -> tuple[np.ndarray, list[str]]:
    """The treatment as 0/1 (NaN where missing) and the arm labels (control, treated); a column
    with other than two values is refused."""
    from pandas.api.types import is_numeric_dtype

    values = frame[spec.treatment]
    if is_numeric_dtype(values):  # infinite or huge values are named as such first
        numeric_column(values, spec.treatment, "treatment")
    fix = f"{needed_by} needs a binary treatment: code it 0/1 (treated vs not)"
    require_discrete_treatment(values, spec.treatment, fix=fix)
    present = values.dropna()
    if present.nunique() != 2:
        raise UserInputError(
            f"{needed_by} needs a binary treatment, but {spec.treatment!r} has "
            f"{present.nunique()} distinct values; code it as 0/1 (treated vs not)."
        )
    codes, arms, how = treatment_arms(values, spec.treatment, spec.treated)
    message = f"{spec.treatment} = {arms[1]!r} is treated ({how}), {arms[0]!r} the control."
    if not any(f.code == "treatment_coding" for f in findings):
        findings.append(Finding("info", "treatment_coding", message))
    return codes, arms


def is_binary(values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    return bool(present.size) and bool(np.isin(present, (0.0, 1.0)).all())


def family(choice: str, values: np.ndarray, column: str, role: str) -> str:
    """linear, logistic or probit: `choice`, or for auto logistic exactly when the column is 0/1."""
    if choice in ("logistic", "probit") and not is_binary(values):
        raise UserInputError(
            f"a {choice} {role} model needs a 0/1 {role}, but {column!r} has other values; use "
            f"--{role}-model linear."
        )
    if choice == "auto":
        return "logistic" if is_binary(values) else "linear"
    return choice


def covariates(frame: pd.DataFrame, spec: CounterfactualSpec) -> tuple[np.ndarray, list[str]]:
    """The confounder matrix (no intercept; NaN where missing) and its column names."""
    columns, names, _ = confounder_terms(frame, spec.confounders)
    if not columns:
        return np.empty((len(frame), 0)), []
    return np.column_stack(columns), names


def outcome(frame: pd.DataFrame, spec: CounterfactualSpec) -> np.ndarray:
    return numeric_column(frame[spec.outcome], spec.outcome, "outcome")


def check_covariates(C: np.ndarray, names: list[str]) -> None:
    """Refuse a constant or collinear covariate in the rows used (a singular model)."""
    for j, name in enumerate(names):
        if np.ptp(C[:, j]) == 0:
            raise UserInputError(
                f"confounder {name!r} is constant in the complete rows; drop it from --confounders."
            )
    X = np.column_stack([np.ones(len(C)), C])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise UserInputError(
            "the columns in --confounders are collinear (one is a combination of the others); "
            "drop the redundant one."
        )
