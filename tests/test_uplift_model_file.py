"""The saved uplift model format: feature encoding, safe zip + manifest, validation, round trips."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.uplift import model_file as mf
from cerebro.uplift.model_file import (
    FeatureEncoding,
    UpliftModel,
    best_treatment,
    load_model,
    read_manifest,
    save_model,
)
from cerebro.uplift.synthetic import uplift_data


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30.0, 41.0, np.nan, 25.0, 52.0],
            "plan": ["pro", "free", "team", "free", None],
            "active": [True, False, True, True, False],
        }
    )


def test_encoding_one_hot_against_the_first_level_and_missing_rows():
    frame = _frame()
    enc = FeatureEncoding.learn(frame, ["age", "plan", "active"])
    assert enc.columns == ["age", "plan[pro]", "plan[team]", "active"]
    assert enc.groups == {"age": [0], "plan": [1, 2], "active": [3]}
    X, unseen = enc.transform(frame)
    assert unseen == 0
    np.testing.assert_array_equal(X[0], [30.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(X[1], [41.0, 0.0, 0.0, 0.0])  # 'free' is the reference
    assert np.isnan(X[2]).all() and np.isnan(X[4]).all()  # missing age / missing plan
    # A level the model never saw makes the row unscorable (not silently the reference level).
    new = pd.DataFrame({"age": [30.0, 31.0], "plan": ["enterprise", "team"], "active": [1, 0]})
    X2, unseen2 = enc.transform(new)
    assert unseen2 == 1 and np.isnan(X2[0]).all()
    np.testing.assert_array_equal(X2[1], [31.0, 0.0, 1.0, 0.0])


def test_encoding_errors_are_one_sentence():
    enc = FeatureEncoding.learn(_frame(), ["age", "plan"])
    with pytest.raises(UserInputError, match=r"column 'plan' not found in new\.csv"):
        enc.transform(pd.DataFrame({"age": [1.0]}), "new.csv")
    with pytest.raises(UserInputError, match="feature column 'age' has non-numeric values"):
        enc.transform(pd.DataFrame({"age": ["old"], "plan": ["pro"]}))
    with pytest.raises(UserInputError, match="feature 'c' has 1 distinct value"):
        FeatureEncoding.learn(pd.DataFrame({"c": ["x", "x"]}), ["c"])


def test_best_treatment_is_the_largest_net_value_or_control():
    cate = np.array([[0.2, 0.1], [-0.1, -0.3], [0.05, 0.3], [np.nan, 0.1]])
    best = best_treatment(cate, ["B", "C"], "A", value=1.0, cost=0.0)
    assert best.tolist() == ["B", "A", "C", None]
    # A cost of 0.15 per treatment makes B's 0.1 net-negative for row 0's second arm only.
    best = best_treatment(cate, ["B", "C"], "A", value=1.0, cost=0.15)
    assert best.tolist() == ["B", "A", "C", None]
    best = best_treatment(cate, ["B", "C"], "A", value=1.0, cost=0.25)
    assert best.tolist() == ["A", "A", "C", None]


class _Toy:
    """A stand-in fitted model: linear CATE, state with an array and a long text."""

    def __init__(self, w: np.ndarray, note: str) -> None:
        self.w, self.note = w, note

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X @ self.w

    def to_state(self) -> dict:
        return {"w": self.w, "note": self.note, "nested": [{"k": np.float64(2.5)}]}


def _toy_model(enc: FeatureEncoding, arms=("B",)) -> UpliftModel:
    rng = np.random.default_rng(0)
    fitted = {arm: _Toy(rng.normal(size=len(enc.columns)), "tree\n" * 400) for arm in arms}
    return UpliftModel({"kind": "uplift"}, enc, "A", list(arms), "t_learner", True, fitted)


def test_zip_layout_manifest_and_arrays_without_pickle(tmp_path, monkeypatch):
    enc = FeatureEncoding.learn(_frame(), ["age", "plan", "active"])
    model = _toy_model(enc, ("B", "C"))
    path = tmp_path / "m.cerebro"
    save_model(model, path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        for name in names:
            if name.endswith(".npy"):  # plain numbers: loadable with pickling disabled
                np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
    assert "manifest.json" in names and all(
        n == "manifest.json" or n.startswith(("arrays/", "text/")) for n in names
    )
    assert manifest["format"] == "cerebro-uplift-model" and manifest["format_version"] == 1
    assert manifest["arms"] == ["B", "C"] and manifest["control"] == "A"
    assert manifest["features"][1] == {
        "name": "plan",
        "type": "categorical",
        "levels": ["free", "pro", "team"],
    }
    assert manifest["columns"] == enc.columns
    state = manifest["models"][0]["state"]
    assert set(state["w"]) == {"__array__"} and set(state["note"]) == {"__text__"}
    assert read_manifest(path)["model"] == "t_learner"

    # Restoring: the same arrays and text come back (the model class is stubbed here).
    monkeypatch.setattr(mf, "_restore", lambda kind, s: _Toy(s["w"], s["note"]))
    loaded = load_model(path)
    for arm in ("B", "C"):
        np.testing.assert_array_equal(loaded.fitted[arm].w, model.fitted[arm].w)
        assert loaded.fitted[arm].note == model.fitted[arm].note
    frame = pd.DataFrame({"age": [20.0, 30.0], "plan": ["team", "pro"], "active": [0, 1]})
    preds, missing, _ = loaded.score(frame)
    assert list(preds.columns) == ["cate_B", "cate_C", "best_treatment"] and missing == 0
    X, _ = enc.transform(frame)
    np.testing.assert_array_equal(preds["cate_B"].to_numpy(), X @ model.fitted["B"].w)


def _rewrite(path, tmp_path, change):
    """A copy of the model file with its manifest changed by `change(manifest)`."""
    out = tmp_path / "changed.cerebro"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            dst.writestr(name, data)
    return out


def test_manifest_validation_refuses_with_one_sentence(tmp_path):
    enc = FeatureEncoding.learn(_frame(), ["age", "plan"])
    path = tmp_path / "m.cerebro"
    save_model(_toy_model(enc), path)
    cases = [
        (
            lambda m: m.update(format_version=2),
            r"format version 2, which this Cerebro does not read",
        ),
        (lambda m: m.update(format="something-else"), r"is not a Cerebro uplift model"),
        (lambda m: m.pop("features"), r"lacks features"),
        (lambda m: m.update(arms=["B", "C"]), r"lists arms \['B', 'C'\] but holds models"),
        (lambda m: m.update(columns=["age"]), r"does not match its design columns"),
        (lambda m: m.update(model="gradient_magic"), r"unknown model kind 'gradient_magic'"),
    ]
    for change, message in cases:
        bad = _rewrite(path, tmp_path, change)
        with pytest.raises(UserInputError, match=message) as err:
            load_model(bad)
        assert "\n" not in str(err.value)
    not_zip = tmp_path / "plain.cerebro"
    not_zip.write_text("hello")
    with pytest.raises(UserInputError, match="not a zip archive"):
        load_model(not_zip)
    empty = tmp_path / "empty.cerebro"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("x.txt", "x")
    with pytest.raises(UserInputError, match=r"has no manifest\.json"):
        load_model(empty)
    with pytest.raises(UserInputError, match="does not exist"):
        load_model(tmp_path / "nope.cerebro")


def test_an_object_array_is_refused_not_unpickled(tmp_path):
    enc = FeatureEncoding.learn(_frame(), ["age"])
    path = tmp_path / "m.cerebro"
    save_model(_toy_model(enc), path)
    evil = tmp_path / "evil.cerebro"
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, buffer.getvalue() if name.endswith(".npy") else src.read(name))
    with pytest.raises(UserInputError, match="not plain numbers; refusing to load it"):
        load_model(evil)


@pytest.mark.parametrize(
    ("model", "learner"),
    [("x_learner", "lightgbm"), ("dr_learner", "linear"), ("causal_forest", None)],
)
def test_round_trip_predicts_exactly_what_the_fitted_model_does(tmp_path, model, learner):
    """save → load → predict equals the in-memory model's predict to 1e-12 (bit-identical
    in practice: arrays are stored losslessly and LightGBM text round-trips its doubles)."""
    df, _ = uplift_data(800, p=5, kind="continuous", seed=4)
    enc = FeatureEncoding.learn(df, ["x1", "x2", "x3", "x4", "x5", "segment"])
    X, _ = enc.transform(df)
    t, y = df["treatment"].to_numpy(), df["outcome"].to_numpy(float)
    if model == "causal_forest":
        from cerebro.uplift.forest import CausalForest

        fitted = CausalForest(n_estimators=40, seed=1).fit(X, y, t, t_hat=0.5)
    else:
        from cerebro.uplift.learners import fit_learner

        fitted = fit_learner(
            model, X, y, t, outcome_learner=learner, effect_learner=learner,
            propensity_learner=learner, folds=3, seed=1,
        )  # fmt: skip
    up = UpliftModel({"kind": "uplift"}, enc, "0", ["1"], model, False, {"1": fitted})
    path = tmp_path / "m.cerebro"
    save_model(up, path)
    loaded = load_model(path)
    new = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    X_new, _ = enc.transform(new)
    preds, missing, _ = loaded.score(new)
    assert missing == 0
    np.testing.assert_allclose(preds["cate"].to_numpy(), fitted.predict(X_new), rtol=0, atol=1e-12)
    missing_feature = new.drop(columns=["x3"])
    with pytest.raises(UserInputError, match=r"column 'x3' not found in new\.csv; available"):
        loaded.score(missing_feature, "new.csv")
