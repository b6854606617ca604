"""Sensitivity to unobserved confounding, kind ``sensitivity`` (`cerebro sensitivity`).

`spec.SensitivitySpec` holds the options; `analysis` the runner and result; `data` the arrays;
`refute` the DoWhy-style refutations (re-estimates through the registry); `plots` the figure.
The numerics (omitted-variable bias, robustness values, long-story-short bounds, E-values,
Rosenbaum bounds) live in the shared `cerebro.stats`, which `cerebro causal --sensitivity`
uses too.

`cerebro.sensitivity` is both this package and the Python face of the kind: once any of its
modules is imported, Python binds the name to the package, so the package itself is callable –
``cerebro.sensitivity(df, treatment=…, …)`` runs `cerebro.sensitivity.analysis.sensitivity`
either way (as `cerebro.uplift` does).
"""

import sys
from types import ModuleType
from typing import Any


class _CallablePackage(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from cerebro.sensitivity.analysis import sensitivity

        return sensitivity(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
