"""Weekly media mix data with known truth: geometric adstock, Hill saturation, trend,
seasonality, controls and noise – the model `cerebro mmm` fits, so recovery can be checked.

`simulate_mmm(weeks, channels, geos, seed)` returns the table and its truth. Each channel's true
ROI is set first and its coefficient chosen to produce it exactly over the simulated weeks
(ROI = Σ_t contribution_t / Σ_t spend_t), so the truth is the estimand of the model, not an
approximation of it. With `geos`, one row per geo and week: a geo's spend is its population
share of the national plan (with noise) and its media response is per capita with the national
adstock and saturation, its coefficient the national one times a log-normal multiplier per geo
and channel (`geo_sd`, the SD of its log: the spread the geo model's pooling estimates); the
truth then gives each geo's ROI and the national ROI over all geos.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cerebro.mmm.transforms import geometric_adstock, hill

# name, mean weekly spend, pattern, true ROI, adstock alpha, Hill slope, kappa (× mean spend)
CHANNELS = (
    ("tv", 20_000.0, "flighted", 1.2, 0.6, 2.0, 1.2),
    ("search", 12_000.0, "seasonal", 2.5, 0.1, 1.2, 0.8),
    ("social", 8_000.0, "steady", 1.6, 0.3, 1.5, 1.0),
    ("display", 6_000.0, "pulsed", 0.8, 0.2, 1.0, 1.0),
    ("video", 10_000.0, "flighted", 1.0, 0.5, 1.8, 1.5),
    ("radio", 4_000.0, "steady", 0.6, 0.4, 1.3, 0.9),
)
# media units (`media_units=True`): name of the unit and its true cost per unit
UNITS = {
    "tv": ("GRP", 450.0),
    "search": ("click", 1.2),
    "social": ("impression", 0.008),
    "display": ("impression", 0.004),
    "video": ("impression", 0.02),
    "radio": ("GRP", 150.0),
}
PRICE_SD = 0.05  # SD of the log of a week's price per unit around the channel's cost
L_MAX = 8
BASE = 200_000.0  # weekly baseline KPI (revenue) before trend and seasonality
NOISE = 0.03  # noise SD as a share of the baseline
PERIOD = 52.0


def _pattern(kind: str, weeks: int, season: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A spend shape with mean about 1: bursts on and off, seasonal, steady or pulsed."""
    if kind == "flighted":  # on for 4–8 weeks, off for 2–6
        on, t, out = True, 0, np.zeros(weeks)
        while t < weeks:
            length = int(rng.integers(4, 9) if on else rng.integers(2, 7))
            out[t : t + length] = rng.uniform(0.8, 1.6) if on else 0.0
            t, on = t + length, not on
        shape = out * rng.lognormal(0, 0.1, weeks)
    elif kind == "seasonal":  # always on, follows demand
        shape = (1 + 0.3 * season) * rng.lognormal(0, 0.35, weeks)
    elif kind == "pulsed":  # a spike every 4 weeks over a low floor
        shape = np.where(np.arange(weeks) % 4 == 0, 2.5, 0.5) * rng.lognormal(0, 0.2, weeks)
    else:
        shape = rng.lognormal(0, 0.3, weeks)
    return shape / shape.mean()


def simulate_mmm(
    weeks: int = 156,
    channels: int = 6,
    geos: int | None = None,
    seed: int = 0,
    geo_sd: float = 0.3,
    media_units: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Weekly data (``week``, ``revenue``, one spend column per channel, ``price``, ``promo``;
    with `geos` also ``geo`` and ``population``) and the truth behind it.

    KPI_t = base · (1 + 0.3 t/T) · (1 + 0.1 sin(2πt/52) + 0.05 cos(4πt/52)) − 40000 · (price_t − 1)
            + 15000 · promo_t + Σ_c beta_c · hill(adstock(spend_c / mean_c)) + noise,

    with geometric adstock (normalised weights, l_max 8), Hill saturation (slope, kappa in units
    of the channel's mean spend) and Normal noise of SD 3% of the base. Truth: per channel the
    ROI, contribution, alpha, slope, kappa (× mean spend and in spend units) and beta, and the
    weekly contributions (`truth["contributions"][channel]`).

    `media_units` (national only): each channel's column holds media units instead (`UNITS`:
    GRPs, clicks, impressions – what the response is a function of) and ``<channel>_spend``
    the money, units × the channel's cost per unit × a weekly price factor (log-normal, SD of
    its log `PRICE_SD`, drawn from a second generator so that the units and KPI equal the
    spend-only data's); the truth's ROI is contribution ÷ money, and it states the true cost
    per unit and the spend columns.
    """
    if not 1 <= channels <= len(CHANNELS):
        raise ValueError(f"channels must be between 1 and {len(CHANNELS)}")
    if weeks < 2 * L_MAX:
        raise ValueError(f"weeks must be at least {2 * L_MAX}")
    rng = np.random.default_rng(seed)
    t = np.arange(weeks, dtype=float)
    season = np.sin(2 * np.pi * t / PERIOD)
    baseline = (
        BASE * (1 + 0.3 * t / weeks) * (1 + 0.1 * season + 0.05 * np.cos(4 * np.pi * t / PERIOD))
    )
    price = 1 + 0.05 * rng.standard_normal(weeks)
    promo = (rng.random(weeks) < 0.15).astype(float)
    baseline = baseline - 40_000 * (price - 1) + 15_000 * promo
    chosen = CHANNELS[:channels]
    spend, contributions, truth_channels = {}, {}, {}
    for name, mean, kind, roi, alpha, slope, kappa in chosen:
        x = mean * _pattern(kind, weeks, season, rng)
        shape = hill(geometric_adstock(x / x.mean(), alpha, L_MAX, normalize=True), slope, kappa)
        beta = roi * x.sum() / shape.sum()
        spend[name], contributions[name] = x.round(2), beta * shape
        truth_channels[name] = {
            "roi": roi,
            "alpha": alpha,
            "slope": slope,
            "kappa": kappa,
            "kappa_spend": kappa * float(x.mean()),
            "beta": float(beta),
            "mean_spend": float(x.mean()),
            "contribution": float(contributions[name].sum()),
        }
    # ROI is defined on the rounded spend the file holds
    for name in spend:
        truth_channels[name]["roi"] = float(contributions[name].sum() / spend[name].sum())
    media = sum(contributions.values())
    revenue = baseline + media + NOISE * BASE * rng.standard_normal(weeks)
    dates = pd.date_range("2022-01-03", periods=weeks, freq="7D").strftime("%Y-%m-%d")
    frame = pd.DataFrame(
        {
            "week": dates,
            "revenue": revenue.round(2),
            **spend,
            "price": price.round(4),
            "promo": promo,
        }
    )
    truth: dict[str, Any] = {
        "model": "geometric adstock (normalised, l_max 8) + Hill saturation, additive",
        "channels": truth_channels,
        "contributions": {k: v.tolist() for k, v in contributions.items()},
        "baseline": baseline.tolist(),
        "noise_sd": NOISE * BASE,
        "weeks": weeks,
        "seed": seed,
    }
    if geos and media_units:
        raise ValueError("media_units is for national data; leave out geos")
    if geos:
        frame, truth = _split_geos(frame, truth, geos, rng, geo_sd)
    if media_units:
        frame, truth = _media_units(frame, truth, seed)
    return frame, truth


def _media_units(
    frame: pd.DataFrame, truth: dict[str, Any], seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The channels' spend as media units (to 0.1 unit) plus a ``<channel>_spend`` column of
    money; the response depends on the units only (scaled by their mean, as before)."""
    rng = np.random.default_rng([seed, 1])
    out = frame.copy()
    channels = dict(truth["channels"])
    position = out.columns.get_loc("price")
    for name in channels:
        unit, cost = UNITS[name]
        contribution = channels[name]["contribution"]
        units = (frame[name].to_numpy() / cost).round(1)  # GRPs are fractional
        money = (units * cost * rng.lognormal(0.0, PRICE_SD, len(frame))).round(2)
        out[name] = units
        out.insert(position, f"{name}_spend", money)
        position += 1
        channels[name] = {
            **channels[name],
            "roi": float(contribution / money.sum()),
            "unit": unit,
            "cost_per_unit": cost,
            "spend_column": f"{name}_spend",
            "mean_units": float(units.mean()),
        }
    return out, {
        **truth,
        "channels": channels,
        "spend_columns": {c: f"{c}_spend" for c in channels},
        "media_units": "channel columns are media units; <channel>_spend is money",
    }


def _split_geos(
    frame: pd.DataFrame,
    truth: dict[str, Any],
    geos: int,
    rng: np.random.Generator,
    geo_sd: float,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Geo rows: population shares, spend and baseline by share (with noise), per-capita
    response with the national adstock and saturation and the national coefficient times
    exp(geo_sd · z_{g,c}), z standard normal; truth: each geo's ROI, the multipliers, and the
    national ROI and contribution summed over geos (replacing the national table's)."""
    if geos < 2:
        raise ValueError("geos must be at least 2")
    population = np.round(rng.lognormal(13, 0.8, geos))
    share = population / population.sum()
    names = [f"geo_{i + 1:02d}" for i in range(geos)]
    rows, geo_roi, multipliers = [], {}, {}
    channels = list(truth["channels"])
    totals = {c: [0.0, 0.0] for c in channels}  # contribution, spend over geos
    lift = np.exp(geo_sd * rng.standard_normal((geos, len(channels))))
    for g in range(geos):
        part = frame.copy()
        contribution = 0.0
        rois = {}
        for j, c in enumerate(channels):
            info = truth["channels"][c]
            x = frame[c].to_numpy() * share[g] * rng.lognormal(0, 0.1, len(frame))
            per_capita = x / share[g] / info["mean_spend"]
            shape = hill(
                geometric_adstock(per_capita, info["alpha"], L_MAX, True),
                info["slope"],
                info["kappa"],
            )
            effect = share[g] * info["beta"] * lift[g, j] * shape
            part[c] = x.round(2)
            rois[c] = float(effect.sum() / part[c].sum())
            totals[c][0] += float(effect.sum())
            totals[c][1] += float(part[c].sum())
            contribution = contribution + effect
        base = np.asarray(truth["baseline"]) * share[g]
        noise = NOISE * 200_000.0 * np.sqrt(share[g]) * rng.standard_normal(len(frame))
        part["revenue"] = (base + contribution + noise).round(2)
        part.insert(1, "geo", names[g])
        part.insert(2, "population", population[g])
        rows.append(part)
        geo_roi[names[g]] = rois
        multipliers[names[g]] = dict(zip(channels, lift[g].tolist(), strict=True))
    national = {
        c: {
            **truth["channels"][c],
            "roi": totals[c][0] / totals[c][1],
            "contribution": totals[c][0],
        }
        for c in channels
    }
    truth = {
        **truth,
        "channels": national,
        "geos": {
            "population": dict(zip(names, population.tolist(), strict=True)),
            "roi": geo_roi,
            "multiplier": multipliers,
            "geo_sd": geo_sd,
        },
    }
    return pd.concat(rows, ignore_index=True), truth
