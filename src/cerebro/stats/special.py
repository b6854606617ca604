"""scipy's compiled special functions – the distribution functions of the normal, Student t,
chi-square, F and beta laws – without importing the public `scipy.special` package.

The numbers are scipy's own: the names below are the very ufunc objects `scipy.special`
exports (``scipy.special.ndtr is scipy.special._ufuncs.ndtr``: the package re-exports them),
and `scipy.stats.t`/`.norm` call the same ufuncs. What is avoided is the package's
``__init__``: in scipy 1.17 it imports an array-API dispatch layer
(``_support_alternative_backends``) that clones numpy's namespace and so imports numpy.f2py,
numpy.testing, numpy.ma, numpy.random … – ≈ 0.15 s of CPU, a fifth of `cerebro abtest` on a
1.5M-row Parquet file (BENCHMARKS.md, issue 22), for functions that are compiled code.

How: while ``scipy.special`` is not yet imported, a bare package module standing for it is
put in `sys.modules` for the moment it takes to import the compiled ``scipy.special._ufuncs``
(it imports only its compiled siblings), then removed again – so a later ``import
scipy.special`` runs the real package, which re-exports these same objects. The route is taken
only for scipy 1.11 to 1.x (the versions whose layout this was checked against), only when no
other thread runs (another thread could otherwise import the bare stand-in), and any failure
falls back to the public import. `tests/test_stats_special.py` checks the objects are
scipy.special's and the values agree with scipy.stats to 1e-12 over a grid.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import Any

#: The functions the families take from here (each a numpy ufunc of scipy.special).
NAMES = (
    "betainc",
    "betaincinv",
    "betaln",
    "chdtrc",
    "gammaln",
    "ndtr",
    "ndtri",
    "stdtr",
    "stdtrit",
)


def _version_ok(version: str) -> bool:
    parts = version.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return False
    return major == 1 and minor >= 11


def _compiled() -> Any | None:
    """``scipy.special._ufuncs`` imported without running ``scipy.special/__init__``, or None
    when that route does not apply (see the module docstring)."""
    if "scipy.special" in sys.modules or threading.active_count() != 1:
        return None
    import scipy

    if not _version_ok(getattr(scipy, "__version__", "")):
        return None
    stand_in = ModuleType("scipy.special")
    stand_in.__path__ = [f"{p}/special" for p in scipy.__path__]
    sys.modules["scipy.special"] = stand_in
    try:
        from scipy.special import _ufuncs
    except ImportError:
        return None
    finally:
        if sys.modules.get("scipy.special") is stand_in:
            del sys.modules["scipy.special"]
        if vars(scipy).get("special") is stand_in:  # getattr would import the package
            delattr(scipy, "special")
    return _ufuncs if all(hasattr(_ufuncs, n) for n in NAMES) else None


def _source() -> tuple[Any, str]:
    compiled = _compiled()
    if compiled is not None:
        return compiled, "scipy.special._ufuncs"
    from scipy import special

    return special, "scipy.special"


_module, SOURCE = _source()

betainc = _module.betainc
betaincinv = _module.betaincinv
betaln = _module.betaln
chdtrc = _module.chdtrc
gammaln = _module.gammaln
ndtr = _module.ndtr
ndtri = _module.ndtri
stdtr = _module.stdtr
stdtrit = _module.stdtrit

del _module

__all__ = [*NAMES, "SOURCE"]
