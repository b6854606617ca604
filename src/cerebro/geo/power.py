"""Geo power by simulation: inject a multiplicative lift, refit, test conformally, count rejections.

For one treated set (averaged, as GeoLift and augsynth do), a test duration `n` and a grid of
effects `e`, a *simulation* places the test window somewhere in the history, multiplies the
treated geos' outcome in that window by (1 + e), and asks whether the test of the analysis
rejects "no effect" at level alpha. Power at `e` is the share of simulations that reject; the
MDE is the smallest effect on the grid with power ≥ 0.8.

The test is the conformal (permutation) test of Chernozhukov, Wüthrich & Zhu (2021, JASA
116:1849–1864) as augsynth and GeoLift run it: under H0 (no effect) the synthetic control is
refitted on *all* periods, the residuals u_t = treated − synthetic are cut into the T cyclic
blocks of length n, and p = #{blocks c : S(u_c) ≥ S(u_test)} / T with S = Σ|u| (two-sided),
Σu ("greater") or −Σu ("less"). The synthetic control is GeoLift's market-selection model:
simplex weights on the donors' series after removing every geo's mean (unit fixed effects,
augsynth ``progfunc="none", scm=TRUE, fixedeff=TRUE``), fitted with
`cerebro.stats.synth_weights.simplex_lstsq`.

Where the window goes. GeoLift backtests only windows at the end of the history (its
``lookback_window``, 1 by default), so each of its "power" values is one yes/no: with a
biased synthetic control in that one window the power at zero effect is 1 (GeoLift issues
#48 and #171). Here every lookback ℓ (the history truncated ℓ periods before its end, as
GeoLift does) contributes one simulation *per cyclic block position* of the test window – the
randomisation distribution the conformal p-value itself is built on. At e = 0 the data do not
depend on where the window is, so the T p-values are the ranks of the T block statistics of one
fit and at most ⌊αT⌋ of them are ≤ α: the power at zero effect is ≤ alpha exactly, whatever
the fit. (Blocks wrap around the end, as the permutation test's blocks do.)

Speed, exactly. With the support S of the zero-effect weights fixed, the simplex least-squares
solution solves a linear KKT system whose right-hand side is affine in e, so the weights, the
residuals and the Lagrange multiplier are affine in e for every window position at once: one
factorisation per (set, duration, lookback) gives all positions × effects. The solution is
kept only where it is the true optimum – weights ≥ 0 and no donor off the support with a
gradient that would enter (the KKT conditions, checked); elsewhere the problem is re-solved
by NNLS and its support reused for the larger effects of that position. The point estimate
(the detected lift) comes from the pre-period fit, which the injection does not touch, so it
is exactly linear in e.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.stats.synth_weights import simplex_lstsq

ALTERNATIVES = ("two-sided", "greater", "less")
TARGET_POWER = 0.8


def _centre(y: np.ndarray, D: np.ndarray, fixed_effects: bool) -> tuple[np.ndarray, np.ndarray]:
    if not fixed_effects:
        return y, D
    return y - y.mean(), D - D.mean(axis=1, keepdims=True)


def block_masks(T: int, n: int) -> np.ndarray:
    """(T × T) 0/1 matrix: row b marks the cyclic block b, b+1, …, b+n−1 (mod T)."""
    t = np.arange(T)
    return ((t[None, :] - t[:, None]) % T < n).astype(float)


def block_stats(u: np.ndarray, n: int, alternative: str) -> np.ndarray:
    """The statistic of every cyclic block of length n of residuals u (…, T) → (…, T)."""
    if alternative == "two-sided":
        v = np.abs(u)
    elif alternative == "greater":
        v = u
    else:
        v = -u
    T = u.shape[-1]
    doubled = np.concatenate([v, v[..., : n - 1]], axis=-1)
    c = np.cumsum(doubled, axis=-1)
    c = np.concatenate([np.zeros((*c.shape[:-1], 1)), c], axis=-1)
    return c[..., n : n + T] - c[..., :T]


def _p_values(stats: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Share of blocks whose statistic is ≥ the observed one (the observed block included);
    a relative tolerance keeps floating-point dust from breaking exact ties."""
    scale = np.max(np.abs(stats), axis=-1, keepdims=True) + 1e-300
    return np.mean(stats >= observed[..., None] - 1e-10 * scale, axis=-1)


def _kkt(A: np.ndarray) -> np.ndarray:
    """Inverse of the KKT matrix [[A Aᵀ, 1], [1ᵀ, 0]] of the simplex least squares on a support
    (A: support donors × periods); pinv guards against collinear donors."""
    s = A.shape[0]
    K = np.zeros((s + 1, s + 1))
    K[:s, :s] = A @ A.T
    K[:s, s] = K[s, :s] = 1.0
    try:
        return np.linalg.inv(K)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(K)


def _path_weights(
    A: np.ndarray, base: np.ndarray, G: np.ndarray, targets: np.ndarray, tol: float
) -> tuple[np.ndarray, int]:
    """Simplex least-squares weights min ‖base + e·g_b − Aᵀw‖² for every direction g_b (rows
    of G) and every target e ≥ 0 (ascending): (B × len(targets) × donors), and the number of
    problems re-solved by NNLS.

    A parametric quadratic programme: on a fixed support S the KKT system
    [[A_S A_Sᵀ, 1], [1ᵀ, 0]] [w; μ] = [A_S (base + e g); 1] is linear, so w and the gradient
    are affine in e until a weight reaches 0 (it leaves S) or an outside donor's gradient
    condition A_j r ≤ A_S r becomes tight (it enters). Following those breakpoints gives the
    exact optimum at every e (a homotopy, as Osborne, Presnell & Turlach 2000 follow the lasso
    path). It runs in donor space (the Gram matrix A Aᵀ, A·base, A·g) for all directions at
    once: each step is one batched solve, the support held as a mask (outside donors pinned to
    0 by an identity row). Every answer is checked against the KKT conditions and re-solved by
    NNLS where the check fails (degenerate breakpoints), so the result is the optimum.
    """
    B, k, E = G.shape[0], A.shape[0], len(targets)
    Q = A @ A.T
    ab = A @ base
    AG_all = G @ A.T  # (B × k)
    support_all = np.tile(simplex_lstsq(A.T, base) > 0, (B, 1))
    e_all = np.zeros(B)
    done = np.zeros((B, E), bool)
    out = np.zeros((B, E, k))
    eye = np.eye(k, dtype=bool)
    for _ in range(4 * k + 10):
        L = np.flatnonzero(~done.all(axis=1))  # only the positions still moving
        if len(L) == 0:
            break
        support, e, AG = support_all[L], e_all[L], AG_all[L]
        n = len(L)
        both = support[:, :, None] & support[:, None, :]
        K = np.zeros((n, k + 1, k + 1))
        K[:, :k, :k] = np.where(both, Q[None], 0.0) + (eye[None] & ~support[:, :, None])
        K[:, :k, k] = K[:, k, :k] = support
        rhs = np.zeros((n, k + 1, 2))
        rhs[:, :k, 0] = np.where(support, ab[None] + e[:, None] * AG, 0.0)
        rhs[:, :k, 1] = np.where(support, AG, 0.0)
        rhs[:, k, 0] = 1.0
        sol = np.linalg.solve(K, rhs)
        w, dw = sol[:, :k, 0], sol[:, :k, 1]
        # A_j r = A_j·target − (Q w)_j: equal (= μ) on the support, ≤ μ outside it
        grad = ab[None] + e[:, None] * AG - w @ Q
        dgrad = AG - dw @ Q
        size = support.sum(axis=1)
        mu = np.where(support, grad, 0.0).sum(axis=1) / size
        dmu = np.where(support, dgrad, 0.0).sum(axis=1) / size
        c, dc = grad - mu[:, None], dgrad - dmu[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            leave = np.where(support & (dw < 0), np.maximum(-w / dw, 0.0), np.inf)
            enter = np.where(~support & (dc > 0), np.maximum(-c / dc, 0.0), np.inf)
        step = np.minimum(leave.min(axis=1), enter.min(axis=1))
        t = targets[None, :] - e[:, None]  # (n × E)
        now = ~done[L] & (t <= step[:, None])
        if now.any():
            wt = w[:, None, :] + t[:, :, None] * dw[:, None, :]
            ct = c[:, None, :] + t[:, :, None] * dc[:, None, :]
            wmin = np.where(support[:, None, :], wt, np.inf).min(axis=2)
            cmax = np.where(support[:, None, :], -np.inf, ct).max(axis=2)
            good = now & (wmin >= -1e-10) & (cmax <= tol)
            rows, cols = np.nonzero(good)
            out[L[rows], cols] = np.where(support[:, None, :], np.maximum(wt, 0.0), 0.0)[good]
            for r, j in zip(*np.nonzero(now & ~good), strict=True):
                out[L[r], j] = simplex_lstsq(A.T, base + targets[j] * G[L[r]])
            done[L] |= now
        moving = ~done[L].all(axis=1) & np.isfinite(step)
        if not moving.any():
            break
        e_all[L[moving]] += step[moving]
        go_out = moving & (leave.min(axis=1) <= step)
        go_in = moving & (enter.min(axis=1) <= step)
        support_all[L[go_out], np.argmin(leave, axis=1)[go_out]] = False
        support_all[L[go_in], np.argmin(enter, axis=1)[go_in]] = True
    n_nnls = int((~done).sum())
    for b, j in zip(*np.nonzero(~done), strict=True):
        out[b, j] = simplex_lstsq(A.T, base + targets[j] * G[b])
    return out, n_nnls


def block_power(
    y: np.ndarray,
    D: np.ndarray,
    n_post: int,
    effects: np.ndarray,
    *,
    alternative: str = "two-sided",
    fixed_effects: bool = True,
) -> np.ndarray:
    """Conformal p-values (effects × T) for every cyclic window position and injected effect.

    y (T,) treated average, D (donors × T). Entry [i, b]: multiply y on block b (length n_post,
    cyclic) by 1 + effects[i], refit the synthetic control on all T periods, and test block b.
    """
    y = np.asarray(y, float)
    D = np.asarray(D, float)
    effects = np.asarray(effects, float)
    T = len(y)
    G = block_masks(T, n_post) * y[None, :]  # the injection direction of each position
    if fixed_effects:
        G = G - G.mean(axis=1, keepdims=True)
    yc, Dc = _centre(y, D, fixed_effects)
    # One common scale for the data (p-values are scale-free): keeps the KKT matrix, whose
    # constraint row is 1, well conditioned.
    unit = float(np.sqrt(np.mean(Dc * Dc))) or 1.0
    yc, Dc, G = yc / unit, Dc / unit, G / unit
    tol = 1e-9 * float(np.sqrt(np.mean(yc * yc))) * T
    Wts = np.empty((len(effects), T, Dc.shape[0]))
    for idx, sign in ((np.flatnonzero(effects >= 0), 1.0), (np.flatnonzero(effects < 0), -1.0)):
        if len(idx):
            order = idx[np.argsort(np.abs(effects[idx]), kind="stable")]
            weights, _ = _path_weights(Dc, yc, sign * G, np.abs(effects[order]), tol)
            Wts[order] = weights.transpose(1, 0, 2)
    R = yc[None, None, :] + effects[:, None, None] * G[None, :, :] - Wts @ Dc
    stats = block_stats(R, n_post, alternative)  # (E, B, C)
    observed = stats[:, np.arange(T), np.arange(T)]
    return _p_values(stats, observed)


@dataclass
class PreFit:
    """The end-of-history window's point estimate from `cerebro.geo.lift.fit_lift` (weights
    from the pre-period only, so an injected effect leaves the counterfactual unchanged)."""

    counterfactual: np.ndarray  # (n_post,) for the treated average
    observed: np.ndarray  # (n_post,) treated average, no effect injected
    pre_rmse: float
    scaled_imbalance: float  # augsynth's scaled L2 imbalance (GeoLift's ScaledL2Imbalance)

    def lift(self, effects: np.ndarray) -> np.ndarray:
        """Detected lift Σ(y(1+e) − cf) / Σcf for each injected effect (exactly linear in e)."""
        total = self.counterfactual.sum()
        return (np.asarray(effects) * self.observed.sum() + self.observed.sum() - total) / abs(
            total
        )

    def att(self, effects: np.ndarray) -> np.ndarray:
        """Mean post gap of the treated average per geo-day for each injected effect."""
        return np.mean(self.observed) * (1 + np.asarray(effects)) - np.mean(self.counterfactual)


def pre_fit(
    Y: np.ndarray,
    treated: np.ndarray,
    donors: np.ndarray,
    n_pre: int,
    n_post: int,
    fixed_effects: bool,
) -> PreFit:
    """`fit_lift` (synthetic control) on the first n_pre + n_post dates, at zero effect."""
    from cerebro.geo.lift import fit_lift

    fit = fit_lift(
        Y, treated, n_pre, n_post, method="synthetic_control", donors=donors,
        fixed_effects=fixed_effects,
    )  # fmt: skip
    window = slice(n_pre, n_pre + n_post)
    return PreFit(
        counterfactual=np.asarray(fit.counterfactual[window], float),
        observed=np.asarray(fit.observed[window], float),
        pre_rmse=fit.pre_rmse,
        scaled_imbalance=float(fit.scaled_l2_imbalance),
    )


@dataclass
class DesignPower:
    """Power of one treated set for one duration, over the effect grid.

    `rejections` (effects,) counts simulations with p ≤ alpha out of `simulations`;
    `detected_lift` and `att` average the end-of-history window over the lookbacks;
    `baseline` is the treated geos' total outcome over the last `duration` periods (each
    lookback's window, averaged) – the base of the investment.
    """

    duration: int
    effects: np.ndarray
    rejections: np.ndarray
    simulations: int
    detected_lift: np.ndarray
    att: np.ndarray
    baseline: float
    pre_rmse: float
    scaled_imbalance: float

    @property
    def power(self) -> np.ndarray:
        return self.rejections / self.simulations

    def mde_index(self, target: float = TARGET_POWER) -> int | None:
        """Index of the smallest |effect| ≠ 0 on the grid with power ≥ target (None if none).

        With an effect grid of both signs the smaller magnitude wins (ties: the positive one).
        """
        power = self.power
        order = sorted(
            range(len(self.effects)), key=lambda i: (abs(self.effects[i]), -self.effects[i])
        )
        for i in order:
            if self.effects[i] != 0 and power[i] >= target - 1e-12:
                return i
        return None


def design_power(
    Y: np.ndarray,
    treated: np.ndarray,
    donors: np.ndarray,
    duration: int,
    effects: np.ndarray,
    *,
    lookbacks: int = 1,
    alpha: float = 0.1,
    alternative: str = "two-sided",
    fixed_effects: bool = True,
) -> DesignPower:
    """Power of treating the rows `treated` (averaged) against `donors` for `duration` periods.

    Lookback ℓ = 0 … lookbacks−1 truncates the history ℓ periods before its end (the window
    then ends there, as in GeoLift); each contributes every cyclic window position (see the
    module docstring). Effects are relative lifts (0.05 = +5%).
    """
    Y = np.asarray(Y, float)
    treated = np.asarray(treated, int)
    donors = np.asarray(donors, int)
    effects = np.asarray(effects, float)
    y_all = Y[treated].mean(axis=0)
    D_all = Y[donors]
    totals = Y[treated].sum(axis=0)
    rejections = np.zeros(len(effects))
    lifts, atts, baselines, rmses, imbalances = [], [], [], [], []
    simulations = 0
    for ell in range(lookbacks):
        end = Y.shape[1] - ell
        y, D = y_all[:end], D_all[:, :end]
        p = block_power(
            y, D, duration, effects, alternative=alternative, fixed_effects=fixed_effects
        )
        rejections += np.sum(p <= alpha + 1e-12, axis=1)
        simulations += p.shape[1]
        fit = pre_fit(Y[:, :end], treated, donors, end - duration, duration, fixed_effects)
        lifts.append(fit.lift(effects))
        atts.append(fit.att(effects))
        baselines.append(totals[end - duration : end].sum())
        rmses.append(fit.pre_rmse)
        imbalances.append(fit.scaled_imbalance)
    return DesignPower(
        duration=duration,
        effects=effects,
        rejections=rejections,
        simulations=simulations,
        detected_lift=np.mean(lifts, axis=0),
        att=np.mean(atts, axis=0),
        baseline=float(np.mean(baselines)),
        pre_rmse=float(np.mean(rmses)),
        scaled_imbalance=float(np.mean(imbalances)),
    )
