"""The statsmodels habit on any result: `.params`, `.bse`, `.pvalues`, `.conf_int(alpha)` and
`.summary()` as pandas objects indexed by the estimates' labels, and ASCII spellings of the
labels ("y: B - A" for "y: B − A") wherever a label is looked up.

Intervals at another level than the result's are Wald intervals from the standard error
(Student's t when the estimate carries its degrees of freedom, else normal); an estimate
without a standard error (a bootstrap or posterior interval) has none at another level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Estimate

_ASCII = str.maketrans(
    {"−": "-", "–": "-", "—": "-", "×": "x", "·": "*", "²": "^2", "≥": ">=", "≤": "<=",
     "Δ": "delta", "τ": "tau", "ρ": "rho", "σ": "sigma", "μ": "mu", "…": "..."}
)  # fmt: skip


def ascii_label(label: str) -> str:
    """The label with typographic characters spelled in ASCII."""
    return label.translate(_ASCII)


def series(estimates: list[Estimate], field: str) -> pd.Series:
    """One field of every estimate, indexed by label."""
    import pandas as pd

    return pd.Series(
        [getattr(e, field) for e in estimates],
        index=[e.label for e in estimates],
        name=field,
        dtype=float,
    )


def conf_int(estimates: list[Estimate], own_alpha: float | None, alpha: float | None) -> Any:
    """Lower and upper limits at level 1 − `alpha` (the result's own by default)."""
    import pandas as pd

    from cerebro.stats.intervals import wald_interval

    index = [e.label for e in estimates]
    if alpha is None or (own_alpha is not None and abs(alpha - own_alpha) < 1e-15):
        rows = [(e.ci_low, e.ci_high) for e in estimates]
        return pd.DataFrame(rows, index=index, columns=["lower", "upper"], dtype=float)
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha must lie strictly between 0 and 1, got {alpha}.")
    missing = [e.label for e in estimates if e.se is None]
    if missing:
        raise UserInputError(
            f"{missing[0]!r} has no standard error, so its interval exists only at the "
            f"result's level (alpha {own_alpha}); rerun the analysis with alpha={alpha}."
        )
    rows = [wald_interval(e.value, e.se, alpha, "two-sided", e.extra.get("df")) for e in estimates]
    return pd.DataFrame(rows, index=index, columns=["lower", "upper"], dtype=float)


def summary(estimates: list[Estimate], own_alpha: float | None) -> pd.DataFrame:
    """coef, std err, p and the interval of every estimate: one table, as statsmodels prints."""
    import pandas as pd

    level = f"{1 - own_alpha:.0%}" if own_alpha is not None else "CI"
    intervals = conf_int(estimates, own_alpha, None)
    return pd.DataFrame(
        {
            "coef": series(estimates, "value"),
            "std err": series(estimates, "se"),
            "p": series(estimates, "p_value"),
            f"[{level} lower": intervals["lower"],
            f"{level} upper]": intervals["upper"],
        }
    )
