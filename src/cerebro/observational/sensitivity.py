"""`cerebro causal --sensitivity`: the sensitivity of the adjustment estimate just computed, from
its own fit – no refit. The numerics and the table rows are the shared ones
(`cerebro.stats.sensitivity_report`) that `cerebro sensitivity` reports too:

- regression: Cinelli & Hazlett's partial R² and robustness values (classical OLS SE);
- aipw, dml (interactive model, ATE): the long-story-short robustness values from the
  influence functions of θ, σ² and ν² the result's `Fit` carries;
- psm for the ATT or ATC: Rosenbaum's Γ of the pair differences (1:1, signed-rank test) or of
  the matched sets (1:k, Huber–Maritz m-test);
- every method: the E-value of the risk ratio (0/1 outcome) or of the standardised difference.
"""

from __future__ import annotations

from cerebro.core.results import Estimate, Finding, Fit
from cerebro.observational.data import CausalData
from cerebro.observational.spec import CausalSpec
from cerebro.stats.ovb_linear import linear_ovb
from cerebro.stats.sensitivity_report import (
    Section,
    dml_section,
    effect_evalue,
    linear_section,
    riesz_from_fit,
    rosenbaum_section,
    rosenbaum_sets_section,
)


def sensitivity_section(
    data: CausalData, spec: CausalSpec, estimates: list[Estimate], fit: Fit | None
) -> Section:
    """The sensitivity rows and findings of a two-arm adjustment estimate."""
    head = estimates[0]
    section = Section()
    riesz = riesz_from_fit(fit, head)
    if spec.method == "regression":
        ovb = linear_ovb(data.y, data.a, data.X, alpha=spec.alpha)
        section.extend(linear_section(ovb, str(spec.treatment)))
    elif riesz is not None:
        section.extend(dml_section(riesz, [], spec.alpha))
    elif fit is not None and fit.pairs is not None:
        section.extend(rosenbaum_section(fit.pairs, spec.alpha))
    elif fit is not None and fit.sets is not None:  # 1:k matching
        section.extend(rosenbaum_sets_section(fit.sets, spec.alpha))
    else:
        section.findings.append(
            Finding(
                "info",
                "sensitivity",
                "robustness values need --method regression, or aipw/dml for the ATE, and "
                "Rosenbaum bounds psm with --estimand att (or atc); this "
                "estimate gets its E-value only "
                "(cerebro sensitivity gives bounds for a confounder of a given strength).",
            )
        )
    ratio = next((e for e in estimates if e.extra.get("measure") == "risk ratio"), None)
    section.extend(effect_evalue(data.y, data.a, head, ratio))
    return section
