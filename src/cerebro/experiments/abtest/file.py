"""A/B analysis of a file whose moments DuckDB computes where the data lives.

Whenever the analysis needs only moments (every test but Mann–Whitney), the file is scanned
once in SQL and the rows never enter Python: per arm (× stratum) moments feed the summary path,
per cluster totals feed the cluster-robust path. `tests/test_engine_duckdb.py` checks both
give the numbers and findings of the in-memory path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.load import describe_file, load_table, require_columns, require_file_values
from cerebro.data.units import is_none
from cerebro.data.validate import require_bounded
from cerebro.experiments.abtest.data import (
    Design,
    Metric,
    check_finite,
    dropped_rows_finding,
    encode_design,
    needed_columns,
)
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.abtest.summary import ClusterTotals, SummaryOutcome, read_summary
from cerebro.experiments.moments import Moments

if TYPE_CHECKING:
    from cerebro.engine.tables import EngineTable


def moments_in_duckdb(spec: ABTestSpec) -> bool:
    """Can this spec's file be analysed from moments computed in DuckDB? (The sequential test
    of a file still reads its rows; on engine tables it runs from per-look moments.)"""
    return (
        spec.data is not None
        and not spec.from_summary
        and needs_only_moments(spec)
        and spec.test_type != "sequential"
    )


def needs_only_moments(spec: ABTestSpec) -> bool:
    """Is every statistic of this spec a function of per-arm (× stratum, cluster or look)
    moments?"""
    clustered = bool(spec.cluster) and not is_none(spec.cluster)
    return (
        spec.test_type != "mann_whitney"
        and spec.bayes_model == "conjugate"  # the hurdle model's statistics are per row
        and not (clustered and (spec.strata or spec.test_type == "sequential"))
        and not spec.permutations  # re-randomising needs the rows
        and spec.mu is None
    )


def engine_table(spec: ABTestSpec, data: Any) -> EngineTable | None:
    """The engine table the rows live in – a Spark DataFrame, a SQLAlchemy table or select, a
    DuckDB relation passed as `data`, the spec's `db` table, or its file on `engine` spark –
    or None when the rows are a pandas frame or a file for DuckDB. Refuses a spec whose
    statistics need the rows."""
    from cerebro.engine import tables

    remote = data is not None or spec.db or spec.table or spec.engine == "spark"
    if not remote or (data is None and spec.from_summary):
        return None
    if data is None and spec.table and not spec.db:
        raise UserInputError("--table names a table in a database: add --db URL (or --emit-sql).")
    if data is None and spec.db and not spec.table:
        raise UserInputError("--db needs --table: the table holding one row per unit.")
    if (data is None or tables.is_engine_table(data)) and not needs_only_moments(spec):
        where = "a database table" if spec.db else "Spark" if data is None else "an engine table"
        raise UserInputError(
            f"on {where} the analysis runs from per-arm moments computed where the rows are, "
            "and this one needs the rows (Mann–Whitney, permutations, the hurdle model, a "
            "one-sample test, or clusters with strata or a sequential test); load a sample as a "
            "DataFrame."
        )
    if data is not None:
        return tables.as_table(data, spec.db)
    if spec.db:
        assert spec.table is not None
        return tables.open_database(spec.db, spec.table)
    return tables.spark_file(str(spec.data), spec.spark_master) if spec.data else None


def _describe(spec: ABTestSpec) -> tuple[str, dict[str, str], list[str], list[Metric]]:
    """The file's DuckDB source, column types and names, and the metrics the spec names."""
    path = Path(str(spec.data))
    source, types = describe_file(
        path, lambda names: [c for c in needed_columns(spec, names) if c in names]
    )
    columns = list(types)
    require_columns(columns, needed_columns(spec, columns), path.name)
    metrics = [Metric.parse(t, columns) for t in spec.outcome]
    numeric = [c for m in metrics for c in m.columns] + spec.covariates
    require_file_values(path, source, types, numeric)
    return source, types, columns, metrics


def _check_magnitudes(largest: dict[str, float], metrics: list[Metric], spec: ABTestSpec) -> None:
    """Refuse ±inf and magnitudes whose squares overflow in the columns the scan summarised –
    the user gave rows, so the sentence names the column, not a summary statistic."""
    roles = {c: "covariate" for c in spec.covariates}
    for metric in metrics:
        roles.update({metric.numerator: "outcome"})
        roles.update({metric.denominator: "denominator"} if metric.denominator else {})
    for column, role in roles.items():
        check_finite(column, int(np.isinf(largest[column])), False)
        require_bounded(largest[column], column, role)


def _note_dropped(
    outcome: SummaryOutcome | ClusterTotals,
    spec: ABTestSpec,
    columns: list[str],
    complete: int,
    total: int,
) -> None:
    if complete < total:
        name = outcome.metric.name
        used = needed_columns(spec.model_copy(update={"outcome": [name]}), columns)
        outcome.findings.append(dropped_rows_finding(name, total - complete, total, used))


def _describe_table(spec: ABTestSpec, table: EngineTable) -> tuple[list[str], list[Metric]]:
    """An engine table's column names and the metrics the spec names (numeric columns)."""
    columns = list(table.columns)
    require_columns(columns, needed_columns(spec, columns), table.name)
    metrics = [Metric.parse(t, columns) for t in spec.outcome]
    table.require_numeric([c for m in metrics for c in m.columns] + spec.covariates)
    return columns, metrics


def moments_from_file(
    spec: ABTestSpec, table: EngineTable | None = None
) -> tuple[Design, list[SummaryOutcome], dict[str, float], int]:
    """Per-arm (× stratum) moments of every outcome in one scan of the spec's file (DuckDB) or
    of `table`; (design, outcomes, units, rows without a treatment value)."""
    from cerebro.engine.duckdb_moments import file_moments
    from cerebro.engine.sql_moments import finish_moments, moments_sql

    assert spec.treatment is not None
    if table is None:
        source, types, columns, metrics = _describe(spec)
        wanted = [[*m.columns, *spec.covariates] for m in metrics]
        moments = file_moments(source, types, spec.treatment, spec.strata, wanted)
        rows_of_treatment: Any = lambda: _treatment_rows(spec)  # noqa: E731
    else:
        columns, metrics = _describe_table(spec, table)
        wanted = [[*m.columns, *spec.covariates] for m in metrics]
        result = table.query(moments_sql(spec.treatment, spec.strata, wanted))
        moments = finish_moments(result, spec.treatment, spec.strata, wanted)
        rows_of_treatment = None  # the groups' labels name the bad value
    _check_magnitudes(moments.largest, metrics, spec)
    design = encode_design(moments.groups, spec, rows_of_treatment)
    total = int(moments.groups["rows"].sum()) + moments.missing_treatment
    outcomes = []
    for metric, table, complete in zip(
        metrics, moments.summaries, moments.complete_rows, strict=True
    ):
        outcome = read_summary(table, spec.model_copy(update={"outcome": [metric.name]}), design)[0]
        _note_dropped(outcome, spec, columns, complete, total)
        outcomes.append(outcome)
    rows = moments.groups["rows"].astype(float)
    units = {a: float(rows[design.codes == i].sum()) for i, a in enumerate(design.arms)}
    return design, outcomes, units, moments.missing_treatment


def _treatment_rows(spec: ABTestSpec) -> Any:
    """The treatment column's rows, read only to name the row of a bad arm value."""
    return load_table(str(spec.data), [spec.treatment])[spec.treatment]


def cluster_totals_from_file(
    spec: ABTestSpec, table: EngineTable | None = None
) -> tuple[Design, list[ClusterTotals], dict[str, float], int]:
    """Per-arm moments of cluster totals for every outcome in one query (of the spec's file
    on DuckDB, or of `table`)."""
    from cerebro.engine.duckdb_moments import file_cluster_moments
    from cerebro.engine.sql_moments import cluster_sql, finish_cluster

    assert spec.cluster is not None and spec.treatment is not None
    rows_of_treatment: Any = None
    if table is None:
        source, types, columns, metrics = _describe(spec)
        wanted = [(m.numerator, m.denominator, spec.covariates) for m in metrics]
        totals = file_cluster_moments(source, types, spec.treatment, spec.cluster, wanted)
        rows_of_treatment = lambda: _treatment_rows(spec)  # noqa: E731
    else:
        columns, metrics = _describe_table(spec, table)
        wanted = [(m.numerator, m.denominator, spec.covariates) for m in metrics]
        result = table.query(cluster_sql(spec.treatment, spec.cluster, wanted))
        totals = finish_cluster(result, spec.treatment, wanted)
    _check_magnitudes(totals.largest, metrics, spec)
    design = encode_design(
        totals.arms, spec.model_copy(update={"cluster": None}), rows_of_treatment
    )
    order = np.argsort(design.codes)  # the query's arm rows in the design's arm order
    outcomes = []
    for o, metric in enumerate(metrics):
        moments = [
            Moments(n, np.array(mean), np.array(cov) * max(n - 1, 0))
            for n, mean, cov in (totals.moments[o][i] for i in order)
        ]
        rows = [totals.rows[o][i] for i in order]
        outcome = ClusterTotals(metric, design.arms, moments, rows, totals.binary[o])
        _note_dropped(outcome, spec, columns, int(sum(rows)), totals.total_rows)
        outcomes.append(outcome)
    clusters = totals.arms["clusters"].astype(float)
    units = {a: float(clusters[design.codes == i].sum()) for i, a in enumerate(design.arms)}
    return design, outcomes, units, totals.missing_treatment


def emit_sql(spec: ABTestSpec, dialect: str) -> str:
    """The query (in `dialect`) that computes this spec's `--from-summary` table from the rows of
    `spec.table`: per arm (× stratum) n, means, variances and covariances of every metric and
    covariate column, over the rows where all of them are present."""
    from cerebro.engine.sql_moments import DIALECTS, summary_sql, transpile

    if dialect not in DIALECTS:
        raise UserInputError(f"--dialect {dialect!r} is not one of {', '.join(DIALECTS)}.")
    if not spec.table:
        raise UserInputError(
            "--emit-sql needs --table: the table the query reads (e.g. ds.events)."
        )
    if spec.cluster and not is_none(spec.cluster):
        raise UserInputError(
            "--emit-sql writes per-arm summaries, and --cluster needs cluster totals; run "
            "cerebro abtest --db URL --table T --cluster C to compute them in the database."
        )
    if not needs_only_moments(spec) or spec.test_type == "sequential":
        raise UserInputError(
            "this analysis needs the rows (Mann–Whitney, sequential, permutations, the hurdle "
            "model or a one-sample test), which a summary table does not hold; drop --emit-sql."
        )
    assert spec.treatment is not None
    columns = [c for t in spec.outcome for c in Metric.parse(t).columns] + spec.covariates
    return transpile(summary_sql(spec.treatment, spec.strata, columns), dialect, spec.table) + ";"


def looks_from_table(
    spec: ABTestSpec, table: EngineTable
) -> tuple[Design, list[Any], dict[str, float], int]:
    """The sequential test's cumulative per-arm moments by look, from per (arm, time) moments
    computed where the rows are and merged in time order with Chan's update."""
    from cerebro.engine.sql_moments import finish_moments, moments_sql
    from cerebro.experiments.abtest.sequential import LookMoments
    from cerebro.experiments.moments import Moments

    assert spec.treatment is not None and spec.time_column is not None
    _, metrics = _describe_table(spec, table)
    wanted = [[m.numerator] for m in metrics]
    time = spec.time_column
    result = table.query(moments_sql(spec.treatment, [time], wanted))
    moments = finish_moments(result, spec.treatment, [time], wanted)
    design = encode_design(moments.groups, spec.model_copy(update={"strata": []}))
    stamps = moments.groups[time]
    times = sorted({t for t in stamps if t is not None})
    look = np.array([times.index(t) if t is not None else -1 for t in stamps])
    k, arms = len(times), len(design.arms)
    outcomes = []
    with_arm = design.codes >= 0
    for metric, summary in zip(metrics, moments.summaries, strict=True):
        name = metric.numerator
        n, mean, var = np.zeros((k, arms)), np.full((k, arms), np.nan), np.full((k, arms), np.nan)
        for a in range(arms):
            running = Moments(0.0, np.zeros(1), np.zeros((1, 1)))
            for t in range(k):
                for i in np.flatnonzero((design.codes == a) & (look == t)):
                    m = summary["n"][i]
                    if m > 0:
                        part = Moments(m, np.array([summary[f"{name}_mean"][i]]),
                                       np.array([[summary[f"{name}_var"][i] * (m - 1)]]))  # fmt: skip
                        running = part if running.n == 0 else running.merge(part)
                n[t, a] = running.n
                if running.n > 0:
                    mean[t, a] = running.mean[0]
                if running.n > 1:
                    var[t, a] = running.comoment[0, 0] / (running.n - 1)
        p, count = mean[-1] if k else np.array([]), n[-1] if k else np.array([])
        binary = bool(k) and bool(
            np.all((p >= 0) & (p <= 1))
            and np.allclose(var[-1] * (count - 1), count * p * (1 - p), rtol=1e-9, atol=1e-9)
        )
        findings = []
        complete = int(summary["n"][with_arm].sum())
        dropped = int(moments.groups["rows"][with_arm].sum()) - complete
        if dropped:
            findings.append(
                Finding(
                    "warning",
                    "dropped_missing",
                    f"{metric.name}: dropped {dropped:,} rows with a missing outcome or {time!r}.",
                )
            )
        shown = [t if isinstance(t, int | float | str) else str(t) for t in times]
        outcomes.append(
            LookMoments(metric, list(design.arms), shown, n, mean, var, findings, binary)
        )
    rows = moments.groups["rows"].astype(float)
    units = {a: float(rows[design.codes == i].sum()) for i, a in enumerate(design.arms)}
    return design, outcomes, units, moments.missing_treatment
