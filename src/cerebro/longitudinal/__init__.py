"""Time-varying treatments, kind ``longitudinal`` (`cerebro longitudinal`).

`spec.LongitudinalSpec` holds the options and parses the strategies (`strategies`); `data`
turns long rows into a balanced panel; `gformula` is the parametric g-formula by Monte Carlo
simulation; `msm` IP weighting for the strategies; `analysis` the runner, bootstrap, result,
plot and registration; `synthetic` data with time-varying confounding affected by past treatment
and known truth.
"""
