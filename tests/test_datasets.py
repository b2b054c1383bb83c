"""Tests for gaussmle.datasets."""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np
import pytest

from gaussmle.datasets import (
    DATASET_NAMES,
    Dataset,
    load_dataset,
    load_iris,
    load_penguins,
    make_skittles,
)


def _check_dataset(ds: Dataset) -> None:
    assert ds.X.dtype == np.float64
    assert ds.X.ndim == 2
    assert ds.X.shape == (len(ds.y), len(ds.feature_names))
    assert np.isfinite(ds.X).all()
    assert ds.target_name not in ds.feature_names
    assert isinstance(ds.description, str) and ds.description
    assert ds.y.dtype.kind == "U"
    if ds.X_new is not None:
        assert ds.X_new.dtype == np.float64
        assert ds.X_new.shape[1] == ds.X.shape[1]


class TestSkittles:
    def test_shapes_and_names(self):
        ds = make_skittles()
        _check_dataset(ds)
        assert ds.X.shape == (200, 2)
        assert ds.X_new.shape == (50, 2)
        assert ds.feature_names == ("aromatic lift", "elegance")
        assert ds.target_name == "colour"
        assert ds.classes == ["purple", "yellow"]
        assert ds.n_dropped == 0
        assert ds.name == "skittles"

    def test_class_balance_and_centres(self):
        ds = make_skittles(n_per_class=400, n_mystery=10, random_state=3)
        assert (ds.y == "purple").sum() == 400
        assert (ds.y == "yellow").sum() == 400
        purple = ds.X[ds.y == "purple"]
        yellow = ds.X[ds.y == "yellow"]
        np.testing.assert_allclose(purple.mean(axis=0), [-1, -1], atol=0.1)
        np.testing.assert_allclose(yellow.mean(axis=0), [1, 1], atol=0.1)
        # Purple is more spread out and positively correlated; yellow rounder.
        assert purple.std(axis=0).mean() > yellow.std(axis=0).mean()
        assert np.corrcoef(purple.T)[0, 1] > 0.1
        assert abs(np.corrcoef(yellow.T)[0, 1]) < 0.25
        np.testing.assert_allclose(purple.std(axis=0), 0.6, atol=0.06)
        np.testing.assert_allclose(yellow.std(axis=0), 0.5, atol=0.06)

    def test_classes_overlap_a_little(self):
        ds = make_skittles(n_per_class=500, random_state=0)
        # The simple rule "colour = sign of the sum of the traits" is right
        # most of the time but not always.
        guess = np.where(ds.X.sum(axis=1) > 0, "yellow", "purple")
        accuracy = (guess == ds.y).mean()
        assert 0.9 < accuracy < 1.0

    def test_rows_are_shuffled(self):
        ds = make_skittles()
        assert not (ds.y[:100] == "purple").all()

    def test_deterministic_under_seed(self):
        a = make_skittles(random_state=7)
        b = make_skittles(random_state=7)
        c = make_skittles(random_state=8)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.y, b.y)
        np.testing.assert_array_equal(a.X_new, b.X_new)
        assert not np.array_equal(a.X, c.X)

    def test_generator_as_seed(self):
        a = make_skittles(random_state=np.random.default_rng(5))
        b = make_skittles(random_state=5)
        np.testing.assert_array_equal(a.X, b.X)

    def test_mystery_from_both_colours(self):
        ds = make_skittles(n_mystery=200, random_state=2)
        near_yellow = (ds.X_new.sum(axis=1) > 0).mean()
        assert 0.3 < near_yellow < 0.7

    def test_no_mystery(self):
        ds = make_skittles(n_per_class=5, n_mystery=0)
        assert ds.X_new is None
        assert ds.new_columns() == {}

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"n_per_class": 0}, ValueError),
            ({"n_mystery": -1}, ValueError),
            ({"n_per_class": 2.5}, TypeError),
        ],
    )
    def test_bad_arguments(self, kwargs, error):
        with pytest.raises(error):
            make_skittles(**kwargs)

    def test_to_columns(self):
        ds = make_skittles(n_per_class=4, n_mystery=3)
        cols = ds.to_columns()
        assert list(cols) == ["aromatic lift", "elegance", "colour"]
        np.testing.assert_array_equal(cols["elegance"], ds.X[:, 1])
        np.testing.assert_array_equal(cols["colour"], ds.y)
        new = ds.new_columns()
        assert list(new) == ["aromatic lift", "elegance"]
        np.testing.assert_array_equal(new["aromatic lift"], ds.X_new[:, 0])

    def test_frozen(self):
        ds = make_skittles(n_per_class=2, n_mystery=0)
        with pytest.raises(AttributeError):
            ds.X = None  # type: ignore[misc]


class TestIris:
    def test_iris(self):
        ds = load_iris()
        _check_dataset(ds)
        assert ds.X.shape == (150, 4)
        assert ds.classes == ["setosa", "versicolor", "virginica"]
        assert all((ds.y == c).sum() == 50 for c in ds.classes)
        assert ds.target_name == "species"
        assert ds.X_new is None
        assert ds.feature_names[0].startswith("sepal length")


class TestPenguins:
    def _raw_rows(self):
        text = resources.files("gaussmle").joinpath("data/penguins.csv").read_text()
        return list(csv.DictReader(io.StringIO(text)))

    def test_shipped_file(self):
        rows = self._raw_rows()
        assert len(rows) == 344
        assert list(rows[0]) == [
            "species",
            "island",
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "body_mass_g",
            "sex",
            "year",
        ]
        features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
        missing = [r for r in rows if any(r[f] == "NA" for f in features)]
        assert len(missing) == 2
        assert all(r["species"] != "NA" for r in rows)

    def test_load(self):
        ds = load_penguins()
        _check_dataset(ds)
        assert ds.X.shape == (342, 4)
        assert ds.n_dropped == 2
        assert "2 rows" in ds.description and "342" in ds.description
        assert ds.feature_names == (
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "body_mass_g",
        )
        assert ds.target_name == "species"
        counts = {c: int((ds.y == c).sum()) for c in ds.classes}
        assert counts == {"Adelie": 151, "Chinstrap": 68, "Gentoo": 123}
        # First row of the file: Adelie, 39.1, 18.7, 181, 3750.
        np.testing.assert_array_equal(ds.X[0], [39.1, 18.7, 181, 3750])
        assert ds.y[0] == "Adelie"
        # Gentoo penguins are the heaviest on average.
        means = {c: ds.X[ds.y == c, 3].mean() for c in ds.classes}
        assert max(means, key=means.get) == "Gentoo"

    def test_drop_missing_false_raises(self):
        with pytest.raises(ValueError, match="2 of the 344 rows"):
            load_penguins(drop_missing=False)


class TestLoadDataset:
    @pytest.mark.parametrize("name", DATASET_NAMES)
    def test_by_name(self, name):
        ds = load_dataset(name)
        assert ds.name == name
        _check_dataset(ds)

    def test_case_insensitive(self):
        assert load_dataset(" Skittles ").name == "skittles"

    def test_unknown_name(self):
        with pytest.raises(ValueError, match="unknown dataset 'wine'.*iris, penguins, skittles"):
            load_dataset("wine")

    def test_skittles_default_equals_make_skittles(self):
        np.testing.assert_array_equal(load_dataset("skittles").X, make_skittles().X)
