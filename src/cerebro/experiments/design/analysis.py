"""`cerebro design`: randomise a table of units to arms and report the balance achieved.

`design(...)` is the Python face and `run_design(spec, data)` the runner every face calls
(`cerebro design`, `cerebro run` with ``kind: design``). The assignment – the input rows in
their order plus an ``arm`` column – is `Result.data`; the CLI writes it with `--output`. The
numerics and their references are in `cerebro.experiments.design.assignment`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.load import load_table, require_columns
from cerebro.data.validate import require_finite, require_values
from cerebro.experiments.design import assignment
from cerebro.experiments.design.spec import DesignSpec

if TYPE_CHECKING:
    import pandas as pd


def _block_codes(frame: pd.DataFrame, spec: DesignSpec, findings: list[Finding]) -> np.ndarray:
    """One block index per unit from the strata columns (numeric ones cut into quantile bins)."""
    import pandas as pd

    parts = []
    for column in spec.strata:
        values = frame[column]
        if values.isna().any():
            raise UserInputError(
                f"stratum column {column!r} has {int(values.isna().sum())} missing values; fill "
                "them (e.g. with an 'unknown' level) or drop those units first."
            )
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            infinite = int(np.isinf(values.to_numpy(dtype=float)).sum())
            if infinite:
                raise UserInputError(
                    f"stratum column {column!r} has {infinite:,} infinite value(s); fix them or "
                    "drop those units first."
                )
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > spec.bins:
            values = pd.qcut(values, spec.bins, duplicates="drop")
            findings.append(
                Finding(
                    "info",
                    "binned_stratum",
                    f"stratum {column!r} is numeric with many values: cut into "
                    f"{values.cat.categories.size} quantile bins.",
                )
            )
        parts.append(pd.factorize(values, sort=True)[0])
    key = np.zeros(len(frame), dtype=np.int64)
    for codes in parts:
        key = key * (codes.max() + 1) + codes
    return np.unique(key, return_inverse=True)[1]


def _covariates(frame: pd.DataFrame, spec: DesignSpec, findings: list[Finding]) -> list[str]:
    import pandas as pd

    if spec.covariates is not None:
        require_columns(list(frame.columns), spec.covariates, "the unit table")
        for column in spec.covariates:  # an empty column reads as text: say it is empty
            require_values(frame[column], column, "balance covariate")
        bad = [c for c in spec.covariates if not pd.api.types.is_numeric_dtype(frame[c])]
        if bad:
            text = frame[bad[0]].dropna()  # not empty: require_values passed
            words = text[pd.to_numeric(text, errors="coerce").isna()]  # the first non-number
            text = words if len(words) else text
            raise UserInputError(
                f"balance covariate {bad[0]!r} is not numeric (e.g. {text.iloc[0]!r}); pick "
                "numeric columns or recode it."
            )
        return list(spec.covariates)
    chosen = []
    for column in frame.columns:
        values = frame[column]
        id_like = str(column).lower().endswith("id") or (
            pd.api.types.is_integer_dtype(values) and values.is_unique and len(values) > 20
        )
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and not id_like and column not in spec.strata and column != spec.arm_column:
            chosen.append(str(column))
    findings.append(
        Finding(
            "info",
            "covariates",
            "balance checked on "
            + (", ".join(chosen) if chosen else "no columns (no numeric non-ID columns)")
            + " (numeric columns that are not IDs or strata; set --balance-covariates to choose).",
        )
    )
    return chosen


def _require_units_for_arms(units: int, arms: int) -> None:
    """Every arm needs 2 units for a balance check (a variance); fewer units leave arms empty
    or single, and the balance numbers undefined."""
    if units < 2 * arms:
        raise UserInputError(
            f"the unit table has {units:,} unit(s), too few for {arms:,} arms; each arm needs at "
            "least 2 – use fewer arms or more units."
        )


def _require_drawn(counts: np.ndarray, names: list[str]) -> None:
    """An arm the draw left with fewer than 2 units (a small share, or simple randomisation of
    few units) has no variance to check balance with."""
    if counts.min() < 2:
        arm = int(counts.argmin())
        raise UserInputError(
            f"arm {names[arm]!r} drew {int(counts[arm])} unit(s); each arm needs at least 2 – "
            "give it a larger --allocation share, use --method complete, or add units."
        )


def _draw(
    spec: DesignSpec, method: str, n: int, blocks: np.ndarray | None, shares: np.ndarray, rng
) -> np.ndarray:
    if method == "simple":
        return assignment.simple(n, shares, rng)
    if blocks is not None:
        return assignment.stratified(blocks, shares, rng)
    return assignment.complete(n, shares, rng)


def run_design(spec: DesignSpec, data: pd.DataFrame | None = None) -> Result:
    """Randomise as `spec` says; the assignment is `Result.data`."""
    import pandas as pd

    if data is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or a unit table file.")
        data = load_table(spec.data)
    if not isinstance(data, pd.DataFrame):
        raise UserInputError(f"data must be a DataFrame or a file path, not {type(data).__name__}.")
    if len(data) == 0:
        raise UserInputError("the unit table has no rows; there is nothing to randomise.")
    if spec.arm_column in data.columns:
        raise UserInputError(
            f"the unit table already has a column {spec.arm_column!r}; rename it or choose "
            "another name for the assignment column."
        )
    require_columns(list(data.columns), spec.strata, "the unit table")
    shares = assignment.check_allocation(spec.allocation, spec.arms)
    names = spec.arm_names or ["control"] + [f"treatment_{i}" for i in range(1, spec.arms)]
    if len(names) != spec.arms or len(set(names)) != len(names):
        raise UserInputError(
            f"--arm-names needs {spec.arms} distinct names, got {names}; e.g. control,treatment."
        )
    _require_units_for_arms(len(data), spec.arms)
    method = spec.method or ("stratified" if spec.strata else "complete")
    if method == "stratified" and not spec.strata:
        raise UserInputError("--method stratified needs --strata columns to block on.")
    findings: list[Finding] = []
    blocks = _block_codes(data, spec, findings) if spec.strata and method != "simple" else None
    covariates = _covariates(data, spec, findings)
    x = _balance_matrix(data, covariates)
    rng = np.random.default_rng(spec.seed)
    arms, tries = _assign(
        spec, method, len(data), blocks, shares, x, covariates, names, rng, findings
    )
    bal = assignment.balance(x, arms, spec.arms)
    counts = np.bincount(arms, minlength=spec.arms)
    labels = np.asarray(names, dtype=object)[arms]
    assigned = data.assign(**{spec.arm_column: labels})
    estimates = [
        Estimate(
            f"{cov}: {names[j]} vs {names[0]} SMD",
            float(bal.smd[j, c]),
            extra={"variance_ratio": float(bal.variance_ratio[j, c])},
        )
        for c, cov in enumerate(covariates)
        for j in range(1, spec.arms)
    ]
    balance_table = _balance_table(bal, names, covariates)
    findings.append(
        Finding(
            "info",
            "counts",
            "units per arm: "
            + ", ".join(f"{n} {c:,}" for n, c in zip(names, counts, strict=True))
            + ".",
        )
    )
    if covariates:
        level = "warning" if bal.max_abs_smd > 0.1 else "info"
        findings.append(
            Finding(
                level,
                "balance",
                f"largest |SMD| {bal.max_abs_smd:.3f}"
                + (
                    " (above 0.1: consider --method rerandomise or stratifying)"
                    if level == "warning"
                    else ""
                )
                + f"; omnibus Mahalanobis test chi2({bal.df}) = {bal.statistic:.3g}, p = {bal.p_value:.3f}.",
            )
        )
    findings.append(
        Finding("info", "seed", f"seed {spec.seed} reproduces this assignment exactly.")
    )
    strata_table = _strata_table(spec, blocks, arms, names, shares, findings)
    tables: dict[str, Any] = {
        "balance": balance_table,
        "counts": {"arm": names, "units": counts.tolist()},
    }
    if strata_table:
        tables["strata"] = strata_table
    return Result(
        kind="design",
        method=method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "headline_table": "balance" if covariates else "counts",
            "title": f"Randomisation ({method}) of {len(data):,} units to {spec.arms} arms, seed {spec.seed}",
            "tries": tries,
            "max_abs_smd": bal.max_abs_smd,
            "omnibus_p": bal.p_value,
        },
        data=assigned,
    )


def _balance_matrix(data: pd.DataFrame, covariates: list[str]) -> np.ndarray:
    """The balance covariates as a float matrix (no columns without any), refusing infinite and
    missing values: a balance statistic of such a column would be NaN and accept any draw."""
    x = data[covariates].to_numpy(dtype=float) if covariates else np.empty((len(data), 0))
    if covariates and np.isinf(x).any():
        worst = covariates[int(np.isinf(x).sum(0).argmax())]
        raise UserInputError(
            f"balance covariate {worst!r} has {int(np.isinf(x).sum(0).max()):,} infinite "
            "value(s); fix or drop them, or leave it out of --balance-covariates."
        )
    for column, values in zip(covariates, x.T, strict=True):
        require_finite(values, column, "balance covariate")  # squares of larger values overflow
    if covariates and np.isnan(x).any():
        worst = covariates[int(np.isnan(x).sum(0).argmax())]
        raise UserInputError(
            f"balance covariate {worst!r} has missing values; fill or drop them, or leave it "
            "out of --balance-covariates."
        )
    return x


def _assign(
    spec: DesignSpec,
    method: str,
    n: int,
    blocks: np.ndarray | None,
    shares: np.ndarray,
    x: np.ndarray,
    covariates: list[str],
    names: list[str],
    rng: np.random.Generator,
    findings: list[Finding],
) -> tuple[np.ndarray, int]:
    """One draw of the arms by `method`, or with rerandomisation complete draws until every
    |SMD| is below `spec.max_smd` (Morgan & Rubin 2012); returns the arms and the draws taken."""
    tries = 1
    arms = _draw(spec, method, n, blocks, shares, rng)
    _require_drawn(np.bincount(arms, minlength=spec.arms), names)
    if method == "rerandomise":
        if not covariates:
            raise UserInputError("--method rerandomise needs numeric balance covariates.")
        while assignment.balance(x, arms, spec.arms).max_abs_smd >= spec.max_smd:
            if tries >= spec.max_tries:
                raise UserInputError(
                    f"no draw in {spec.max_tries} tries had every |SMD| below {spec.max_smd}; "
                    "raise --max-smd or --max-tries, or balance on fewer covariates."
                )
            arms = _draw(spec, "complete", n, blocks, shares, rng)
            tries += 1
        findings.append(
            Finding(
                "info",
                "rerandomised",
                f"accepted draw {tries} (acceptance rate about {1 / tries:.2%}); every |SMD| "
                f"< {spec.max_smd}. Analyse with a randomisation test to keep the exact level "
                "(Morgan & Rubin 2012).",
            )
        )
    return arms, tries


def _balance_table(
    bal: assignment.Balance, names: list[str], covariates: list[str]
) -> dict[str, list[Any]]:
    """The `balance` table: each covariate's mean per arm, and each treatment arm's SMD and
    variance ratio against the first arm."""
    balance_table: dict[str, list[Any]] = {"covariate": list(covariates)}
    for j, name in enumerate(names):
        balance_table[f"mean_{name}"] = bal.means[j].tolist()
    for j, name in enumerate(names[1:], start=1):
        balance_table[f"smd_{name}"] = bal.smd[j].tolist()
        balance_table[f"var_ratio_{name}"] = bal.variance_ratio[j].tolist()
    return balance_table


def _strata_table(
    spec: DesignSpec,
    blocks: np.ndarray | None,
    arms: np.ndarray,
    names: list[str],
    shares: np.ndarray,
    findings: list[Finding],
) -> dict[str, list[Any]]:
    """The `strata` table (units per arm in each stratum; empty without strata), with a finding
    on how far any stratum's counts stray from the planned shares."""
    strata_table: dict[str, list[Any]] = {}
    if blocks is not None:
        per_block = np.zeros((blocks.max() + 1, spec.arms), dtype=np.int64)
        np.add.at(per_block, (blocks, arms), 1)
        strata_table = {"stratum": list(range(len(per_block)))}
        for j, name in enumerate(names):
            strata_table[name] = per_block[:, j].tolist()
        gap = float(np.abs(per_block - per_block.sum(1, keepdims=True) * shares).max())
        findings.append(
            Finding(
                "info",
                "strata",
                f"{len(per_block)} strata from {', '.join(spec.strata)}; in every stratum each "
                f"arm's count is within {gap:.2g} units of its planned share.",
            )
        )
    return strata_table


design = python_face(
    DesignSpec,
    run_design,
    name="design",
    summary="Randomise units to arms and check the balance; the assignment is `result.data`.",
    example="""
    >>> res = design(units, arms=2, strata=["region"], seed=7)
    >>> res.data["arm"].value_counts()
    """,
)


def love_plot(result: Result):
    """Standardised mean differences of every covariate, each arm against the first."""
    from cerebro.core.figure import new_figure

    table = result.tables.columns("balance")
    covariates = table["covariate"]
    smd_columns = [c for c in table if c.startswith("smd_")]
    fig = new_figure(6.5, 1.2 + 0.35 * max(len(covariates), 1))
    ax = fig.add_subplot()
    for column in smd_columns:
        ax.plot(table[column], range(len(covariates)), "o", label=column.removeprefix("smd_"))
    ax.axvline(0, color="grey", lw=0.8)
    for edge in (-0.1, 0.1):
        ax.axvline(edge, color="grey", ls="--", lw=0.8)
    ax.set_yticks(range(len(covariates)), covariates)
    ax.set_xlabel("standardised mean difference vs " + result.tables.columns("counts")["arm"][0])
    ax.set_title(result.summary.get("title", "balance"), fontsize=9)
    if len(smd_columns) > 1:
        ax.legend(fontsize=8)
    return fig


register(
    Method(
        kind="design",
        spec_type=DesignSpec,
        run=run_design,
        summary="Randomise units to arms (simple, complete, stratified, rerandomised) and check balance.",
        plot="cerebro.experiments.design.analysis:love_plot",
        example="cerebro.experiments.examples:design",
    )
)
