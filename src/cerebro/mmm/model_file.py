"""Fitted media mix models on disk: a zip of JSON and numpy arrays, never a pickle.

A ``.cerebro`` MMM file is a zip archive holding

- ``manifest.json`` – ``format`` ("cerebro-mmm"), ``format_version`` (1), the Cerebro version
  that wrote it, the spec of the fit, the model form (adstock, saturation, l_max, normalize,
  likelihood), the channels, controls and dates, the data scaling (KPI scale, each channel's
  spend scale, each control's mean and SD), the fitted weeks, seasonality, trend, log KPI,
  the number of chains, and the names of the arrays; optional (older files lack them and load
  as before): ``unit_cost`` (each channel's cost per media unit, with ``data/money``, the weekly
  spend in money, when channels were given in media units) and ``changepoints`` (the piecewise
  trend's, as fractions of the fitted weeks);
- ``arrays.npz`` – the posterior draws of every parameter (``draws/<name>``, draws on axis 0)
  and the data the model was fitted on (``data/kpi``, ``data/spend``, ``data/controls``), read
  with ``allow_pickle=False`` so that no code can run on load.

`load_mmm(path)` returns the same `MMMPosterior` a fit puts in ``result.data``: predictions,
contributions, ROI, marginal ROI and response curves for any spend plan come from it.

A geo model (``cerebro mmm --geo-column``) adds ``geo`` to the manifest (geo names, sizes,
whether they are populations, and per geo the KPI and spend scales) and stores the per-geo data
(``data/kpi`` (T, G), ``data/spend`` (T, G, C), ``data/controls`` (T, G, K)); draws of per-geo
parameters have the geo on axis 1. `load_mmm` then returns a `GeoPosterior`.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.output import atomic_path, write_bytes
from cerebro.mmm.data import MMMData
from cerebro.mmm.geo import GeoData, GeoPosterior
from cerebro.mmm.posterior import MMMPosterior, ModelForm

FORMAT = "cerebro-mmm"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
_REQUIRED = (
    "format",
    "format_version",
    "spec",
    "form",
    "channels",
    "controls",
    "dates",
    "scaling",
    "n_fit",
    "seasonality",
    "trend",
    "log_kpi",
    "chains",
    "draws",
)


def mmm_bytes(posterior: MMMPosterior | GeoPosterior) -> bytes:
    """The model file's bytes (the face writes them where the user asked)."""
    from cerebro.core.version import __version__

    data = posterior.geo_data.first if isinstance(posterior, GeoPosterior) else posterior.data
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "cerebro_version": __version__,
        "spec": posterior.spec,
        "form": {
            "adstock": posterior.form.adstock,
            "saturation": posterior.form.saturation,
            "l_max": posterior.form.l_max,
            "normalize": posterior.form.normalize,
            "likelihood": posterior.form.likelihood,
        },
        "channels": data.channels,
        "controls": data.control_names,
        "dates": data.dates,
        "scaling": data.scaling(),
        "n_fit": data.n_fit,
        "seasonality": None if data.seasonality is None else list(data.seasonality),
        "trend": data.trend,
        "calendar": data.calendar,
        "log_kpi": data.log_kpi,
        "chains": posterior.chains,
        "draws": sorted(posterior.draws),
    }
    if data.changepoints:
        manifest["changepoints"] = list(data.changepoints)
    if data.unit_cost is not None:
        manifest["unit_cost"] = data.unit_cost.tolist()
    arrays = {f"draws/{k}": np.asarray(v, float) for k, v in posterior.draws.items()}
    if isinstance(posterior, GeoPosterior):
        manifest["geo"] = _geo_manifest(posterior.geo_data)
        for name in ("kpi", "spend", "controls"):
            arrays[f"data/{name}"] = posterior.geo_data.stacked(name)
    else:
        arrays.update(
            {"data/kpi": data.kpi, "data/spend": data.spend, "data/controls": data.controls}
        )
        if data.money is not None:
            arrays["data/money"] = data.money
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        archive.writestr(ARRAYS, buffer.getvalue())
    return out.getvalue()


def save_mmm(posterior: MMMPosterior, path: str | Path) -> None:
    """Write the model file atomically (no reader sees half a file)."""
    with atomic_path(path) as tmp:
        write_bytes(mmm_bytes(posterior), tmp)


def load_mmm(path: str | Path) -> MMMPosterior | GeoPosterior:
    """Read a model file written by `save_mmm` (``cerebro mmm --save``); one sentence if it is
    not one."""
    name = Path(path).name
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            arrays = np.load(io.BytesIO(archive.read(ARRAYS)), allow_pickle=False)
            stored = {k: arrays[k] for k in arrays.files}
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, ValueError) as err:
        raise UserInputError(
            f"{name!r} is not a Cerebro MMM file ({err}); save one with cerebro mmm --save."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserInputError(
            f"{name!r} is not a Cerebro MMM file (format {manifest.get('format')!r}); save one "
            "with cerebro mmm --save."
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise UserInputError(
            f"{name!r} has MMM file format version {manifest.get('format_version')!r}; this "
            f"Cerebro reads version {FORMAT_VERSION} – re-save the model with it."
        )
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise UserInputError(f"{name!r} lacks {', '.join(missing)} in its manifest; re-save it.")
    if "geo" in manifest:
        return _geo_posterior(manifest, stored)
    return _posterior(manifest, stored)


def _geo_manifest(data: GeoData) -> dict[str, Any]:
    return {
        "geos": data.geos,
        "size": data.size.tolist(),
        "population": data.population,
        "kpi_scale": [p.kpi_scale for p in data.parts],
        "spend_scale": [p.spend_scale.tolist() for p in data.parts],
    }


def _geo_posterior(manifest: dict[str, Any], stored: dict[str, np.ndarray]) -> GeoPosterior:
    info = manifest["geo"]
    parts = []
    for g in range(len(info["geos"])):
        one = {k: (v[:, g] if k.startswith("data/") else v) for k, v in stored.items()}
        part = _posterior(manifest, one).data
        parts.append(
            replace(
                part,
                kpi_scale=float(info["kpi_scale"][g]),
                spend_scale=np.asarray(info["spend_scale"][g], float),
            )
        )
    data = GeoData(
        list(info["geos"]), parts, np.asarray(info["size"], float), bool(info["population"])
    )
    draws = {k: stored[f"draws/{k}"] for k in manifest["draws"]}
    return GeoPosterior(
        ModelForm(**manifest["form"]), data, draws, int(manifest["chains"]), dict(manifest["spec"])
    )


def _posterior(manifest: dict[str, Any], stored: dict[str, np.ndarray]) -> MMMPosterior:
    scaling = manifest["scaling"]
    season = manifest["seasonality"]
    data = MMMData(
        dates=list(manifest["dates"]),
        kpi=stored["data/kpi"],
        spend=stored["data/spend"],
        controls=stored["data/controls"],
        channels=list(manifest["channels"]),
        control_names=list(manifest["controls"]),
        n_fit=int(manifest["n_fit"]),
        kpi_scale=float(scaling["kpi_scale"]),
        spend_scale=np.asarray(scaling["spend_scale"], float),
        control_mean=np.asarray(scaling["control_mean"], float),
        control_sd=np.asarray(scaling["control_sd"], float),
        log_kpi=bool(manifest["log_kpi"]),
        seasonality=None if season is None else (float(season[0]), int(season[1])),
        trend=bool(manifest["trend"]),
        unit_cost=None if "unit_cost" not in manifest else np.asarray(manifest["unit_cost"], float),
        money=stored.get("data/money"),
        changepoints=tuple(float(s) for s in manifest.get("changepoints", ())),
        calendar=bool(manifest.get("calendar", False)),  # absent in files before it existed
    )
    draws = {k: stored[f"draws/{k}"] for k in manifest["draws"]}
    return MMMPosterior(
        ModelForm(**manifest["form"]), data, draws, int(manifest["chains"]), dict(manifest["spec"])
    )
