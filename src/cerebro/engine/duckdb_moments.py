"""Per-arm moments of a file computed by DuckDB in one scan, as a summary table.

For every outcome the query returns, per arm (and stratum), the count of complete rows and the
mean, variance and pairwise covariances of the outcome's columns (numerator, denominator,
covariates) – the centred `--from-summary` format – over the rows where all of that outcome's
columns are present. DuckDB's `avg`, `var_samp` and `covar_samp` are streaming, numerically
stable (Welford-type) aggregates, so nothing is lost to ``sum_sq − sum²/n``.

Used by `cerebro abtest FILE` whenever the analysis needs only moments (no `--cluster`, no
Mann–Whitney): the file is never materialised in Python, which on the 1.5M-row demo cuts peak
memory by more than half (BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from cerebro.core.errors import UserInputError

_READERS = {
    ".csv": "read_csv",
    ".tsv": "read_csv",
    ".txt": "read_csv",
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
    ".json": "read_json_auto",
    ".jsonl": "read_json_auto",
    ".ndjson": "read_json_auto",
}
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "BOOLEAN",
)


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class FileMoments:
    """The groups (arm, strata…) with their row counts, and one summary table per outcome."""

    groups: dict[str, np.ndarray]  # treatment, strata…, rows (groups with a treatment value)
    missing_treatment: int
    summaries: list[dict[str, np.ndarray]]  # aligned with `groups`: n, v_mean, v_var, a_x_b_cov
    complete_rows: list[int]  # rows with every column of each outcome present
    largest: dict[str, float]  # each column's largest |value| over all rows (NaN: no value)


def file_columns(path: Path, encoding: str | None = None) -> tuple[str, dict[str, str]]:
    """The DuckDB source expression of a file and its column types; `encoding` a CSV's text
    encoding other than UTF-8 (DuckDB reads 'latin-1' and 'utf-16')."""
    import duckdb

    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UserInputError(
            f"cannot read {path.name!r}: unknown file type {path.suffix!r}; use .csv, .parquet or .json."
        )
    options = ", delim='\\t'" if path.suffix.lower() == ".tsv" else ""
    options += f", encoding='{encoding}'" if encoding else ""
    source = f"{reader}('{str(path).replace(chr(39), chr(39) * 2)}'{options})"
    try:
        if reader == "read_csv":
            # Sniff the dialect and types once; the returned read_csv call states them all, so
            # neither DESCRIBE nor the main query sniffs again (~0.1 s each on the demo).
            sniff = source.replace("read_csv(", "sniff_csv(", 1)
            prompt = duckdb.sql(f"SELECT Prompt FROM {sniff}").fetchall()[0][0]
            source = prompt.removeprefix("FROM ").rstrip(";")
        rows = duckdb.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as err:
        first = (str(err).strip().splitlines() or ["unreadable"])[0]
        raise UserInputError(f"cannot read {path.name!r}: {first}") from None
    return source, {r[0]: str(r[1]).upper() for r in rows}


def file_moments(
    source: str,
    types: dict[str, str],
    treatment: str,
    strata: list[str],
    outcomes: list[list[str]],
) -> FileMoments:
    """One scan: counts, means, variances and covariances per group for each outcome."""
    import duckdb

    _check_numeric(types, [c for columns in outcomes for c in columns])
    keys = [treatment, *strata]
    select, names = [], []
    for o, columns in enumerate(outcomes):
        complete = " AND ".join(f"{sql_identifier(c)} IS NOT NULL" for c in [*columns, *strata])
        where = f" FILTER (WHERE {complete})"

        def value(c: str) -> str:
            return f"CAST({sql_identifier(c)} AS DOUBLE)"

        select.append(f"count(*){where}")
        names.append((o, "n"))
        for c in columns:
            select += [f"avg({value(c)}){where}", f"var_samp({value(c)}){where}"]
            names += [(o, f"{c}_mean"), (o, f"{c}_var")]
        for a, b in combinations(columns, 2):
            select.append(f"covar_samp({value(a)}, {value(b)}){where}")
            names.append((o, f"{a}_x_{b}_cov"))
    # The largest magnitude of each column rides along, for the bound on squares (validate).
    numeric = list(dict.fromkeys(c for columns in outcomes for c in columns))
    select += [f"max(abs(CAST({sql_identifier(c)} AS DOUBLE)))" for c in numeric]
    group = ", ".join(sql_identifier(k) for k in keys)
    query = f"SELECT {group}, count(*), {', '.join(select)} FROM {source} GROUP BY {group}"
    con = duckdb.connect()
    try:
        result = con.sql(query).fetchnumpy()
    except duckdb.Error as err:
        first = (str(err).strip().splitlines() or ["query failed"])[0]
        raise UserInputError(f"cannot summarise the data: {first}") from None
    finally:
        con.close()
    values = list(result.values())
    frame = {k: _objects(values[i]) for i, k in enumerate(keys)}
    rows = np.asarray(values[len(keys)], dtype=np.int64)
    has_treatment = np.array([v is not None for v in frame[treatment]], dtype=bool)
    frame = {k: v[has_treatment] for k, v in frame.items()}
    tables: list[dict[str, np.ndarray]] = [dict(frame) for _ in outcomes]
    moment_columns = values[len(keys) + 1 : len(keys) + 1 + len(names)]
    for (o, name), column in zip(names, moment_columns, strict=True):
        filled = np.ma.filled(np.ma.asarray(column, dtype=np.float64), 0.0)
        tables[o][name] = filled[has_treatment]
    maxima = values[len(keys) + 1 + len(names) :]
    return FileMoments(
        groups={**frame, "rows": rows[has_treatment]},
        missing_treatment=int(rows[~has_treatment].sum()),
        summaries=tables,
        complete_rows=[int(t["n"].sum()) for t in tables],
        largest={c: _largest(m) for c, m in zip(numeric, maxima, strict=True)},
    )


def _largest(per_group: np.ndarray) -> float:
    """The largest of a column's per-group maxima (NaN when no group has a value)."""
    present = np.ma.compressed(np.ma.asarray(per_group, dtype=np.float64))
    return float(present.max()) if present.size else float("nan")


def _objects(column: np.ndarray) -> np.ndarray:
    """A fetched key column as an object array with None where DuckDB returned NULL."""
    out = np.asarray(np.ma.getdata(column)).astype(object)
    out[np.ma.getmaskarray(column)] = None
    return out


@dataclass
class FileClusterMoments:
    """Per-arm moments of cluster totals for each outcome (cluster-randomised tests)."""

    arms: dict[str, np.ndarray]  # treatment, clusters (every cluster with a treatment)
    missing_treatment: int
    total_rows: int
    moments: list[list[tuple[float, list[float], list[list[float]]]]]  # per outcome, per arm
    rows: list[list[float]]  # per outcome, per arm: complete rows
    binary: list[bool]
    largest: dict[str, float]  # each column's largest |value| over all rows (NaN: no value)


def file_cluster_moments(
    source: str,
    types: dict[str, str],
    treatment: str,
    cluster: str,
    outcomes: list[tuple[str, str | None, list[str]]],
) -> FileClusterMoments:
    """Two-level aggregation: totals per cluster, then moments of the totals per arm.

    `outcomes` holds (numerator, denominator or None, covariates). A plain mean's cluster
    denominator is its number of complete rows. Raises when a cluster spans several arms.
    """
    import duckdb

    _check_numeric(
        types, [c for num, den, cov in outcomes for c in [num, *([den] if den else []), *cov]]
    )

    def value(c: str) -> str:
        return f"CAST({sql_identifier(c)} AS DOUBLE)"

    inner, outer = [], []
    for o, (num, den, covariates) in enumerate(outcomes):
        columns = [num, *([den] if den else []), *covariates]
        complete = [f"{sql_identifier(c)} IS NOT NULL" for c in [treatment, *columns]]
        where = " FILTER (WHERE " + " AND ".join(complete) + ")"
        inner.append(f"count(*){where} AS r{o}")
        inner.append(f"bool_and({value(num)} IN (0, 1)){where} AS b{o}")
        totals = [f"sum({value(num)}){where}"]
        totals.append(f"sum({value(den)}){where}" if den else f"CAST(count(*){where} AS DOUBLE)")
        totals += [f"sum({value(c)}){where}" for c in covariates]
        names = [f"t{o}_{i}" for i in range(len(totals))]
        inner += [f"{t} AS {n}" for t, n in zip(totals, names, strict=True)]
        present = f" FILTER (WHERE r{o} > 0)"
        outer += [f"count(*){present}", f"sum(r{o})", f"bool_and(b{o}){present}"]
        outer += [f"avg({n}){present}" for n in names]
        outer += [f"var_samp({n}){present}" for n in names]
        outer += [f"covar_samp({a}, {b}){present}" for a, b in combinations(names, 2)]
    # The largest magnitude of each column rides along, for the bound on squares (validate).
    numeric = list(
        dict.fromkeys(c for n, d, cov in outcomes for c in [n, *([d] if d else []), *cov])
    )
    inner += [f"max(abs({value(c)})) AS m{i}" for i, c in enumerate(numeric)]
    outer += [f"max(m{i})" for i in range(len(numeric))]
    t, g = sql_identifier(treatment), sql_identifier(cluster)
    # One scan: the NULL-cluster group and rows without an arm only feed the row totals.
    query = f"""
        WITH clusters AS (
            SELECT {g} IS NULL AS no_cluster, min({t}) AS arm,
                   CAST(min({t}) <> max({t}) AS INTEGER) + 1 AS arms,
                   count(*) AS all_rows, count(*) FILTER (WHERE {t} IS NULL) AS no_arm,
                   {", ".join(inner)}
            FROM {source} GROUP BY {g}
        )
        SELECT arm, no_cluster, count(*), max(arms), sum(all_rows), sum(no_arm), {", ".join(outer)}
        FROM clusters GROUP BY arm, no_cluster"""
    con = duckdb.connect()
    try:
        result = list(con.sql(query).fetchnumpy().values())
    except duckdb.Error as err:
        first = (str(err).strip().splitlines() or ["query failed"])[0]
        raise UserInputError(f"cannot summarise the data: {first}") from None
    finally:
        con.close()
    largest = {
        c: _largest(m) for c, m in zip(numeric, result[len(result) - len(numeric) :], strict=True)
    }
    total_rows, missing = int(result[4].sum()), int(result[5].sum())
    keep = ~np.asarray(result[1], dtype=bool) & ~np.ma.getmaskarray(result[0])
    result = [result[0][keep], result[2][keep], result[3][keep], *(r[keep] for r in result[6:])]
    if (result[2] > 1).any():
        raise UserInputError(
            "some clusters contain rows from more than one arm, so treatment was not assigned "
            "by cluster; check --cluster (it must be the unit of randomisation)."
        )
    arms = {treatment: _objects(result[0]), "clusters": np.asarray(result[1])}
    position, moments, rows, binary = 3, [], [], []
    for _, den, covariates in outcomes:
        p = 2 + len(covariates)
        n, complete, is_binary = result[position : position + 3]
        means = result[position + 3 : position + 3 + p]
        variances = result[position + 3 + p : position + 3 + 2 * p]
        covariances = result[position + 3 + 2 * p : position + 3 + 2 * p + p * (p - 1) // 2]
        position += 3 + 2 * p + p * (p - 1) // 2
        per_arm = []
        for a in range(len(arms["clusters"])):
            cov = [[0.0] * p for _ in range(p)]
            for i in range(p):
                cov[i][i] = float(variances[i][a] or 0.0)
            for (i, j), values in zip(combinations(range(p), 2), covariances, strict=True):
                cov[i][j] = cov[j][i] = float(values[a] or 0.0)
            per_arm.append((float(n[a]), [float(m[a] or 0.0) for m in means], cov))
        moments.append(per_arm)
        rows.append([float(x or 0) for x in complete])
        binary.append(den is None and bool(np.all(is_binary.astype(bool))))
    return FileClusterMoments(arms, int(missing), int(total_rows), moments, rows, binary, largest)


def _check_numeric(types: dict[str, str], columns: list[str]) -> None:
    for column in columns:
        if types[column].split("(")[0] not in _NUMERIC:
            raise UserInputError(
                f"column {column!r} is not numeric (type {types[column]}); recode it as "
                "numbers (e.g. 0/1 for conversions) or pick a numeric column."
            )
