"""Conformal inference for geo lift (Chernozhukov, Wüthrich & Zhu 2021, JASA 116:1849–1864).

The test of H0: "the treated average's effect is τ on every test date" (τ per geo and date):

1. subtract τ from the treated average on the n_post test dates – under H0 that is its
   untreated path;
2. refit the counterfactual on *all* n_pre + n_post dates (as augsynth's ``conformal_inf``
   does, with the ridge λ of the original fit kept), giving residuals u(t) for every date;
3. compare S(u on the test dates) with S over permutations of the residuals, where
   S = Σ|u| (``two-sided`` with ``statistic="absolute"``, GeoLift's ``stat_test = "Total"``),
   |Σu| (``two-sided`` with ``statistic="average"``), Σu (``greater``: the effect is larger
   than τ, GeoLift's "Positive") or −Σu (``less``, GeoLift's "Negative").

Which two-sided statistic. Σ|u| (the p-value default, GeoLift's) tests the sharp null "the
effect is τ on *every* test date": a campaign whose effect varies from day to day is rejected
at every constant τ, so inverting it can give an empty confidence set (it does on GeoLift's own
walkthrough data, where GeoLift then falls back to jackknife+). |Σu| tests the *average*
effect over the window – the ATT that is reported – so the confidence interval inverts it by
default (CWZ 2021 §2 use the same mean-based statistic for average effects).

Permutations: ``block`` (default) – the T = n_pre + n_post cyclic shifts of the residual series
(moving blocks), p = #{shifts whose test-window statistic ≥ the observed one} / T, the observed
shift included. Valid when the residuals are stationary and weakly dependent (CWZ §3); it
keeps the serial correlation of daily sales inside each block, and p ≥ 1/T. ``iid`` – GeoLift's
default: `n_perm` random permutations of all T residuals (seeded), valid for exchangeable
residuals; p = (1 + #{perm. statistics ≥ observed}) / (n_perm + 1). augsynth reports
#{…} / n_perm without the +1, which can be 0; with n_perm = 1000 the two differ by < 0.001.

Why cyclic blocks, measured (tests/test_geo_lift_simulation.py and the study in
docs/geotest.md; simulated geo panels with injected lift, 4,000 per design): the |Σu| interval
covers 0.943 at 95 % (nominal 0.952) and 0.900 at 90 % (0.905); comparing the test window only
with the T − n_post + 1 windows that do not wrap covers less (0.936 against its 0.956 – the
last window has neighbours on one side only, so it is among the extremes too often even for
iid residuals); iid permutations cover 0.81 (daily residuals are serially correlated);
linearly detrending the refit covers 0.99 with intervals 65 % wider; AR(7) pre-whitening of
the residuals is near nominal on four of five designs but not with iid noise, 13–21 % wider
and its acceptance region is not always an interval. The 95 % shortfall is not the
wrap-around: it comes from the synthetic control's bias – fitted to noisy donors, it
under-fits the treated average's share of a common trend, so the residuals drift and the
window at the end of the series looks extreme (without the trend: 0.952–0.955).

The (1 − α) confidence set for τ is {τ : p(τ) > α}. It is found by stepping out from the
point estimate until the test rejects, then bisecting each edge; the same permutations are used
for every τ (common random numbers), so p(τ) is a deterministic function and the edges are
well defined. The interval is the contiguous accepted region around the estimate; for a
one-sided alternative it is open on one side (±inf).

The estimate is the pre-period fit's, the test refits on all dates, so the test can reject
τ = the estimate itself: when the test window is not the pre-period fit's path shifted by a
constant, the refit moves the weights (GeoLift's multi-cell cell 2: ATT 216.4, p(216.4) =
0.038, accepted ATTs 252.6 … 885.2 – GeoLift prints that cell's incremental 6,493 with the
interval (8,745, 118,670)). Then the accepted values are found on a grid of ±6 scales (as
GeoLift's grid), their hull refined at both ends, and the interval widened to the estimate:
the smallest interval holding the confidence set and the estimate. It contains a valid
confidence set, so its coverage is at least nominal, and the estimate is never outside its
own interval; `geotest` warns that the estimate is rejected. When no value is accepted the
interval is (nan, nan).

Both functions take the geo matrix and the treated rows, exactly like `fit_lift`; `options` are
those of `fit_lift` (`donors`, `fixed_effects`, `lam`). Pass `lam` from a previous fit of the
augmented method to skip its cross-validation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.geo.lift import check_design, counterfactual_path, fit_lift, split_covariates

ALTERNATIVES = ("two-sided", "greater", "less")
PERMUTATIONS = ("block", "iid")
STATISTICS = ("absolute", "average")


def _statistic(u: np.ndarray, alternative: str, statistic: str) -> np.ndarray:
    """S over the last axis."""
    if alternative == "two-sided":
        return np.abs(u).sum(axis=-1) if statistic == "absolute" else np.abs(u.sum(axis=-1))
    if alternative == "greater":
        return u.sum(axis=-1)
    return -u.sum(axis=-1)


def _check(alternative: str, permutation: str, statistic: str) -> None:
    if statistic not in STATISTICS:
        raise UserInputError(f"statistic {statistic!r} is not one of {', '.join(STATISTICS)}.")
    if alternative not in ALTERNATIVES:
        raise UserInputError(
            f"alternative {alternative!r} is not one of {', '.join(ALTERNATIVES)}."
        )
    if permutation not in PERMUTATIONS:
        raise UserInputError(
            f"permutation {permutation!r} is not one of {', '.join(PERMUTATIONS)}."
        )


class ConformalTest:
    """The conformal test for one design, evaluated at any null effect τ.

    Holds the design, the ridge λ (chosen once on the pre-period, as augsynth does) and the
    permutation indices (drawn once from `seed`), so `p_value(τ)` is a deterministic function.
    """

    def __init__(
        self,
        Y: np.ndarray,
        treated: Any,
        n_pre: int,
        n_post: int | None = None,
        *,
        method: str = "augmented_synthetic_control",
        alternative: str = "two-sided",
        permutation: str = "block",
        n_perm: int = 1000,
        seed: int = 0,
        statistic: str = "absolute",
        donors: Any = None,
        fixed_effects: bool = True,
        lam: float | None = None,
        covariates: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        _check(alternative, permutation, statistic)
        self.statistic = statistic
        Y, treated, donors, n_post = check_design(Y, treated, n_pre, n_post, donors, method)
        self.method, self.alternative, self.permutation = method, alternative, permutation
        self.n_pre, self.n_post = n_pre, n_post
        self.fixed_effects = fixed_effects
        T = n_pre + n_post
        self.y1 = Y[treated, :T].mean(axis=0)
        self.Y0 = Y[donors, :T]
        self.fit = fit_lift(
            Y, treated, n_pre, n_post, method=method, donors=donors,
            fixed_effects=fixed_effects, lam=lam, covariates=covariates, weights=weights,
        )  # fmt: skip
        self.weights = weights  # fixed donor weights: the refits under H0 keep them
        self.covariates = split_covariates(covariates, treated, donors)
        self.lam = self.fit.lam
        t = np.arange(T)
        if permutation == "block":
            # Row k: the residual series shifted by k (k = 0 is the observed order).
            self.index = (t[None, :] + t[:, None]) % T
        else:
            rng = np.random.default_rng(seed)
            self.index = np.argsort(rng.random((n_perm, T)), axis=1)

    def residuals(self, tau: float | np.ndarray) -> np.ndarray:
        """Residuals on all dates of the refit under H0: effect = tau on the test dates."""
        y = self.y1.copy()
        y[self.n_pre :] -= tau
        path, _, _ = counterfactual_path(
            y, self.Y0, len(y), self.method, fixed_effects=self.fixed_effects, lam=self.lam,
            covariates=self.covariates, weights=self.weights,
        )  # fmt: skip
        return y - path

    def p_value(self, tau: float | np.ndarray = 0.0) -> float:
        u = self.residuals(tau)
        observed = _statistic(u[self.n_pre :], self.alternative, self.statistic)
        permuted = _statistic(u[self.index][:, self.n_pre :], self.alternative, self.statistic)
        # A relative tolerance so that ties (e.g. the identity shift) count despite rounding.
        ge = permuted >= observed - 1e-12 * max(1.0, abs(observed))
        if self.permutation == "block":
            return float(np.mean(ge))
        return float((1 + np.sum(ge)) / (len(ge) + 1))

    def interval(self, alpha: float = 0.1) -> tuple[float, float]:
        """The smallest interval holding {τ : p(τ) > alpha} around the estimate and the
        estimate itself, by stepping out and bisecting each edge (see the module docstring)."""
        if not 0 < alpha < 1:
            raise UserInputError(f"alpha {alpha!r} must be between 0 and 1.")
        estimate = self.fit.att
        gap = self.fit.gap
        scale = float(np.sqrt(np.mean(gap[self.n_pre :] ** 2)) + self.fit.pre_rmse)
        scale = scale if scale > 0 else max(1.0, abs(estimate))
        accept: Callable[[float], bool] = lambda tau: self.p_value(tau) > alpha  # noqa: E731
        inner_low = inner_high = estimate
        if not accept(estimate):
            # The estimate itself is rejected: the refit on all dates does not see the test
            # window as the pre-period fit's path plus a constant. Scan a wide grid for the
            # accepted values, as GeoLift's grid of ±6 post-period SDs does, and keep all of
            # them (not a re-centred piece that would leave the estimate outside).
            grid = estimate + scale * np.linspace(-6, 6, 121)
            ok = grid[[accept(tau) for tau in grid]]
            if not len(ok):
                return float("nan"), float("nan")
            inner_low, inner_high = float(ok.min()), float(ok.max())
        low, high = -np.inf, np.inf
        if self.alternative != "less":
            low = min(self._edge(inner_low, -scale, accept), estimate)
        if self.alternative != "greater":
            high = max(self._edge(inner_high, scale, accept), estimate)
        return float(low), float(high)

    def _edge(self, inside: float, step: float, accept: Callable[[float], bool]) -> float:
        """Step from an accepted `inside` by `step` (doubling) until rejected, then bisect."""
        outside = inside + step
        for _ in range(60):
            if not accept(outside):
                break
            inside, step = outside, step * 2
            outside = inside + step
        else:
            return float(np.sign(step) * np.inf)
        tol = 1e-4 * abs(step) + 1e-12
        while abs(outside - inside) > tol:
            mid = 0.5 * (inside + outside)
            if accept(mid):
                inside = mid
            else:
                outside = mid
        return 0.5 * (inside + outside)


def conformal_p_value(
    Y: np.ndarray,
    treated: Any,
    n_pre: int,
    n_post: int | None = None,
    *,
    method: str = "augmented_synthetic_control",
    null_effect: float | np.ndarray = 0.0,
    alternative: str = "two-sided",
    seed: int = 0,
    permutation: str = "block",
    n_perm: int = 1000,
    statistic: str = "absolute",
    **options: Any,
) -> float:
    """Conformal p-value of H0: the treated average's effect is `null_effect` per geo and date
    on every test date (an array gives one value per test date). See the module docstring."""
    test = ConformalTest(
        Y, treated, n_pre, n_post, method=method, alternative=alternative,
        permutation=permutation, n_perm=n_perm, seed=seed, statistic=statistic, **options,
    )  # fmt: skip
    return test.p_value(null_effect)


def conformal_interval(
    Y: np.ndarray,
    treated: Any,
    n_pre: int,
    n_post: int | None = None,
    *,
    method: str = "augmented_synthetic_control",
    alpha: float = 0.1,
    alternative: str = "two-sided",
    seed: int = 0,
    permutation: str = "block",
    n_perm: int = 1000,
    statistic: str = "average",
    **options: Any,
) -> tuple[float, float]:
    """(1 − alpha) conformal confidence interval for the ATT per geo and date (a constant
    effect over the test window), by inverting `conformal_p_value`. One-sided alternatives give
    a half-line (the open end is ±inf). Multiply by n_treated × n_post for incremental units."""
    test = ConformalTest(
        Y, treated, n_pre, n_post, method=method, alternative=alternative,
        permutation=permutation, n_perm=n_perm, seed=seed, statistic=statistic, **options,
    )  # fmt: skip
    return test.interval(alpha)
