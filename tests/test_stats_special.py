"""`cerebro.stats.special`: scipy's distribution functions without the public package's import.

The functions must be scipy.special's own (the same numbers to the last bit), agree with
scipy.stats' t and normal laws to 1e-12 relative from df = 1 to 1e7 and into tails of 1e-300,
and leave `import scipy.special` working as usual afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import special as public
from scipy import stats

from cerebro.stats import special

DFS = np.concatenate([[1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0], np.logspace(2, 7, 11)])
# Lower-tail probabilities from 1e-300 to the median, and their mirror images above it.
TAILS = np.array([1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-10, 1e-5, 1e-3, 0.025, 0.1, 0.3, 0.5])
PROBS = np.concatenate([TAILS, 1 - TAILS[TAILS > 1e-16]])


def relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isfinite(a), np.isfinite(b))
    same = a == b  # equal infinities (the median's quantile is 0: relative error 0/0)
    scale = np.maximum(np.abs(b), np.finfo(float).tiny)
    with np.errstate(invalid="ignore"):  # inf − inf where both are the same infinity
        return float(np.max(np.where(same, 0.0, np.abs(a - b) / scale)))


def test_the_functions_are_scipy_specials_own():
    for name in special.NAMES:
        ours, theirs = getattr(special, name), getattr(public, name)
        if os.environ.get("SCIPY_ARRAY_API"):  # the public names are then dispatch wrappers
            assert isinstance(ours, np.ufunc), name
        else:
            assert ours is theirs, name


def test_student_t_agrees_with_scipy_stats_over_df_and_tails():
    df, p = np.meshgrid(DFS, PROBS)
    q = special.stdtrit(df, p)
    assert relative(q, stats.t.ppf(p, df)) < 1e-12
    assert relative(special.stdtr(df, q), stats.t.cdf(q, df)) < 1e-12
    # …and the quantile inverts the CDF in the lower tail (where p is represented exactly) down
    # to 1e-100: below that scipy's own stdtrit fails at small df (+inf at df = 3, p = 1e-300);
    # intervals ask for quantiles of alpha ≥ 1e-10, and p-values come from stdtr.
    lower = (p <= 0.5) & (p >= 1e-100)
    assert relative(special.stdtr(df[lower], q[lower]), p[lower]) < 1e-9
    x = np.array([-40.0, -8.0, -3.0, -1.0, 0.0, 0.5, 2.0, 6.0, 1e3])
    df, x = np.meshgrid(DFS, x)
    assert relative(special.stdtr(df, x), stats.t.cdf(x, df)) < 1e-12


def test_normal_agrees_with_scipy_stats_into_the_tails():
    z = special.ndtri(PROBS)
    assert relative(z, stats.norm.ppf(PROBS)) < 1e-12
    assert z[0] == pytest.approx(-37.0471, abs=1e-4)  # the 1e-300 quantile
    x = np.array([-37.5, -20.0, -5.0, -1.96, 0.0, 1.0, 8.0])
    assert relative(special.ndtr(x), stats.norm.cdf(x)) < 1e-12
    assert relative(special.ndtr(z[TAILS.size - 1 :][:1]), [0.5]) == 0.0


def test_chi_square_and_beta_agree_with_scipy_stats():
    k, x = np.meshgrid([1.0, 2.0, 5.0, 50.0], [0.01, 1.0, 10.0, 200.0, 2000.0])
    assert relative(special.chdtrc(k, x), stats.chi2.sf(x, k)) < 1e-12
    a, b, x = 2.5, 7.0, np.array([1e-8, 0.01, 0.3, 0.9])
    assert relative(special.betainc(a, b, x), stats.beta.cdf(x, a, b)) < 1e-12
    assert relative(special.betaincinv(a, b, [1e-50, 0.5, 0.99]), stats.beta.ppf([1e-50, 0.5, 0.99], a, b)) < 1e-12  # fmt: skip


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_import_skips_the_public_package_and_leaves_it_importable():
    out = _fresh(
        "import sys\n"
        "from cerebro.stats import special\n"
        "print(special.SOURCE, 'scipy.special' in sys.modules,\n"
        "      'scipy.special._support_alternative_backends' in sys.modules)\n"
        "import scipy.special, scipy.stats\n"
        "print(scipy.special.ndtr is special.ndtr, float(scipy.special.gamma(5.0)),\n"
        "      float(scipy.stats.t.sf(3.0, 5.0)) == float(special.stdtr(5.0, -3.0)))\n"
    )
    first, second = out.splitlines()
    assert first == "scipy.special._ufuncs False False"
    assert second.split()[1:] == ["24.0", "True"]


@pytest.mark.parametrize(
    "before",
    ["import scipy.special", "import threading, time; threading.Thread(target=time.sleep, args=(1,)).start()"],
)  # fmt: skip
def test_falls_back_to_the_public_import(before):
    """With scipy.special already imported, or another thread running (which could import
    the stand-in package), the public module is used."""
    out = _fresh(f"{before}\nfrom cerebro.stats import special\nprint(special.SOURCE)\n")
    assert out.strip() == "scipy.special"


def test_version_guard():
    from cerebro.stats.special import _version_ok

    assert _version_ok("1.11.0") and _version_ok("1.17.1") and _version_ok("1.20.0rc1")
    assert not _version_ok("1.10.1") and not _version_ok("2.0.0") and not _version_ok("dev")
