"""Fitted uplift models on disk: a documented, safe format, and the feature encoding they need.

A ``.cerebro`` model file is a zip archive holding

- ``manifest.json`` – ``format`` ("cerebro-uplift-model"), ``format_version`` (1), the Cerebro
  version that wrote it, the spec of the analysis, the feature encoding (each feature's name and
  type; for text features the levels in order, the first being the reference level that gets no
  column), the design-matrix column names, the control arm and the treated arms, the model kind,
  whether the outcome was binary, and for each treated arm the model's state: a JSON tree in
  which every numpy array is replaced by ``{"__array__": "arrays/<i>.npy"}`` and every long text
  (a LightGBM model dump, ``booster.model_to_string()``) by ``{"__text__": "text/<i>.txt"}``;
- ``arrays/<i>.npy`` – numpy arrays in the ``.npy`` format, read with ``allow_pickle=False``
  (object arrays are refused, so no code can run on load);
- ``text/<i>.txt`` – UTF-8 text (LightGBM's model text format).

Nothing is ever pickled: loading reads JSON, plain numeric arrays and LightGBM text, so a file
from an untrusted source cannot execute code. Loading checks the manifest (format name,
supported version, every required key) and refuses anything else with one sentence; scoring
refuses new data that lacks a feature column.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.output import atomic_path, write_bytes
from cerebro.data.validate import require_finite

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "cerebro-uplift-model"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
MANIFEST = "manifest.json"
_LONG_TEXT = 512  # strings longer than this go to their own text member, not the manifest
_REQUIRED = (
    "format",
    "format_version",
    "spec",
    "features",
    "columns",
    "control",
    "arms",
    "model",
    "binary_outcome",
    "models",
)


# --------------------------------------------------------------------------------------------
# Feature encoding
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Feature:
    """One input column: numeric (used as is) or categorical (one-hot against `levels[0]`)."""

    name: str
    kind: str  # "numeric" or "categorical"
    levels: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}[{level}]" for level in self.levels[1:]]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.kind == "categorical":
            out["levels"] = list(self.levels)
        return out


def level_text(value: object) -> str:
    """Category labels as text, so that 1, 1.0 and '1' are one level."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class FeatureEncoding:
    """How a table's feature columns become the float design matrix X of the models."""

    features: tuple[Feature, ...]

    @property
    def columns(self) -> list[str]:
        return [c for f in self.features for c in f.columns]

    @property
    def groups(self) -> dict[str, list[int]]:
        """Design-matrix column indices of each feature (a one-hot block counts as one)."""
        out, start = {}, 0
        for f in self.features:
            width = len(f.columns)
            out[f.name] = list(range(start, start + width))
            start += width
        return out

    @classmethod
    def learn(cls, frame: pd.DataFrame, names: list[str]) -> FeatureEncoding:
        """Numeric and boolean columns stay numeric; any other column is categorical with its
        observed levels in sorted order (the first is the reference)."""
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        features = []
        for name in names:
            values = frame[name]
            if is_numeric_dtype(values) or is_bool_dtype(values):
                features.append(Feature(name, "numeric"))
            else:
                levels = sorted({level_text(v) for v in values.dropna().unique()})
                if len(levels) < 2:
                    raise UserInputError(
                        f"feature {name!r} has {len(levels)} distinct value(s); drop it from "
                        "--features."
                    )
                features.append(Feature(name, "categorical", tuple(levels)))
        return cls(tuple(features))

    def transform(self, frame: pd.DataFrame, source: str = "the data") -> tuple[np.ndarray, int]:
        """X (rows with a missing or unseen value are all-NaN) and the count of unseen-level rows."""
        from cerebro.data.load import require_columns

        require_columns([str(c) for c in frame.columns], [f.name for f in self.features], source)
        n = len(frame)
        blocks, unseen = [], np.zeros(n, bool)
        for f in self.features:
            values = frame[f.name]
            if f.kind == "numeric":
                blocks.append(_numeric(values, f.name)[:, None])
                continue
            text = np.array([None if _missing(v) else level_text(v) for v in values], object)
            present = np.array([v is not None for v in text])
            known = np.isin(text, np.array(f.levels, object))
            unseen |= present & ~known
            block = np.column_stack([text == level for level in f.levels[1:]]).astype(float)
            block[~(present & known)] = np.nan
            blocks.append(block)
        X = np.hstack(blocks) if blocks else np.empty((n, 0))
        X[np.isnan(X).any(axis=1)] = np.nan
        return X, int(unseen.sum())

    def to_list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.features]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]]) -> FeatureEncoding:
        features = []
        for item in items:
            kind = item.get("type")
            if kind not in ("numeric", "categorical") or not isinstance(item.get("name"), str):
                raise UserInputError(
                    f"the model file's feature entry {item!r} is not valid; re-save the model."
                )
            features.append(Feature(item["name"], kind, tuple(item.get("levels", ()))))
        return cls(tuple(features))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _numeric(values: Any, column: str) -> np.ndarray:
    import pandas as pd

    if values.dtype == bool:
        return values.to_numpy(float)
    out = pd.to_numeric(values, errors="coerce").to_numpy(float)
    bad = values.notna().to_numpy() & np.isnan(out)
    if bad.any():
        raise UserInputError(
            f"feature column {column!r} has non-numeric values (e.g. {values[bad].iloc[0]!r}) "
            "but the model was fitted on numbers; fix the column."
        )
    require_finite(out, column, "feature")  # ±inf and magnitudes no learner can fit
    return out


# --------------------------------------------------------------------------------------------
# The fitted model: predictions for new rows
# --------------------------------------------------------------------------------------------
@dataclass
class UpliftModel:
    """Everything needed to score new rows: encoding, arms and one fitted model per treated arm.

    `fitted[arm]` has ``predict(X) -> (n,)`` (a `FittedUplift` or a `CausalForest`).
    """

    spec: dict[str, Any]
    encoding: FeatureEncoding
    control: str
    arms: list[str]
    model: str
    binary_outcome: bool
    fitted: dict[str, Any]
    value_per_outcome: float = 1.0
    cost_per_treatment: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def predict_matrix(self, X: np.ndarray) -> np.ndarray:
        """CATE of each treated arm (columns, in `arms` order) for complete rows of X; NaN rows
        stay NaN."""
        out = np.full((len(X), len(self.arms)), np.nan)
        ok = ~np.isnan(X).any(axis=1)
        if ok.any():
            for j, arm in enumerate(self.arms):
                out[ok, j] = np.asarray(self.fitted[arm].predict(X[ok]), float).reshape(-1)
        return out

    def score(self, frame: pd.DataFrame, source: str = "the data") -> tuple[pd.DataFrame, int, int]:
        """Predictions in the input's row order (`cate`, or `cate_<arm>` and `best_treatment`),
        the number of rows left empty for missing values, and of those for unseen levels."""
        if len(frame) == 0:
            raise UserInputError(
                f"{source} has no rows to score (only a header); give a file with at least one row."
            )
        X, unseen = self.encoding.transform(frame, source)
        cate = self.predict_matrix(X)
        missing = int(np.isnan(X).any(axis=1).sum())
        return (
            prediction_frame(
                cate, self.arms, self.control, self.value_per_outcome, self.cost_per_treatment
            ),
            missing,
            unseen,
        )


def best_treatment(
    cate: np.ndarray, arms: list[str], control: str, value: float, cost: float
) -> np.ndarray:
    """Per row, the arm with the largest expected net value value·CATE − cost, or the control
    when no arm's is positive (None where the CATE is missing)."""
    net = value * cate - cost
    ok = ~np.isnan(net).any(axis=1)
    best = np.full(len(cate), None, object)
    if ok.any():
        pick = np.argmax(net[ok], axis=1)
        positive = net[ok][np.arange(ok.sum()), pick] > 0
        best[ok] = np.where(positive, np.asarray(arms, object)[pick], control)
    return best


def prediction_frame(
    cate: np.ndarray, arms: list[str], control: str, value: float = 1.0, cost: float = 0.0
) -> pd.DataFrame:
    """`cate` for one treated arm; `cate_<arm>` per arm and `best_treatment` for several."""
    import pandas as pd

    if len(arms) == 1:
        return pd.DataFrame({"cate": cate[:, 0]})
    out = pd.DataFrame({f"cate_{arm}": cate[:, j] for j, arm in enumerate(arms)})
    out["best_treatment"] = best_treatment(cate, arms, control, value, cost)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Predictions as CSV: missing values as empty cells, full float precision."""
    frame.to_csv(path, index=False, float_format="%.17g")


# --------------------------------------------------------------------------------------------
# Writing and reading the zip
# --------------------------------------------------------------------------------------------
class _Packer:
    """Moves arrays and long texts out of a state tree into zip members."""

    def __init__(self) -> None:
        self.members: dict[str, bytes] = {}

    def pack(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise TypeError("object arrays cannot be saved safely")
            name = f"arrays/{len(self.members)}.npy"
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            self.members[name] = buffer.getvalue()
            return {"__array__": name}
        if isinstance(value, str) and len(value) > _LONG_TEXT:
            name = f"text/{len(self.members)}.txt"
            self.members[name] = value.encode("utf-8")
            return {"__text__": name}
        if isinstance(value, dict):
            return {str(k): self.pack(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.pack(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"cannot save a {type(value).__name__} in a model file")


def _unpack(value: Any, archive: zipfile.ZipFile, path: Path) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return _read_array(archive, value["__array__"], path)
        if set(value) == {"__text__"}:
            return _read_member(archive, value["__text__"], path).decode("utf-8")
        return {k: _unpack(v, archive, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, archive, path) for v in value]
    return value


def _read_member(archive: zipfile.ZipFile, name: Any, path: Path) -> bytes:
    if not isinstance(name, str) or name not in archive.namelist():
        raise UserInputError(
            f"model file {path.name!r} refers to a missing member {name!r}; it is damaged – "
            "re-save the model."
        )
    return archive.read(name)


def _read_array(archive: zipfile.ZipFile, name: Any, path: Path) -> np.ndarray:
    data = _read_member(archive, name, path)
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError:
        raise UserInputError(
            f"model file {path.name!r} holds an array ({name}) that is not plain numbers; "
            "refusing to load it (object arrays could run code)."
        ) from None


def _lightgbm_text_problem(text: str) -> str | None:
    """Why `text` is not a whole LightGBM model dump, or None.

    LightGBM's own parser trusts the text: a truncated or edited dump can crash the process
    (a segmentation fault) instead of raising, so the structure is checked here first – the
    header, that each tree starts where ``tree_sizes`` says, that every tree's arrays have the
    lengths its ``num_leaves`` implies with children and features in range, and the
    ``end of trees`` line.
    """
    data = text.encode("utf-8")
    if not data.startswith(b"tree\n"):
        return "it does not start with LightGBM's 'tree' header"
    start = data.find(b"\nTree=0\n")
    if start < 0:
        return "it holds no trees"
    header = dict(line.split(b"=", 1) for line in data[:start].split(b"\n") if b"=" in line)
    try:
        sizes = [int(v) for v in header[b"tree_sizes"].split()]
        max_feature = int(header[b"max_feature_idx"])
    except (KeyError, ValueError):
        return "its header lacks tree_sizes or max_feature_idx"
    pos = start + 1
    for i, size in enumerate(sizes):
        block = data[pos : pos + size]
        if size <= 0 or len(block) < size or not block.startswith(b"Tree=%d\n" % i):
            return f"tree {i} is cut short or misplaced"
        problem = _tree_problem(block, max_feature)
        if problem:
            return f"tree {i} {problem}"
        pos += size
    if not data[pos:].startswith(b"end of trees"):
        return "it has no 'end of trees' line after the last tree"
    if b"\nend of parameters\n\npandas_categorical:" not in data[pos:]:
        # a dump cut inside or just after its parameters crashes or hangs LightGBM's parser
        return "its parameters section is cut short"
    return None


def _tree_problem(block: bytes, max_feature: int) -> str | None:
    fields = dict(line.split(b"=", 1) for line in block.split(b"\n") if b"=" in line)
    try:
        leaves = int(fields[b"num_leaves"])
        arrays = {
            key: fields[key].split()
            for key in (b"split_feature", b"threshold", b"left_child", b"right_child")
        }
        values = fields[b"leaf_value"].split()
        [float(v) for v in values]
        [float(v) for v in arrays[b"threshold"]]
        features = [int(v) for v in arrays[b"split_feature"]]
        children = [int(v) for v in arrays[b"left_child"] + arrays[b"right_child"]]
    except (KeyError, ValueError):
        return "lacks a field or holds a value that is not a number"
    if leaves < 1 or len(values) != leaves:
        return "has leaf values that do not match its number of leaves"
    if leaves > 1 and any(len(v) != leaves - 1 for v in arrays.values()):
        return "has split arrays that do not match its number of leaves"
    if any(not 0 <= f <= max_feature for f in features):
        return "splits on a feature the model does not have"
    if any(not -leaves <= c < leaves - 1 for c in children):
        return "points to a node it does not have"
    return None


def _check_states(value: Any, path: Path) -> None:
    """Every LightGBM text in an unpacked state tree is whole (see `_lightgbm_text_problem`)."""
    if isinstance(value, dict):
        if value.get("type") == "lightgbm":
            text = value.get("model")
            problem = _lightgbm_text_problem(text) if isinstance(text, str) else "it is not text"
            if problem:
                raise UserInputError(
                    f"model file {path.name!r} is damaged: a LightGBM model in it is not "
                    f"whole ({problem}); re-save the model with cerebro uplift --save."
                )
        for item in value.values():
            _check_states(item, path)
    elif isinstance(value, list):
        for item in value:
            _check_states(item, path)


def _state_of(fitted: Any) -> dict[str, Any]:
    try:
        return fitted.to_state()
    except NotImplementedError as err:
        raise UserInputError(f"cannot save this model: {err}") from None


def model_bytes(model: UpliftModel) -> bytes:
    """`model` as the bytes of a model file (see the module docstring for the format)."""
    from cerebro.core.version import __version__

    packer = _Packer()
    states = []
    for arm in model.arms:
        state = packer.pack(_state_of(model.fitted[arm]))
        states.append({"arm": arm, "state": state})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "cerebro_version": __version__,
        "spec": model.spec,
        "features": model.encoding.to_list(),
        "columns": model.encoding.columns,
        "control": model.control,
        "arms": list(model.arms),
        "model": model.model,
        "binary_outcome": bool(model.binary_outcome),
        "value_per_outcome": model.value_per_outcome,
        "cost_per_treatment": model.cost_per_treatment,
        "models": states,
        **({"extra": packer.pack(model.extra)} if model.extra else {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, allow_nan=True))
        for name, data in packer.members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def save_model(model: UpliftModel, path: str | Path) -> None:
    """Write `model` to `path` atomically."""
    with atomic_path(path) as tmp:
        write_bytes(model_bytes(model), tmp)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The validated manifest of a model file (no model code is touched)."""
    path = Path(path)
    with _open(path) as archive:
        return _manifest(archive, path)


def _open(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise UserInputError(f"model file {str(path)!r} does not exist; check the path.")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, IsADirectoryError):
        raise UserInputError(
            f"{path.name!r} is not a Cerebro model file (not a zip archive); save one with "
            "cerebro uplift --save."
        ) from None


def _manifest(archive: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    if MANIFEST not in archive.namelist():
        raise UserInputError(
            f"{path.name!r} has no manifest.json, so it is not a Cerebro model file; save one "
            "with cerebro uplift --save."
        )
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UserInputError(
            f"the manifest of {path.name!r} is not valid JSON; re-save the model."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserInputError(
            f"{path.name!r} is not a Cerebro uplift model (format "
            f"{manifest.get('format') if isinstance(manifest, dict) else None!r}); save one with "
            "cerebro uplift --save."
        )
    version = manifest.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        raise UserInputError(
            f"{path.name!r} uses model format version {version!r}, which this Cerebro does not "
            f"read (it reads {', '.join(map(str, SUPPORTED_VERSIONS))}); upgrade Cerebro or "
            "re-save the model."
        )
    missing = [key for key in _REQUIRED if key not in manifest]
    if missing:
        raise UserInputError(
            f"the manifest of {path.name!r} lacks {', '.join(missing)}; the file is damaged – "
            "re-save the model."
        )
    arms = [m.get("arm") for m in manifest["models"] if isinstance(m, dict)]
    if arms != manifest["arms"] or not arms:
        raise UserInputError(
            f"the manifest of {path.name!r} lists arms {manifest['arms']!r} but holds models "
            f"for {arms!r}; re-save the model."
        )
    return manifest


def _check_kind(kind: Any) -> None:
    from cerebro.uplift.spec import MODELS

    if kind not in MODELS:
        raise UserInputError(
            f"the model file names an unknown model kind {kind!r}; it was written by a newer "
            "Cerebro – upgrade, or re-save the model."
        )


def _restore(kind: str, state: dict[str, Any]) -> Any:
    if kind == "causal_forest":
        from cerebro.uplift.forest import CausalForest

        return CausalForest.from_state(state)
    from cerebro.uplift.learners import FittedUplift

    return FittedUplift.from_state(state)


def load_model(path: str | Path) -> UpliftModel:
    """Read and validate a model file written by `save_model`."""
    path = Path(path)
    with _open(path) as archive:
        manifest = _manifest(archive, path)
        encoding = FeatureEncoding.from_list(manifest["features"])
        if encoding.columns != manifest["columns"]:
            raise UserInputError(
                f"the feature encoding of {path.name!r} does not match its design columns; "
                "re-save the model."
            )
        _check_kind(manifest["model"])
        fitted = {}
        for entry in manifest["models"]:
            state = _unpack(entry["state"], archive, path)
            _check_states(state, path)
            try:
                fitted[entry["arm"]] = _restore(manifest["model"], state)
            except UserInputError:
                raise
            except Exception as err:  # any failure to rebuild a model from its state
                raise UserInputError(
                    f"model file {path.name!r} is damaged: the model for arm {entry['arm']!r} "
                    f"cannot be rebuilt ({type(err).__name__}); re-save the model with "
                    "cerebro uplift --save."
                ) from None
        extra = _unpack(manifest.get("extra", {}), archive, path)
    return UpliftModel(
        spec=manifest["spec"],
        encoding=encoding,
        control=str(manifest["control"]),
        arms=[str(a) for a in manifest["arms"]],
        model=str(manifest["model"]),
        binary_outcome=bool(manifest["binary_outcome"]),
        fitted=fitted,
        value_per_outcome=float(manifest.get("value_per_outcome", 1.0)),
        cost_per_treatment=float(manifest.get("cost_per_treatment", 0.0)),
        extra=extra,
    )
