"""Media mix models: adstock and saturation transforms, a Bayesian model fitted with NumPyro,
contributions, ROI and marginal ROI with credible intervals, and saved posteriors.

`cerebro.mmm` is both this package and the Python face of the ``mmm`` kind: once any of its
modules is imported, Python binds the name to the package, so the package itself is made
callable – ``cerebro.mmm(df, date_column=…, kpi=…, channels=[…])`` runs
`cerebro.mmm.analysis.mmm` (its signature and every option: ``help(cerebro.mmm.analysis.mmm)``).
"""

import sys
from types import ModuleType
from typing import Any


class _CallablePackage(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from cerebro.mmm.analysis import mmm

        return mmm(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
