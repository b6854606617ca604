"""Uplift modelling: conditional average treatment effects, their evaluation and targeting.

`cerebro.uplift` is both this package and the Python face of the ``uplift`` kind: once any of
its modules is imported, Python binds the name to the package, so the package itself is made
callable – ``cerebro.uplift(df, treatment=…, …)`` runs `cerebro.uplift.analysis.uplift` either
way (its signature and every option: ``help(cerebro.uplift.analysis.uplift)``).
"""

import sys
from types import ModuleType
from typing import Any


class _CallablePackage(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from cerebro.uplift.analysis import uplift

        return uplift(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
