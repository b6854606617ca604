"""The options of the quasi-experimental designs, each defined once: type, default, checks, help.

A design's own spec (`DiDSpec`, `RDDSpec`, `IVSpec`, `SyntheticControlSpec`) and `CausalSpec`,
which takes the same options flat so that ``cerebro causal --method did …`` can pass them on,
both declare a field with one of these types (``unit: Unit``) and nothing else, so a default, a
range check or a help text is written here only. An option that several methods take with
different effects (`bootstrap`, `cluster`, …) says so in its one description.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from cerebro.core.spec import cli, split_list


def _bootstrap(value: int) -> int:
    if value != 0 and value < 50:
        raise ValueError(f"bootstrap needs 0 (analytic) or at least 50 replicates, got {value}")
    return value


Treated = Annotated[
    str | None,
    Field(
        None, description="The treated value of a two-valued treatment column (default: 1/True)."
    ),
]
Control = Annotated[
    str | None,
    Field(
        None,
        description="The control (reference) value of the treatment column; with more than two "
        "arms every other arm is compared with it (default: first in sorted order).",
    ),
]
Bootstrap = Annotated[
    int,
    AfterValidator(_bootstrap),
    Field(
        0,
        description="Bootstrap replicates for SEs and CIs (0: analytic); did: multiplier-bootstrap "
        "replicates of the uniform event-study band (0: 999).",
    ),
]
Seed = Annotated[int, Field(0, description="Seed of the bootstrap.")]
Unit = Annotated[
    str | None,
    Field(None, description="Unit (panel id) column of a did or synthetic_control panel."),
]
Time = Annotated[
    str | None, Field(None, description="Time period column of a did or synthetic_control panel.")
]
TreatStart = Annotated[
    float | str | None,
    Field(
        None,
        description="did/synthetic_control: first treated period (a value of the time column).",
    ),
]
Cluster = Annotated[
    str | None,
    Field(None, description="Cluster column for SEs (did: the unit by default; rdd, iv: none)."),
]
Weights = Annotated[
    str | None,
    Field(
        None,
        description="Observation-weight column (e.g. population): every row counts in proportion "
        "to it – regression: weighted least squares; did: weighted 2×2 OLS or two-way fixed "
        "effects (statsmodels' WLS weights, fixest's weights=). Not the IPW normalisation.",
    ),
]
SmallSample = Annotated[
    Literal["fixest", "statsmodels"],
    Field(
        "fixest",
        description="did (TWFE, event study): K in the clustered SE's factor (N−1)/(N−K) – "
        "fixest counts a fixed effect nested in the clusters as one (fixest, pyfixest, Stata's "
        "xtreg); statsmodels counts every unit and time dummy (OLS on dummies).",
    ),
]
Post = Annotated[
    str | None, Field(None, description="did (2×2): 0/1 column marking post-treatment periods.")
]
DiDModel = Annotated[
    Literal["auto", "twfe", "event_study", "callaway_santanna"],
    Field(
        "auto",
        description="did: auto picks 2×2 (post flag), TWFE (one adoption date) or "
        "Callaway–Sant'Anna (staggered adoption).",
    ),
]
ControlGroup = Annotated[
    Literal["never", "notyet"],
    Field("never", description="did (staggered): never-treated or not-yet-treated comparisons."),
]
Aggregation = Annotated[
    Literal["simple", "dynamic", "group"],
    Field("simple", description="did (staggered): headline aggregation of group-time ATTs."),
]
Leads = Annotated[
    int | None, Field(None, description="did event study: pre-periods shown (default all).")
]
Lags = Annotated[
    int | None, Field(None, description="did event study: post-periods shown (default all).")
]
RunningVariable = Annotated[str | None, Field(None, description="rdd: the running (score) column.")]
Cutoff = Annotated[
    float, Field(0.0, description="rdd: treatment starts at running variable ≥ cutoff.")
]
Kernel = Annotated[
    Literal["triangular", "uniform", "epanechnikov"],
    Field("triangular", description="rdd: kernel weighting observations near the cutoff."),
]
Order = Annotated[int, Field(1, description="rdd: local polynomial order (1 linear, 2 quadratic).")]
Bandwidth = Annotated[
    float | None, Field(None, description="rdd: bandwidth on each side (default MSE-optimal).")
]
Instrument = Annotated[
    list[str],
    BeforeValidator(split_list),
    Field(default_factory=list, description="iv: instrument column(s)."),
]
IVEstimator = Annotated[Literal["2sls", "liml"], Field("2sls", description="iv: 2SLS or LIML.")]
IVCov = Annotated[
    Literal["robust", "unadjusted", "clustered"] | None,
    Field(
        None,
        description="iv: SE type – robust (HC0, default), unadjusted (classical) or clustered "
        "(default with `cluster`).",
    ),
]
Debiased = Annotated[
    bool,
    Field(
        False,
        description="iv: small-sample factor n/(n − q) with t and F reference distributions.",
        json_schema_extra=cli(flag="--debiased"),
    ),
]
TreatedUnit = Annotated[
    list[str],
    BeforeValidator(split_list),
    Field(default_factory=list, description="synthetic_control: the treated unit(s)."),
]
DonorWeights = Annotated[
    str | None,
    Field(
        None,
        description="synthetic_control: fixed donor weights instead of fitted ones – "
        "'unit=weight,…' (e.g. TX=0.6,FL=0.4) or a CSV file of unit,weight rows (the weights "
        "table of a previous run); ≥ 0, summing to 1, donors not named weigh 0.",
    ),
]
SCModel = Annotated[
    Literal["adh", "augmented", "sdid"],
    Field(
        "adh",
        description="synthetic_control: Abadie–Diamond–Hainmueller, ridge-augmented, or "
        "synthetic difference-in-differences.",
    ),
]
