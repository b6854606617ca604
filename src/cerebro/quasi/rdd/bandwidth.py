"""MSE-optimal common bandwidth for the RD effect (rdrobust's ``mserd``).

The selector of Calonico, Cattaneo & Titiunik (2014, Econometrica; CCT) as refined in Calonico,
Cattaneo & Farrell (2020, Econometrics Journal) and with covariates in Calonico, Cattaneo,
Farrell & Titiunik (2019, REStat):

1. a rule-of-thumb pilot c = C_K · min(sd, IQR/1.349) · M^(−1/5) (M distinct x values), used to
   estimate every variance constant;
2. d: the MSE-optimal bandwidth for the (q+1)-th derivative, from a global order-(q+2) fit on each
   side (no regularisation);
3. b: MSE-optimal for the (p+1)-th derivative with an order-q fit, bias from an order-(q+1) fit at d;
4. h: MSE-optimal for the effect with an order-p fit, bias from an order-q fit at b.

Each step is h = [V / (B² + R)]^(1/(2o+3)) with V the summed variance constants of both sides, B
the difference of their bias constants and R = 3·(bias constant)²·V̂(leading coefficient), the
regularisation that keeps h finite when the estimated bias is near zero. All bandwidths are capped
at the largest distance from the cutoff to the data. The variance constants use the same
variance estimator (nearest-neighbour or clustered) as inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.quasi.rdd.local import Side, fit_meat, local_fit, window_size

# Kernel constants of the pilot bandwidth (Silverman-type rule of thumb for each kernel).
PILOT_CONSTANT = {"triangular": 2.576, "uniform": 1.843, "epanechnikov": 2.34}
_EPS = np.sqrt(np.finfo(float).eps)


@dataclass
class Design:
    """Which columns of `Side.D` enter: outcome 0, treatment (fuzzy) and covariates."""

    treatment: bool
    n_cov: int
    kernel: str
    vce: str

    @property
    def cov_cols(self) -> np.ndarray:
        start = 1 + int(self.treatment)
        return np.arange(start, start + self.n_cov)


def quantile_type2(x: np.ndarray, probs: list[float]) -> np.ndarray:
    """Hyndman–Fan type-2 quantiles (empirical CDF inverse, averaged at jumps)."""
    s = np.sort(x)
    n = len(s)
    out = []
    for prob in probs:
        pos = n * prob
        j = math.floor(pos)
        out.append(0.5 * (s[j - 1] + s[j]) if pos == j else s[min(j, n - 1)])
    return np.array(out)


def quantile_type2_sides(left: Side, right: Side, probs: list[float]) -> np.ndarray:
    """`quantile_type2` of the running variable (centred), read off the two sorted sides."""
    nl = left.n
    n = nl + right.n

    def at(j: int) -> float:  # the j-th smallest value: the left side is sorted by |x| = −x
        return left.x[nl - 1 - j] if j < nl else right.x[j - nl]

    out = []
    for prob in probs:
        pos = n * prob
        j = math.floor(pos)
        out.append(0.5 * (at(j - 1) + at(j)) if pos == j else at(min(j, n - 1)))
    return np.array(out)


def side_gamma(U: np.ndarray, C: np.ndarray, inv_g: np.ndarray, design: Design) -> np.ndarray:
    """Covariate coefficients after partialling out the local polynomial (CCFT 2019, eq. 5),
    from U = R'WD, C = Σ w D D' and (R'WR)⁻¹."""
    z = design.cov_cols
    first = np.arange(1 + int(design.treatment))
    ZWD = C[z]
    UiGU = U[:, z].T @ inv_g @ U
    return np.linalg.pinv(ZWD[:, z] - UiGU[:, z]) @ (ZWD[:, first] - UiGU[:, first])


def combination(beta_nu: np.ndarray, gamma: np.ndarray | None, design: Design, nu: int):
    """Weights s on the columns of D whose combination is the quantity of interest.

    Sharp: the outcome (net of γ'covariates). Fuzzy: the linearised ratio τ_Y/τ_T."""
    if not design.treatment:
        return np.array([1.0]) if gamma is None else np.concatenate([[1.0], -gamma[:, 0]])
    fac = math.factorial(nu)
    if gamma is None:
        tau_y, tau_t = fac * beta_nu[0], fac * beta_nu[1]
    else:
        z = design.cov_cols
        tau_y = fac * (beta_nu[0] - gamma[:, 0] @ beta_nu[z])
        tau_t = fac * (beta_nu[1] - gamma[:, 1] @ beta_nu[z])
    if not np.isfinite(tau_t) or tau_t == 0:
        from cerebro.core.errors import UserInputError

        raise UserInputError(
            "the take-up (--treatment) does not jump at the cutoff within the bandwidth (a "
            "first stage of exactly 0), so the fuzzy ratio is undefined – check the take-up "
            "column, or drop --treatment for a sharp design."
        )
    if gamma is None:
        return np.array([1 / tau_t, -tau_y / tau_t**2])
    return np.concatenate(
        [
            [1 / tau_t, -tau_y / tau_t**2],
            -gamma[:, 0] / tau_t + tau_y / tau_t**2 * gamma[:, 1],
        ]
    )


@dataclass
class SidePilot:
    """Per-side cache: the pilot fits depend only on (order, derivative)."""

    side: Side
    design: Design
    vfits: dict = field(default_factory=dict)

    def vfit(self, o: int, nu: int, h: float) -> tuple[float, float, np.ndarray]:
        """Variance of the ν-th derivative's combination, bias constant and s at the pilot h."""
        key = (o, nu)
        if key in self.vfits:
            return self.vfits[key]
        side, design = self.side, self.design
        m = window_size(side.dist, h, design.kernel)
        if side.unique_in(m) < o + 1:
            raise _too_few("pilot", h)
        fit = local_fit(side, h, o, design.kernel, cross=design.n_cov > 0)
        inv_g = fit.inv_g
        beta = fit.coef()
        gamma = side_gamma(fit.T, fit.C, inv_g, design) if design.n_cov else None
        s = combination(beta[nu] / h**nu, gamma, design, nu)
        var = (inv_g @ fit_meat(side, fit, s, design.kernel) @ inv_g)[nu, nu] / h ** (2 * nu)
        # R'W u^(o+1) = (Σ w u^(j+o+1))_j
        bconst = (inv_g @ fit.S[o + 1 : 2 * o + 2])[nu]
        self.vfits[key] = (float(var), float(bconst), s)
        return self.vfits[key]

    def pieces(
        self, o: int, nu: int, o_b: int, h_v: float, h_b: float, scale: float
    ) -> tuple[float, float, float]:
        """(V, B, R) constants of one side for an order-o fit of derivative ν."""
        var, bconst, s = self.vfit(o, nu, h_v)
        side, design = self.side, self.design
        m = window_size(side.dist, h_b, design.kernel)
        if side.unique_in(m) < o_b + 1:
            raise _too_few("bias pilot", h_b)
        fit = local_fit(side, h_b, o_b, design.kernel)
        inv_g = fit.inv_g
        beta = fit.coef()
        lead = beta[-1] / h_b**o_b
        reg = 0.0
        if scale > 0:
            meat = fit_meat(side, fit, s, design.kernel)
            v_lead = (inv_g @ meat @ inv_g)[-1, -1] / h_b ** (2 * o_b)
            reg = 3 * bconst**2 * v_lead
        V = (2 * nu + 1) * h_v ** (2 * nu + 1) * var
        B = math.sqrt(2 * (o + 1 - nu)) * bconst * float(s @ lead)
        R_ = scale * 2 * (o + 1 - nu) * reg
        return V, B, R_


def _too_few(what: str, h: float) -> UserInputError:
    return UserInputError(
        f"too few distinct running-variable values within the {what} bandwidth {h:.4g} to select "
        "a bandwidth; give one with --bandwidth or use a lower --order."
    )


def mserd(
    left: Side,
    right: Side,
    p: int,
    design: Design,
    x_all_sd: float,
    x_all_iqr: float,
    bwcheck: int | None,
    regularise: float = 1.0,
) -> tuple[float, float, float]:
    """(h, b, pilot) – the common MSE-optimal bandwidths of the RD effect (deriv 0)."""
    q = p + 1
    M = left.unique + right.unique
    range_l, range_r = float(left.dist[-1]), float(right.dist[-1])
    bw_max = max(range_l, range_r)
    pilot = PILOT_CONSTANT[design.kernel] * min(x_all_sd, x_all_iqr / 1.349) * M ** (-0.2)
    pilot = min(pilot, bw_max)
    bw_min = 0.0
    if bwcheck is not None:
        # Enlarge the pilots so that each side keeps `bwcheck` distinct values (mass points).
        mins = []
        for side in (left, right):
            k = min(bwcheck, side.unique)
            mins.append(side.dist[side.group_start[k - 1]] * (1 + _EPS))
        bw_min = max(mins)
        pilot = max(pilot, bw_min)
    sides = [SidePilot(left, design), SidePilot(right, design)]

    def step(o: int, nu: int, o_b: int, h_b: list[float], scale: float) -> float:
        (v_l, b_l, r_l), (v_r, b_r, r_r) = (
            s.pieces(o, nu, o_b, pilot, hb, scale) for s, hb in zip(sides, h_b, strict=True)
        )
        denom = (b_r - b_l) ** 2 + scale * (r_l + r_r)
        return ((v_l + v_r) / denom) ** (1 / (2 * o + 3))

    d = step(q + 1, q + 1, q + 2, [range_l * (1 + _EPS), range_r * (1 + _EPS)], 0.0)
    d = min(d, bw_max)
    if bwcheck is not None:
        d = max(d, bw_min)
    b = min(step(q, p + 1, q + 1, [d, d], regularise), bw_max)
    h = min(step(p, 0, q, [b, b], regularise), bw_max)
    if not (np.isfinite(h) and np.isfinite(b) and h > 0 and b > 0):
        raise UserInputError(
            "the running variable has too little variation near the cutoff to select a "
            "bandwidth (check for mass points); give one with --bandwidth."
        )
    return float(h), float(b), float(pilot)
