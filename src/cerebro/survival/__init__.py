"""Causal survival analysis, kind ``survival`` (`cerebro survival`).

`spec.SurvivalSpec` holds the options; `data` validates units (or person-time rows);
`hazards` fits pooled logistic hazards (IP-weighted or standardised); `kaplan_meier` the
Kaplan–Meier curves and log-rank test; `inference` the bootstrap; `analysis` the runner, result,
plot and registration; `synthetic` data with known counterfactual curves.
"""
