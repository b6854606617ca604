"""The literature behind each kind and method, cited in a report's method section.

Keys are a kind, or ``kind:method`` where a method has its own source; a report cites both.
"""

from __future__ import annotations

from cerebro.core.results import Result

REFERENCES: dict[str, tuple[str, ...]] = {
    "abtest": (
        "Kohavi, Tang & Xu (2020). Trustworthy Online Controlled Experiments. Cambridge UP.",
        "Deng, Xu, Kohavi & Walker (2013). Improving the sensitivity of online controlled "
        "experiments by utilizing pre-experiment data (CUPED). WSDM.",
        "Holm (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat.",
    ),
    "abtest:bayesian": ("Gelman et al. (2013). Bayesian Data Analysis, 3rd ed. CRC Press.",),
    "abtest:sequential": (
        "Johari, Pekelis & Walsh (2017). Always valid inference: continuous monitoring of "
        "A/B tests (mSPRT). KDD.",
    ),
    "bandit": (
        "Russo, Van Roy et al. (2018). A Tutorial on Thompson Sampling. Found. Trends ML.",
        "Auer, Cesa-Bianchi & Fischer (2002). Finite-time analysis of the multiarmed bandit "
        "problem (UCB1). Machine Learning.",
    ),
    "design": ("Morgan & Rubin (2012). Rerandomization to improve covariate balance. Ann. Stat.",),
    "power": ("Chow, Shao & Wang (2008). Sample Size Calculations in Clinical Research.",),
    "sequential_design": (
        "Jennison & Turnbull (2000). Group Sequential Methods with Applications to Clinical "
        "Trials. Chapman & Hall.",
        "Lan & DeMets (1983). Discrete sequential boundaries for clinical trials. Biometrika.",
    ),
    "causal": (
        "Hernán & Robins (2020). Causal Inference: What If. Chapman & Hall.",
        "Imbens & Rubin (2015). Causal Inference for Statistics, Social, and Biomedical "
        "Sciences. Cambridge UP.",
    ),
    "causal:dml": (
        "Chernozhukov et al. (2018). Double/debiased machine learning for treatment and "
        "structural parameters. Econometrics Journal.",
    ),
    "causal:aipw": (
        "Robins, Rotnitzky & Zhao (1994). Estimation of regression coefficients when some "
        "regressors are not always observed. JASA.",
    ),
    "causal:did": (
        "Callaway & Sant'Anna (2021). Difference-in-differences with multiple time periods. "
        "J. Econometrics.",
    ),
    "causal:rdd": (
        "Calonico, Cattaneo & Titiunik (2014). Robust nonparametric confidence intervals for "
        "regression-discontinuity designs. Econometrica.",
    ),
    "causal:iv": (
        "Angrist & Pischke (2009). Mostly Harmless Econometrics, ch. 4. Princeton UP.",
        "Montiel Olea & Pflueger (2013). A robust test for weak instruments. JBES.",
    ),
    "causal:synthetic_control": (
        "Abadie, Diamond & Hainmueller (2010). Synthetic control methods for comparative case "
        "studies. JASA.",
    ),
    "geotest": (
        "Ben-Michael, Feller & Rothstein (2021). The augmented synthetic control method. JASA.",
        "Chernozhukov, Wüthrich & Zhu (2021). An exact and robust conformal inference method "
        "for counterfactual and synthetic controls. JASA.",
    ),
    "geo_design": (
        "Abadie & Zhao (2021). Synthetic controls for experimental design. arXiv:2108.02196.",
    ),
    "uplift": (
        "Künzel, Sekhon, Bickel & Yu (2019). Metalearners for estimating heterogeneous "
        "treatment effects using machine learning. PNAS.",
        "Athey, Tibshirani & Wager (2019). Generalized random forests. Ann. Stat.",
        "Chernozhukov, Demirer, Duflo & Fernández-Val (2018). Generic machine learning "
        "inference on heterogeneous treatment effects. NBER w24678.",
        "Radcliffe (2007). Using control groups to target on predicted lift (Qini). DMA.",
    ),
    "mmm": (
        "Jin, Wang, Sun, Chan & Koehler (2017). Bayesian methods for media mix modeling with "
        "carryover and shape effects. Google.",
        "Hoffman & Gelman (2014). The No-U-Turn Sampler. JMLR.",
    ),
    "mmm_predict": ("Jin et al. (2017), as for the fitted media mix model.",),
    "mmm_optimize": ("Jin et al. (2017), as for the fitted media mix model.",),
}


def references_of(result: Result) -> list[str]:
    """The kind's references, then its method's, without repeats."""
    keys = (result.kind, f"{result.kind}:{result.method}")
    return list(dict.fromkeys(ref for key in keys for ref in REFERENCES.get(key, ())))
