"""The moments query, defined once and transpiled by sqlglot to each engine's SQL dialect.

Per group (arm, strata…) and per outcome the query returns the count of complete rows and the
sums of *shifted* values and cross-products, Σ(x − k) and Σ(x − k)(y − l), where the shifts
k, l are the means of a pilot sample of at most `PILOT_ROWS` rows. The mean and co-moment
follow as k + Σ(x − k)/n and Σ(x − k)(y − l) − Σ(x − k)Σ(y − l)/n: with k near the mean, the
subtraction loses almost nothing, whereas the textbook Σx² − (Σx)²/n loses every digit when
the values are about 1e9 and their spread 0.01 (`tests/test_engine_precision.py`). Only
`count`, `sum`, `avg`, `min`, `max`, `CASE` and `LIMIT` are used, so any SQL engine runs it –
DuckDB, PostgreSQL, Spark SQL, BigQuery, Snowflake – and the sums are computed where the
rows are: on Spark, by the executors, which send one partial row per group to be merged.

Reference: Chan, Golub & LeVeque (1983), "Algorithms for computing the sample variance:
analysis and recommendations", The American Statistician 37(3) – the shifted data algorithm.
"""

from __future__ import annotations

import re
from itertools import combinations, combinations_with_replacement
from typing import Any

import numpy as np

from cerebro.engine.duckdb_moments import FileClusterMoments, FileMoments, sql_identifier

PILOT_ROWS = 10_000
_SIMPLE = re.compile(r"^[a-z_][a-z0-9_]*$")
SOURCE = "__cerebro_source__"  # the placeholder table the engine's source replaces
DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake", "spark")


def _value(column: str) -> str:
    return f"CAST({sql_identifier(column)} AS DOUBLE)"


def _pilot(columns: list[str], source: str = SOURCE) -> str:
    """A one-row table of shifts k0, k1… : each column's mean over a pilot sample."""
    shifts = ", ".join(f"COALESCE(avg({_value(c)}), 0) AS k{i}" for i, c in enumerate(columns))
    listed = ", ".join(sql_identifier(c) for c in columns)
    return f"SELECT {shifts} FROM (SELECT {listed} FROM {source} LIMIT {PILOT_ROWS}) AS pilot_rows"


def _shifted(column: str, index: int) -> str:
    return f"({_value(column)} - pilot.k{index})"


def _sums(
    outcomes: list[list[str]], shift_of: dict[str, int], condition: list[str]
) -> tuple[list[str], list[str]]:
    """Per outcome o: its count n{o}, sums s{o}_{i} and cross-products q{o}_{i}_{j} over the
    rows where `condition[o]` holds; (select items, their aliases)."""
    items, names = [], []
    for o, columns in enumerate(outcomes):
        always = condition[o] == "TRUE"
        # One column that needs only itself present: (x − k) is NULL exactly where x is, and
        # count/sum skip NULLs, so no CASE is needed (it cost ~40% of a Parquet scan's CPU).
        alone = len(columns) == 1 and condition[o] == _complete(columns)
        bare = always or alone
        when, end = ("", "") if bare else (f"CASE WHEN {condition[o]} THEN ", " END")
        counted = f"count({sql_identifier(columns[0])})" if alone else f"count({when}1{end})"
        items.append("count(*)" if always else counted)
        names.append(f"n{o}")
        for i, c in enumerate(columns):
            items.append(f"sum({when}{_shifted(c, shift_of[c])}{end})")
            names.append(f"s{o}_{i}")
        for i, j in combinations_with_replacement(range(len(columns)), 2):
            a, b = columns[i], columns[j]
            product = f"{_shifted(a, shift_of[a])} * {_shifted(b, shift_of[b])}"
            items.append(f"sum({when}{product}{end})")
            names.append(f"q{o}_{i}_{j}")
    return items, names


def _complete(columns: list[str]) -> str:
    return " AND ".join(f"{sql_identifier(c)} IS NOT NULL" for c in columns) or "TRUE"


def moments_sql(treatment: str, strata: list[str], outcomes: list[list[str]]) -> str:
    """The per-group query (DuckDB dialect, source `SOURCE`): keys, rows, per-outcome shifted
    sums over the outcome's complete rows, the shifts, and each column's largest |value|."""
    numeric = list(dict.fromkeys(c for columns in outcomes for c in columns))
    shift_of = {c: i for i, c in enumerate(numeric)}
    condition = [_complete([*columns, *strata]) for columns in outcomes]
    items, names = _sums(outcomes, shift_of, condition)
    items += [f"max(pilot.k{i})" for i in range(len(numeric))]
    items += [f"max(abs({_value(c)}))" for c in numeric]
    keys = ", ".join(sql_identifier(k) for k in [treatment, *strata])
    select = ", ".join(f"{item} AS {name}" for item, name in zip(items, names, strict=False))
    rest = ", ".join(items[len(names) :])
    return (
        f"WITH pilot AS ({_pilot(numeric)}) SELECT {keys}, count(*) AS all_rows, {select}, "
        f"{rest} FROM {SOURCE} CROSS JOIN pilot GROUP BY {keys}"
    )


def summary_sql(treatment: str, strata: list[str], columns: list[str]) -> str:
    """The `--from-summary` table in SQL (DuckDB dialect): per arm (× stratum), `n` and each
    column's `_mean` and `_var` and each pair's `_x_…_cov`, over the rows where every column is
    present – the query `cerebro abtest --emit-sql` prints."""
    columns = list(dict.fromkeys(columns))
    keys = [treatment, *strata]
    shift_of = {c: i for i, c in enumerate(columns)}
    items, names = _sums([columns], shift_of, ["TRUE"])
    inner = ", ".join(f"{item} AS {name}" for item, name in zip(items, names, strict=True))
    shifts = ", ".join(f"max(pilot.k{i}) AS k{i}" for i in range(len(columns)))
    key_list = ", ".join(sql_identifier(k) for k in keys)
    where = _complete([*keys, *columns])
    named_keys = ", ".join(f"{sql_identifier(k)} AS {sql_identifier(k)}" for k in keys)

    def comoment(i: int, j: int) -> str:
        return f"(q0_{i}_{j} - s0_{i} * s0_{j} / n0) / NULLIF(n0 - 1, 0)"

    out = [f"n0 AS {sql_identifier('n')}"]
    for i, c in enumerate(columns):
        out.append(f"k{i} + s0_{i} / n0 AS {sql_identifier(c + '_mean')}")
        out.append(f"{comoment(i, i)} AS {sql_identifier(c + '_var')}")
    for i, j in combinations(range(len(columns)), 2):
        name = f"{columns[i]}_x_{columns[j]}_cov"
        out.append(f"{comoment(i, j)} AS {sql_identifier(name)}")
    return (
        f"WITH pilot AS ({_pilot(columns)}), sums AS (SELECT {key_list}, {inner}, {shifts} "
        f"FROM {SOURCE} CROSS JOIN pilot WHERE {where} GROUP BY {key_list}) "
        f"SELECT {named_keys}, {', '.join(out)} FROM sums ORDER BY {key_list}"
    )


def cluster_sql(
    treatment: str, cluster: str, outcomes: list[tuple[str, str | None, list[str]]]
) -> str:
    """Two levels (DuckDB dialect, source `SOURCE`): totals per cluster, then per arm the
    shifted sums of the totals (the shift: mean totals of a pilot sample of clusters)."""
    t, g = sql_identifier(treatment), sql_identifier(cluster)
    inner, widths = [], []
    for o, (num, den, covariates) in enumerate(outcomes):
        columns = [num, *([den] if den else []), *covariates]
        when = f"CASE WHEN {_complete([treatment, *columns])} THEN "
        inner.append(f"count({when}1 END) AS r{o}")
        inner.append(f"min({when}CASE WHEN {_value(num)} IN (0, 1) THEN 1 ELSE 0 END END) AS b{o}")
        totals = [f"sum({when}{_value(num)} END)"]
        totals.append(
            f"sum({when}{_value(den)} END)" if den else f"CAST(count({when}1 END) AS DOUBLE)"
        )
        totals += [f"sum({when}{_value(c)} END)" for c in covariates]
        inner += [f"{total} AS t{o}_{i}" for i, total in enumerate(totals)]
        widths.append(len(totals))
    numeric = list(
        dict.fromkeys(c for n, d, cov in outcomes for c in [n, *([d] if d else []), *cov])
    )
    inner += [f"max(abs({_value(c)})) AS m{i}" for i, c in enumerate(numeric)]
    pilot, outer = [], []
    for o, width in enumerate(widths):
        present = f"CASE WHEN r{o} > 0 THEN "
        pilot += [f"COALESCE(avg({present}t{o}_{i} END), 0) AS k{o}_{i}" for i in range(width)]
        outer += [f"count({present}1 END)", f"sum(r{o})", f"min({present}b{o} END)"]
        outer += [f"sum({present}t{o}_{i} - pilot.k{o}_{i} END)" for i in range(width)]
        outer += [
            f"sum({present}(t{o}_{i} - pilot.k{o}_{i}) * (t{o}_{j} - pilot.k{o}_{j}) END)"
            for i, j in combinations_with_replacement(range(width), 2)
        ]
        outer += [f"max(pilot.k{o}_{i})" for i in range(width)]
    outer += [f"max(m{i})" for i in range(len(numeric))]
    return f"""
        WITH clusters AS (
            SELECT {g} IS NULL AS no_cluster, min({t}) AS arm,
                   CASE WHEN min({t}) <> max({t}) THEN 2 ELSE 1 END AS arms,
                   count(*) AS all_rows, count(CASE WHEN {t} IS NULL THEN 1 END) AS no_arm,
                   {", ".join(inner)}
            FROM {SOURCE} GROUP BY {g}
        ), pilot AS (
            SELECT {", ".join(pilot)} FROM (SELECT * FROM clusters LIMIT {PILOT_ROWS}) AS pilot_rows
        )
        SELECT arm, no_cluster, count(*), max(arms), sum(all_rows), sum(no_arm), {", ".join(outer)}
        FROM clusters CROSS JOIN pilot GROUP BY arm, no_cluster"""


def transpile(sql: str, dialect: str, source: Any) -> str:
    """`sql` (DuckDB dialect, reading `SOURCE`) in `dialect`, reading `source`: a table name
    ('project.dataset.events') or a sqlglot expression (a subquery of the caller's select)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    if isinstance(source, str):
        replacement: exp.Expression = exp.to_table(source, dialect=dialect)
    else:
        replacement = source

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == SOURCE:
            return replacement.copy()
        if dialect == "snowflake" and isinstance(node, exp.Column) and _SIMPLE.match(node.name):
            # Snowflake folds unquoted names to upper case: a quoted "revenue" would miss the
            # column REVENUE created as revenue. The output names stay quoted, as --from-summary
            # reads them.
            node.this.set("quoted", False)
        return node

    return tree.transform(swap).sql(dialect=dialect, pretty=True)


def _floats(column: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in column], dtype=np.float64)


def _keys(column: list[Any]) -> np.ndarray:
    out = np.empty(len(column), dtype=object)
    out[:] = [None if v is None else v for v in column]
    return out


def _comoments(n: np.ndarray, sums: list[np.ndarray], cross: dict, shifts: list[np.ndarray]):
    """Means and co-moments from shifted sums: k + s/n and q − s·sᵀ/n, per group (0 if empty)."""
    safe = np.where(n > 0, n, 1.0)
    means = [
        np.where(n > 0, k + np.nan_to_num(s) / safe, 0.0) for s, k in zip(sums, shifts, strict=True)
    ]
    second = {}
    for (i, j), q in cross.items():
        value = np.nan_to_num(q) - np.nan_to_num(sums[i]) * np.nan_to_num(sums[j]) / safe
        second[(i, j)] = np.where(n > 0, value, 0.0)
    return means, second


def finish_moments(
    result: list[list[Any]], treatment: str, strata: list[str], outcomes: list[list[str]]
) -> FileMoments:
    """`FileMoments` (the centred `--from-summary` columns) from the rows of `moments_sql`."""
    keys = [treatment, *strata]
    numeric = list(dict.fromkeys(c for columns in outcomes for c in columns))
    frame = {k: _keys(result[i]) for i, k in enumerate(keys)}
    rows = np.array([int(v or 0) for v in result[len(keys)]], dtype=np.int64)
    has_treatment = np.array([v is not None for v in frame[treatment]], dtype=bool)
    frame = {k: v[has_treatment] for k, v in frame.items()}
    position = len(keys) + 1
    width = sum(1 + len(c) + len(c) * (len(c) + 1) // 2 for c in outcomes)
    shifts = [_floats(result[position + width + i])[has_treatment] for i in range(len(numeric))]
    maxima = [_floats(result[position + width + len(numeric) + i]) for i in range(len(numeric))]
    tables: list[dict[str, np.ndarray]] = []
    for columns in outcomes:
        n = np.nan_to_num(_floats(result[position]))[has_treatment]
        sums = [_floats(result[position + 1 + i])[has_treatment] for i in range(len(columns))]
        position += 1 + len(columns)
        cross = {}
        for i, j in combinations_with_replacement(range(len(columns)), 2):
            cross[(i, j)] = _floats(result[position])[has_treatment]
            position += 1
        own = [shifts[numeric.index(c)] for c in columns]
        means, second = _comoments(n, sums, cross, own)
        denominator = np.where(n > 1, n - 1, 1.0)
        table = dict(frame)
        table["n"] = n
        for i, c in enumerate(columns):
            table[f"{c}_mean"] = means[i]
            table[f"{c}_var"] = np.where(n > 1, second[(i, i)] / denominator, 0.0)
        for i, j in combinations(range(len(columns)), 2):
            table[f"{columns[i]}_x_{columns[j]}_cov"] = np.where(
                n > 1, second[(i, j)] / denominator, 0.0
            )
        tables.append(table)
    return FileMoments(
        groups={**frame, "rows": rows[has_treatment]},
        missing_treatment=int(rows[~has_treatment].sum()),
        summaries=tables,
        complete_rows=[int(t["n"].sum()) for t in tables],
        largest={c: _largest(m) for c, m in zip(numeric, maxima, strict=True)},
    )


def _largest(per_group: np.ndarray) -> float:
    present = per_group[~np.isnan(per_group)]
    return float(present.max()) if present.size else float("nan")


def finish_cluster(
    result: list[list[Any]], treatment: str, outcomes: list[tuple[str, str | None, list[str]]]
) -> FileClusterMoments:
    """`FileClusterMoments` from the rows of `cluster_sql`; refuses a cluster in two arms."""
    from cerebro.core.errors import UserInputError

    numeric = list(
        dict.fromkeys(c for n, d, cov in outcomes for c in [n, *([d] if d else []), *cov])
    )
    arm, no_cluster = _keys(result[0]), np.array([bool(v) for v in result[1]])
    total_rows = int(np.nansum(_floats(result[4])))
    missing = int(np.nansum(_floats(result[5])))
    keep = ~no_cluster & np.array([v is not None for v in arm], dtype=bool)
    if (np.nan_to_num(_floats(result[3]))[keep] > 1).any():
        raise UserInputError(
            "some clusters contain rows from more than one arm, so treatment was not assigned "
            "by cluster; check --cluster (it must be the unit of randomisation)."
        )
    arms = {treatment: arm[keep], "clusters": np.nan_to_num(_floats(result[2]))[keep]}
    position, moments, rows, binary = 6, [], [], []
    for _, den, covariates in outcomes:
        p = 2 + len(covariates)
        n, complete, is_binary = (_floats(result[position + i])[keep] for i in range(3))
        n = np.nan_to_num(n)
        sums = [_floats(result[position + 3 + i])[keep] for i in range(p)]
        position += 3 + p
        cross = {}
        for i, j in combinations_with_replacement(range(p), 2):
            cross[(i, j)] = _floats(result[position])[keep]
            position += 1
        shifts = [_floats(result[position + i])[keep] for i in range(p)]
        position += p
        means, second = _comoments(n, sums, cross, shifts)
        per_arm = []
        for a in range(len(n)):
            denominator = max(n[a] - 1, 1.0)
            cov = [[0.0] * p for _ in range(p)]
            for (i, j), values in second.items():
                cov[i][j] = cov[j][i] = float(values[a]) / denominator if n[a] > 1 else 0.0
            per_arm.append((float(n[a]), [float(m[a]) for m in means], cov))
        moments.append(per_arm)
        rows.append([float(x) for x in np.nan_to_num(complete)])
        binary.append(den is None and bool(np.all(np.nan_to_num(is_binary) == 1)))
    maxima = [_floats(result[position + i]) for i in range(len(numeric))]
    largest = {c: _largest(m) for c, m in zip(numeric, maxima, strict=True)}
    return FileClusterMoments(arms, missing, total_rows, moments, rows, binary, largest)
