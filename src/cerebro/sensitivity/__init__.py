"""Sensitivity to unobserved confounding, kind ``sensitivity`` (`cerebro sensitivity`).

`spec.SensitivitySpec` holds the options; `analysis` the runner and result; `data` the arrays;
`refute` the DoWhy-style refutations (re-estimates through the registry); `plots` the figure.
The numerics (omitted-variable bias, robustness values, long-story-short bounds, E-values,
Rosenbaum bounds) live in the shared `cerebro.stats`, which `cerebro causal --sensitivity`
uses too.
"""
