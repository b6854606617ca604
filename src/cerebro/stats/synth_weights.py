"""Synthetic-control weights: the convex donor weights W and the predictor weights V.

Abadie, Diamond & Hainmueller (2010, JASA 105:493–505) choose donor weights W on the simplex
(w_j ≥ 0, Σ w_j = 1) to balance the treated unit's predictors X₁ against the donors' X₀ under a
diagonal predictor weighting V,

    W(V) = argmin_{W ∈ simplex} (X₁ − X₀W)ᵀ V (X₁ − X₀W),

and choose V so that W(V) reproduces the treated unit's pre-period outcomes best,

    V* = argmin_V ‖Z₁ − Z₀W(V)‖² / T₀        (the nested optimisation of Synth and pysyncon).

Everything here works on plain arrays so that other designs (geo tests) reuse it:
``outcomes`` is a (units × periods) matrix, ``predictors`` a (units × k) matrix.

The inner problem is solved exactly by one non-negative least-squares call. With
C = A − b1ᵀ (A = V^½X₀, b = V^½X₁), Aw − b = Cw on the simplex, and for any u ≥ 0 written as
u = s·w (s = Σu, w on the simplex) the NNLS objective ‖[C; 1ᵀ]u − e‖² = s²‖Cw‖² + (s − 1)²
separates: its minimiser is u* = s*·w* with w* the simplex-constrained least-squares solution.
So w* = u*/Σu* from Lawson–Hanson's active-set NNLS (scipy), with no penalty constant and no
tolerance on the sum constraint (the reduction of a minimum-norm-point problem to NNLS,
Lawson & Hanson 1974, ch. 23).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize, nnls

from cerebro.core.errors import UserInputError


def simplex_lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin ‖A w − b‖² over the probability simplex (w ≥ 0, Σw = 1), exactly.

    A is (rows × donors), b (rows,). Solved as one NNLS problem (see the module docstring).
    """
    A = np.asarray(A, float)
    b = np.asarray(b, float)
    n = A.shape[1]
    if n == 1:
        return np.ones(1)
    # Rescale so that the appended row of ones is on the scale of the data: the NNLS active
    # set's tolerances are absolute, and the reduction holds for any positive scale c
    # (minimise ‖[C; c1ᵀ]u − c·e‖², then w = u/Σu).
    C = A - b[:, None]
    scale = float(np.sqrt(np.mean(C * C))) or 1.0
    M = np.vstack([C / scale, np.ones((1, n))])
    target = np.zeros(M.shape[0])
    target[-1] = 1.0
    u = nnls(M, target, maxiter=50 * n)[0]
    total = u.sum()
    if not total > 0:  # cannot happen for the reduction (s* = 1/(1 + ‖Cw*‖²) > 0)
        return np.full(n, 1.0 / n)
    return _polish(A, b, u / total)


def _polish(A: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Re-solve on NNLS's support with the sum constraint as an exact equation (KKT system):
    removes the active-set method's termination slack (~1e-7 relative) when the support is
    right, and keeps the NNLS answer otherwise."""
    support = np.flatnonzero(w > 0)
    if len(support) < 2:
        return w
    As = A[:, support]
    m = len(support)
    kkt = np.zeros((m + 1, m + 1))
    kkt[:m, :m] = As.T @ As
    kkt[:m, m] = kkt[m, :m] = 1.0
    rhs = np.concatenate([As.T @ b, [1.0]])
    ws = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:m]
    if ws.min() < 0 or not np.isfinite(ws).all():
        return w
    polished = np.zeros_like(w)
    polished[support] = ws / ws.sum()
    r_old, r_new = A @ w - b, A @ polished - b
    return polished if r_new @ r_new <= r_old @ r_old else w


def balance_weights(x1: np.ndarray, X0: np.ndarray, v: np.ndarray) -> np.ndarray:
    """W(V): donor weights on the simplex balancing predictors under diagonal V.

    x1 (k,) treated predictors, X0 (donors × k) donor predictors, v (k,) ≥ 0.
    """
    root = np.sqrt(np.asarray(v, float))
    return simplex_lstsq((X0 * root).T, x1 * root)


def standardise(x1: np.ndarray, X0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Divide each predictor by its standard deviation over the treated unit and the donors
    (ddof = 1, as Synth and pysyncon do) so that V compares unit-free predictors."""
    sd = np.vstack([X0, x1[None, :]]).std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return x1 / sd, X0 / sd, sd


@dataclass
class SynthFit:
    """One synthetic control: donor weights, predictor weights and the fitted paths."""

    weights: np.ndarray  # (donors,) on the simplex
    v: np.ndarray  # (k,) predictor weights (sum 1), on standardised predictors
    synthetic: np.ndarray  # (periods,) synthetic outcome path
    gaps: np.ndarray  # (periods,) treated − synthetic
    n_pre: int
    loss_v: float  # pre-period outcome MSPE the V search minimised
    loss_w: float  # predictor imbalance (x1 − X0 w)' V (x1 − X0 w) on standardised predictors
    extra: dict = field(default_factory=dict)

    @property
    def pre_rmspe(self) -> float:
        return float(np.sqrt(np.mean(self.gaps[: self.n_pre] ** 2)))

    @property
    def post_rmspe(self) -> float:
        return float(np.sqrt(np.mean(self.gaps[self.n_pre :] ** 2)))

    @property
    def att(self) -> float:
        """Average post-period gap: the average effect on the treated over the post-period."""
        return float(np.mean(self.gaps[self.n_pre :]))


def _ols_start(x1: np.ndarray, X0: np.ndarray, z1: np.ndarray, Z0: np.ndarray) -> np.ndarray:
    """Synth's regression-based starting V: squared coefficients of the pre-period outcomes
    regressed on the (standardised) predictors across units, normalised."""
    X = np.vstack([X0, x1[None, :]])
    Z = np.vstack([Z0, z1[None, :]])
    design = np.column_stack([np.ones(len(X)), X])
    beta = np.linalg.lstsq(design, Z, rcond=None)[0][1:]
    start = np.sum(beta * beta, axis=1)
    return start / start.sum() if start.sum() > 0 else np.full(len(start), 1 / len(start))


def _loss(w: np.ndarray, z1: np.ndarray, Z0: np.ndarray) -> float:
    r = z1 - Z0.T @ w
    return float(r @ r) / len(z1)


def optimise_v(
    x1: np.ndarray,
    X0: np.ndarray,
    z1: np.ndarray,
    Z0: np.ndarray,
    starts: tuple[str, ...] = ("equal", "ols"),
    maxiter: int = 1000,
) -> tuple[np.ndarray, np.ndarray, float]:
    """V* minimising the pre-period outcome MSPE of W(V), by Nelder–Mead on v = |θ|/Σ|θ|.

    x1/X0 are standardised predictors (treated (k,), donors (donors × k)); z1 (T₀,) and
    Z0 (donors × T₀) the pre-period outcomes the fit is judged on. The loss is piecewise smooth
    in V (the active set of W changes), so a derivative-free search from several starts is
    used – the equal-weights and regression-based starts of Synth – and the best kept.
    Returns (v, w, loss).
    """
    k = x1.shape[0]
    if k == 1:
        w = balance_weights(x1, X0, np.ones(1))
        return np.ones(1), w, _loss(w, z1, Z0)

    # The inner problem for every V shares C = X₀ᵀ − x₁1ᵀ; only its rows' scale √v changes, so
    # build the NNLS matrix in place (this loop runs thousands of times per fit).
    C = X0.T - x1[:, None]
    C = C / (float(np.sqrt(np.mean(C * C))) or 1.0)
    M = np.ones((k + 1, C.shape[1]))
    target = np.zeros(k + 1)
    target[-1] = 1.0
    maxiter = 50 * C.shape[1]

    def objective(theta: np.ndarray) -> float:
        a = np.abs(theta)
        s = a.sum()
        if not s > 0:
            return np.inf
        np.multiply(C, np.sqrt(a / s)[:, None], out=M[:k])
        u = nnls(M, target, maxiter=maxiter)[0]
        total = u.sum()
        r = z1 - (u @ Z0) / total if total > 0 else z1 - Z0.mean(axis=0)
        return float(r @ r) / len(z1)

    best: tuple[float, np.ndarray] | None = None
    for start in starts:
        theta0 = np.full(k, 1.0 / k) if start == "equal" else _ols_start(x1, X0, z1, Z0)
        res = minimize(
            objective,
            theta0,
            method="Nelder-Mead",
            options={"maxiter": maxiter, "xatol": 1e-6, "fatol": 1e-10, "adaptive": k > 4},
        )
        if best is None or res.fun < best[0]:
            best = (float(res.fun), res.x)
    assert best is not None
    v = np.abs(best[1]) / np.abs(best[1]).sum()
    w = balance_weights(x1, X0, v)
    return v, w, _loss(w, z1, Z0)


def fit_synth(
    outcomes: np.ndarray,
    treated: int | np.ndarray,
    n_pre: int,
    predictors: np.ndarray | None = None,
    donors: np.ndarray | None = None,
    v: np.ndarray | None = None,
    fit_periods: np.ndarray | None = None,
    starts: tuple[str, ...] = ("equal", "ols"),
) -> SynthFit:
    """The ADH synthetic control of one (possibly aggregated) treated unit.

    outcomes: (units × periods) matrix, periods in time order, the first `n_pre` before
    treatment. treated: a row index, or several row indices whose average forms one aggregate
    treated unit (outcomes and predictors averaged). donors: row indices of the donor pool
    (default every other row). predictors: (units × k) matrix; None means "every pre-period
    outcome", for which W minimises the pre-period MSPE directly (the outer V problem is then
    solved by V = 1/sd², so no search is needed). v: fixed predictor weights on the
    standardised predictors (skips the V search). fit_periods: pre-period columns whose MSPE
    the V search minimises (default all pre-periods).

    Estimand: the treated unit's post-period outcome minus the weighted donor average, i.e.
    the effect on the treated if its untreated path lies in the donors' convex hull (a linear
    factor model with a good pre-period fit, ADH 2010 §2.3).
    """
    Y = np.asarray(outcomes, float)
    n_units = Y.shape[0]
    treated_rows = np.atleast_1d(np.asarray(treated, int))
    if donors is None:
        donors = np.setdiff1d(np.arange(n_units), treated_rows)
    donors = np.asarray(donors, int)
    if len(donors) == 0:
        raise UserInputError(
            "the synthetic control needs at least one donor unit; add untreated units."
        )
    y1 = Y[treated_rows].mean(axis=0)
    Y0 = Y[donors]
    cols = np.arange(n_pre) if fit_periods is None else np.asarray(fit_periods, int)
    z1, Z0 = y1[cols], Y0[:, cols]
    if predictors is None:
        # Predictors = the pre-period outcomes themselves: with V ∝ 1/sd² the balance loss is
        # the MSPE, so W(V) is already the outer optimum.
        w = simplex_lstsq(Z0.T, z1)
        v_used = np.full(len(cols), 1.0 / len(cols))
        loss_w = _loss(w, z1, Z0)
    else:
        P = np.asarray(predictors, float)
        x1, X0, _ = standardise(P[treated_rows].mean(axis=0), P[donors])
        if v is not None:
            v_used = np.asarray(v, float) / np.sum(v)
            w = balance_weights(x1, X0, v_used)
        else:
            v_used, w, _ = optimise_v(x1, X0, z1, Z0, starts=starts)
        r = x1 - X0.T @ w
        loss_w = float(r @ (v_used * r))
    synthetic = w @ Y0
    return SynthFit(
        weights=w,
        v=v_used,
        synthetic=synthetic,
        gaps=y1 - synthetic,
        n_pre=n_pre,
        loss_v=_loss(w, z1, Z0),
        loss_w=loss_w,
    )
