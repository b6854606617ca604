"""The conditional independences a DAG implies among observed variables, tested on data.

Implications: for every pair of observed nodes that are not adjacent, one observed set that
d-separates them – the first of: the empty set, the observed parents of the later node (in
topological order), of the earlier one, of both, or networkx's minimal separator among observed
nodes (van der Zander et al. 2019). This is dagitty's "missing edge" basis (Textor et al. 2016)
extended to latent nodes: a pair that only latent nodes could separate implies nothing testable.

Test: partial correlation of the two given the set (each residualised on the set by least
squares, text columns one-hot), Fisher's z = atanh(r)·√(n − |S| − 3), two-sided p-value, Holm's
adjustment over all implications (`cerebro.stats.multiplicity`). This tests *linear* (partial
correlation) independence: a nonlinear dependence can pass, and for a 0/1 variable it is the
regression (linear probability) version of the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cerebro.graph.read import CausalGraph


@dataclass(frozen=True)
class Implication:
    """`first` ⊥ `second` | `given`."""

    first: str
    second: str
    given: tuple[str, ...]

    @property
    def text(self) -> str:
        given = f" | {', '.join(self.given)}" if self.given else ""
        return f"{self.first} ⊥ {self.second}{given}"


def implications(graph: CausalGraph) -> list[Implication]:
    """One implied independence per non-adjacent pair of observed nodes that observed nodes can
    separate, in topological order."""
    import networkx as nx

    dag = graph.dag
    order = list(nx.topological_sort(dag))
    rank = {n: i for i, n in enumerate(order)}
    observed = [n for n in order if n not in graph.latent]
    skeleton = dag.to_undirected(as_view=True)
    found = []
    for j, later in enumerate(observed):
        for earlier in observed[:j]:
            if skeleton.has_edge(earlier, later):
                continue
            given = _separator(graph, dag, earlier, later)
            if given is not None:
                found.append(Implication(earlier, later, tuple(sorted(given, key=rank.get))))
    return found


def _separator(graph: CausalGraph, dag: Any, u: str, v: str) -> set[str] | None:
    import networkx as nx

    observed = set(graph.observed) - {u, v}
    parents_v = set(dag.predecessors(v)) & observed
    parents_u = set(dag.predecessors(u)) & observed
    for given in (set(), parents_v, parents_u, parents_u | parents_v):
        if not given & set(graph.latent) and nx.is_d_separator(dag, {u}, {v}, given):
            return given
    return nx.find_minimal_d_separator(dag, {u}, {v}, restricted=observed)


@dataclass(frozen=True)
class ImplicationTest:
    implication: Implication
    n: int
    partial_r: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float = np.nan
    note: str = ""


def _residuals(target: np.ndarray, design: np.ndarray) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return target - design @ coef


def _numbers(values: Any, column: str) -> np.ndarray:
    """A column as numbers; text with two values as 0/1 (a linear-probability version of the
    test); more categories cannot enter a correlation and are refused in one sentence."""
    from cerebro.core.errors import UserInputError
    from cerebro.data.columns import numeric_column

    try:
        return numeric_column(values, column, "graph variable")
    except UserInputError:
        from pandas.api.types import is_numeric_dtype

        if is_numeric_dtype(values):
            raise  # numbers out of range (infinite, huge): the column's own sentence
        levels = sorted(values.dropna().astype(str).unique())
        if len(levels) != 2:
            raise UserInputError(
                f"column {column!r} has {len(levels)} text categories; the partial-correlation "
                "test takes numbers or two categories."
            ) from None
        return (values.astype(str) == levels[1]).to_numpy(float)


def implication_test(frame: Any, implication: Implication, alpha: float) -> ImplicationTest:
    """Fisher-z test of zero partial correlation on the complete rows of the columns involved."""
    from cerebro.core.errors import UserInputError
    from cerebro.data.columns import confounder_terms
    from cerebro.stats.intervals import normal_interval

    try:  # whole columns first, so that an error names the row of the file
        u = _numbers(frame[implication.first], implication.first)
        v = _numbers(frame[implication.second], implication.second)
        terms, _, _ = confounder_terms(frame, list(implication.given))
    except UserInputError as err:
        return ImplicationTest(implication, 0, np.nan, np.nan, np.nan, np.nan,
                               note=f"not tested: {err}")  # fmt: skip
    design = np.column_stack([np.ones(len(u)), *terms])
    keep = ~(np.isnan(u) | np.isnan(v) | np.isnan(design).any(axis=1))
    design, u, v, n = design[keep], u[keep], v[keep], int(keep.sum())
    dof = n - design.shape[1] - 2
    ru, rv = _residuals(u, design), _residuals(v, design)
    if dof < 2 or ru.std() == 0 or rv.std() == 0:
        return ImplicationTest(implication, n, np.nan, np.nan, np.nan, np.nan,
                               note="not tested: too few rows or a constant column")  # fmt: skip
    r = float(np.clip(np.corrcoef(ru, rv)[0, 1], -0.999999, 0.999999))
    z, scale = np.arctanh(r), 1 / np.sqrt(dof)
    low, high, p = normal_interval(z, scale, alpha)
    return ImplicationTest(implication, n, r, float(np.tanh(low)), float(np.tanh(high)), p)


def implication_tests(frame: Any, found: list[Implication], alpha: float) -> list[ImplicationTest]:
    """Each implication tested, with Holm-adjusted p-values over those tested."""
    from dataclasses import replace

    from cerebro.stats.multiplicity import holm

    tests = [implication_test(frame, imp, alpha) for imp in found]
    tested = [i for i, t in enumerate(tests) if not np.isnan(t.p_value)]
    if tested:
        adjusted = holm(np.array([tests[i].p_value for i in tested]))
        for i, p in zip(tested, adjusted, strict=True):
            tests[i] = replace(tests[i], p_holm=float(p))
    return tests
