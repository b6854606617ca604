"""Designs for data over time: difference-in-differences, synthetic control and geo lift for
a panel of units (or geos) × dates with an intervention, and a media mix model for one row per
week with channel spend and a KPI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cerebro.advisor import checks
from cerebro.advisor import vocabulary as v
from cerebro.advisor.advice import Advice, Roles, Trap, choose_outcomes, names
from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.advisor.profile import Profile


@dataclass(frozen=True)
class Intervention:
    """Who was treated and from when, read from the treatment column."""

    treated: list[Any]
    start: Any
    starts: int  # distinct adoption dates (> 1: staggered)
    per_period: bool  # the column is 0/1 treated-this-period (else: a treated-group flag)
    post: str | None = None


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value a spec holds."""
    return value.item() if hasattr(value, "item") else value


def intervention(
    frame: pd.DataFrame, profile: Profile, roles: Roles, unit: str, time: str, treatment: str
) -> Intervention:
    d = frame[treatment]
    if set(d.dropna().unique()) - {0, 1}:
        raise UserInputError(
            f"in a panel the treatment column {treatment!r} must be 0/1 (treated in this "
            "period, or a treated-unit flag); recode it."
        )
    on = frame[d == 1]
    treated = sorted(on[unit].unique().tolist())
    if not treated:
        raise UserInputError(f"no unit is ever treated in {treatment!r}; nothing to compare.")
    per_period = bool(frame.groupby(unit)[treatment].nunique().max() > 1)
    if per_period:
        starts = on.groupby(unit)[time].min()
        return Intervention(treated, plain(starts.min()), starts.nunique(), True)
    posts = profile.with_role("post flag")
    if roles.treatment_start is not None:
        start = type(plain(frame[time].iloc[0]))(roles.treatment_start)
        return Intervention(treated, start, 1, False)
    if posts:
        start = plain(frame.loc[frame[posts[0]] == 1, time].min())
        return Intervention(treated, start, 1, False, posts[0])
    raise UserInputError(
        f"{treatment!r} marks the treated units but nothing says when treatment began; give "
        "--treatment-start (a value of the date column) or a 0/1 'post' column."
    )


def panel_advice(
    frame: pd.DataFrame, profile: Profile, roles: Roles, treatment: str, data: str
) -> Advice:
    unit, time = profile.panel, profile.date
    assert unit and time
    event = intervention(frame, profile, roles, unit, time, treatment)
    outcome = choose_outcomes(profile, roles, {unit, time, treatment})[0]
    controls = frame[unit].nunique() - len(event.treated)
    if controls < 1:
        raise UserInputError(
            f"every unit of {unit!r} is treated; a panel design needs untreated units."
        )
    is_geo = unit == profile.geo or v.named(v.GEO, unit)
    trend = checks.pre_trend(frame, unit, time, outcome, event.treated, event.start)
    traps = []
    if len(event.treated) == 1:
        traps.append(
            Trap(
                "single_treated_unit",
                f"only one unit ({event.treated[0]!r}) is treated: a difference-in-differences "
                "standard error from one treated unit is unreliable; a synthetic control "
                "builds its counterfactual from a weighted mix of the others, with placebo "
                "inference.",
            )
        )
    if trend is not None and trend.p < checks.PRE_TREND_P:
        traps.append(
            Trap(
                "pre_trend",
                f"before the intervention the gap between treated and control units already "
                f"moves by {trend.slope:+.3g} per period (p = {trend.p:.2g} over {trend.periods} "
                "periods): parallel trends fail, so a plain difference-in-differences is biased.",
            )
        )
    choice = roles.design or ("geotest" if is_geo else "synthetic_control" if traps else "did")
    if choice == "geotest":
        return geo_advice(frame, profile, outcome, event, data, traps)
    if choice == "synthetic_control":
        return synth_advice(profile, outcome, event, data, traps)
    return did_advice(profile, treatment, outcome, event, data, traps)


def did_advice(
    profile: Profile,
    treatment: str,
    outcome: str,
    event: Intervention,
    data: str,
    traps: list[Trap],
) -> Advice:
    unit, time = profile.panel, profile.date
    spec = {"kind": "did", "data": data, "treatment": treatment, "outcome": outcome}
    spec.update(unit=unit, time=time)
    reasons = {
        "treatment": f"0/1 {'treated in this period' if event.per_period else 'treated unit'}; "
        f"{len(event.treated)} treated units.",
        "unit": f"the panel's unit: one row per '{unit}' and '{time}'.",
        "time": f"the period ({profile.frequency}).",
    }
    if event.post:
        spec["post"] = event.post
        reasons["post"] = f"'{event.post}' marks the periods after the intervention."
    elif not event.per_period:
        spec["treat_start"] = event.start
        reasons["treat_start"] = "the first treated period (--treatment-start)."
    staggered = event.starts > 1
    return Advice(
        design="difference-in-differences"
        + (" (staggered adoption)" if staggered else " / event study"),
        kind="did",
        spec=spec,
        reasons=reasons,
        why=(
            f"A panel of {unit} × {time} in which {len(event.treated)} units start treatment "
            + (f"at {event.starts} different dates" if staggered else f"at {event.start}")
            + ": compare their change with the untreated units' change; before the "
            "intervention the gap was flat (no pre-trend), and the event study shows it "
            "period by period."
        ),
        assumptions=[
            "parallel trends: without treatment, treated and control units would have moved "
            "alike (the pre-period gap was flat).",
            "no anticipation: outcomes did not react before the start.",
        ],
        rejected=[
            (
                "synthetic control",
                "suited to one or few treated units; here there are several, and the pre-trends are parallel.",
            ),
            (
                "A/B test on the rows",
                "rows of one unit over time are not independent draws, and units were not randomised per row.",
            ),
        ],
        traps=traps,
    )


def synth_advice(
    profile: Profile, outcome: str, event: Intervention, data: str, traps: list[Trap]
) -> Advice:
    unit, time = profile.panel, profile.date
    spec = {"kind": "synthetic_control", "data": data, "outcome": outcome, "unit": unit}
    spec.update(time=time, treated_unit=[str(u) for u in event.treated], treat_start=event.start)
    spec["sc_model"] = "sdid"
    reasons = {
        "sc_model": "synthetic difference-in-differences: unit and time weights, and a "
        "constant level gap allowed, which a treated unit outside the controls' range needs.",
        "treated_unit": f"the unit(s) the treatment column marks: {', '.join(map(str, event.treated))}.",
        "treat_start": "the first period the treatment column is 1.",
    }
    return Advice(
        design="synthetic control",
        kind="synthetic_control",
        spec=spec,
        reasons=reasons,
        why=(
            f"The treated unit{'s' if len(event.treated) > 1 else ''} "
            f"({', '.join(map(str, event.treated))}) from {event.start} "
            f"{'are' if len(event.treated) > 1 else 'is'} compared with a "
            "weighted mix of untreated units chosen to track the pre-period path, which does not "
            "need parallel trends; inference by placebo runs on each control unit."
        ),
        assumptions=[
            "the weighted mix of control units that tracked the treated unit before the "
            "intervention would have kept tracking it without treatment.",
            "no control unit was affected by the treatment (no spill-over).",
        ],
        rejected=[
            (
                "difference-in-differences",
                "its parallel-trends assumption fails or its inference is unreliable here: "
                + "; ".join(t.code.replace("_", " ") for t in traps)
                + ".",
            )
        ],
        traps=traps,
    )


def geo_advice(
    frame: pd.DataFrame,
    profile: Profile,
    outcome: str,
    event: Intervention,
    data: str,
    traps: list[Trap],
) -> Advice:
    geo, date = profile.panel, profile.date
    spec = {"kind": "geotest", "data": data, "geo_column": geo, "date_column": date}
    spec.update(outcome=outcome, treatment_geos=[[str(g) for g in event.treated]])
    spec["treatment_start"] = str(event.start)
    reasons = {
        "treatment_geos": f"the geos the treatment column marks ({len(event.treated)}).",
        "treatment_start": "the first date the treatment column is 1.",
    }
    spend = [s for s in profile.with_role("spend") if s != outcome]
    if spend:
        spec["spend"] = spend[0]
        reasons["spend"] = f"'{spend[0]}' gives the cost per incremental unit (iROAS)."
    return Advice(
        design="geo lift test (augmented synthetic control)",
        kind="geotest",
        spec=spec,
        reasons=reasons,
        why=(
            f"A {profile.frequency} panel of {frame[geo].nunique()} geos ('{geo}') × dates "
            f"('{date}') in which {len(event.treated)} geo(s) are treated from {event.start}: "
            "the treated geos are compared with a synthetic control built from the others, "
            "with conformal inference (GeoLift's method)."
        ),
        assumptions=[
            "the control geos were not affected by the campaign (no spill-over across borders).",
            "a weighted mix of control geos that tracked the treated geos before the test "
            "would have kept tracking them.",
        ],
        rejected=[
            (
                "difference-in-differences",
                "geo tests have few treated geos; the synthetic control's conformal inference holds with one or a few.",
            ),
            (
                "media mix model",
                "the question is one test's lift, which the geo panel measures directly.",
            ),
        ],
        traps=[t for t in traps if t.code != "single_treated_unit"],
    )


def mmm_shaped(profile: Profile, roles: Roles) -> bool:
    """One row per date, spend columns and a KPI: a media mix model's table."""
    spend = roles.channels or profile.with_role("spend")
    return bool(profile.date and profile.rows_per_date == 1 and spend and profile.rows >= 20)


def mmm_advice(frame: pd.DataFrame, profile: Profile, roles: Roles, data: str) -> Advice:
    date = profile.date
    if not date:
        raise UserInputError(
            "a media mix model needs a date (week) column; name it with --date-column."
        )
    channels = roles.channels or profile.with_role("spend")
    if not channels:
        raise UserInputError(
            "a media mix model needs channel spend columns; name them with --channels."
        )
    kpi = choose_outcomes(profile, roles, {date, *channels})[0]
    skip = {date, kpi, *channels, *profile.with_role("impressions")}
    controls = roles.covariates
    if controls is None:
        controls = [
            n
            for n, c in profile.columns.items()
            if n not in skip and c.numeric and not (set(c.roles) - {"pre-period"})
        ]
    spec = {"kind": "mmm", "data": data, "date_column": date, "kpi": kpi, "channels": channels}
    spec["controls"] = controls
    reasons = {
        "date_column": f"one row per {profile.frequency} date: the model's time axis.",
        "kpi": f"the KPI the media drive ('{kpi}').",
        "channels": f"the spend columns ({', '.join(channels)}): ROI = contribution / spend.",
        "controls": "the other numeric columns (price, promotions …): they move the KPI too."
        if controls
        else "no other numeric column to control for.",
    }
    impressions = profile.with_role("impressions")
    traps = []
    if profile.frequency not in ("weekly", "period numbers"):
        traps.append(
            Trap(
                "not_weekly",
                f"the data are {profile.frequency}; the model's carryover and seasonality are set "
                "for weeks (aggregate to weeks, or set l_max and seasonality for this frequency).",
            )
        )
    if impressions:
        traps.append(
            Trap(
                "impressions",
                f"{names(impressions)} count exposure, not money: left out of the channels "
                "(ROI needs spend).",
            )
        )
    return Advice(
        design="media mix model",
        kind="mmm",
        spec=spec,
        reasons=reasons,
        why=(
            f"{profile.rows} {profile.frequency} rows with spend on {names(channels)} and the KPI "
            f"'{kpi}' and no randomised arm: a Bayesian media mix model (adstock carryover, "
            "saturating returns, trend and seasonality) splits the KPI into a baseline and each "
            "channel's contribution."
        ),
        assumptions=[
            "spend was not set in response to the KPI's own shocks beyond what the controls, "
            "trend and seasonality capture (no unmodelled confounding).",
            "the adstock and saturation curves describe each channel's effect; calibrate with a "
            "lift test where you have one (`calibration`).",
        ],
        rejected=[
            (
                "geo lift test",
                "no geo × date panel with treated geos; a geo test is the way to calibrate this model.",
            ),
            ("A/B test", "there is no randomised arm column."),
        ],
        traps=traps,
    )
