"""Small labelled data sets for examples, tests and the demo.

* :func:`make_skittles`: the project's worked example, two colours of skittles
  rated on two traits, plus unlabelled "mystery skittles" to classify;
* :func:`load_iris`: Fisher's iris flowers, via scikit-learn;
* :func:`load_penguins`: the Palmer penguins.

The Palmer penguins data were collected and made available by Dr. Kristen
Gorman and the Palmer Station Long Term Ecological Research (LTER) Program, and
published by Allison Horst, Alison Hill and Kristen Gorman in the R package
palmerpenguins under the CC0 public domain dedication
(https://allisonhorst.github.io/palmerpenguins/). The file shipped here,
``gaussmle/data/penguins.csv``, is the unmodified ``penguins.csv`` of the
Python package palmerpenguins 0.1.6 (missing values written as ``NA``).

Examples
--------
>>> ds = load_dataset("skittles")
>>> ds.X.shape, ds.feature_names, sorted(set(ds.y.tolist()))
((200, 2), ('aromatic lift', 'elegance'), ['purple', 'yellow'])
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "load_dataset",
    "load_iris",
    "load_penguins",
    "make_skittles",
]

DATASET_NAMES = ("iris", "penguins", "skittles")

_PENGUIN_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
_PENGUIN_TARGET = "species"
_MISSING = {"", "NA", "NaN", "nan", "null", "None"}


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A labelled data set, with optional unlabelled points to classify.

    Attributes
    ----------
    X : numpy.ndarray
        float64 array of shape (n, d).
    y : numpy.ndarray
        Labels, one per row of ``X`` (str for named classes).
    feature_names : tuple of str
        Names of the d columns of ``X``.
    target_name : str
        Name of the label column.
    description : str
        A few sentences on what the data are and where they come from.
    n_dropped : int
        Rows of the source dropped for missing values.
    X_new : numpy.ndarray or None
        float64 array of shape (m, d) of unlabelled points, or None.
    name : str
        Short name, as accepted by :func:`load_dataset`.

    Examples
    --------
    >>> ds = make_skittles(n_per_class=3, n_mystery=2)
    >>> ds
    Dataset('skittles', n=6, d=2, classes=['purple', 'yellow'], n_new=2)
    >>> list(ds.to_columns())
    ['aromatic lift', 'elegance', 'colour']
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    description: str
    n_dropped: int = 0
    X_new: np.ndarray | None = None
    name: str = ""

    @property
    def n_samples(self) -> int:
        """Number of labelled rows."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features."""
        return int(self.X.shape[1])

    @property
    def classes(self) -> list:
        """The distinct labels, sorted."""
        return np.unique(self.y).tolist()

    def to_columns(self) -> dict[str, np.ndarray]:
        """Columns by name, features first then the target (handy for writing CSV).

        Returns
        -------
        dict of str to numpy.ndarray
        """
        columns = {name: self.X[:, j] for j, name in enumerate(self.feature_names)}
        columns[self.target_name] = self.y
        return columns

    def new_columns(self) -> dict[str, np.ndarray]:
        """Columns of the unlabelled points ``X_new`` by feature name (empty if none).

        Returns
        -------
        dict of str to numpy.ndarray
        """
        if self.X_new is None:
            return {}
        return {name: self.X_new[:, j] for j, name in enumerate(self.feature_names)}

    def __repr__(self) -> str:
        n_new = 0 if self.X_new is None else int(self.X_new.shape[0])
        return (
            f"Dataset({self.name!r}, n={self.n_samples}, d={self.n_features}, "
            f"classes={self.classes}, n_new={n_new})"
        )


def _check_count(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


# Skittle colours: mean and covariance of (aromatic lift, elegance).
_SKITTLES = {
    "purple": (np.array([-1.0, -1.0]), np.array([[0.36, 0.108], [0.108, 0.36]])),
    "yellow": (np.array([1.0, 1.0]), np.array([[0.25, -0.02], [-0.02, 0.22]])),
}


def _draw(rng: np.random.Generator, colour: str, n: int) -> np.ndarray:
    mean, cov = _SKITTLES[colour]
    z = rng.standard_normal((n, 2))
    return mean + z @ np.linalg.cholesky(cov).T


def make_skittles(n_per_class: int = 100, n_mystery: int = 50, random_state=0) -> Dataset:
    """The worked example: purple and yellow skittles rated on two traits.

    Purple skittles cluster near (-1, -1) with standard deviation 0.6 on each
    trait and correlation 0.3; yellow ones near (1, 1), a little tighter and
    rounder (standard deviations 0.5 and about 0.47, correlation about -0.09).
    The classes overlap a little. Rows are shuffled.

    Parameters
    ----------
    n_per_class : int, default 100
        Labelled skittles of each colour.
    n_mystery : int, default 50
        Unlabelled "mystery skittles" in ``X_new``, each purple or yellow with
        probability 1/2 (the colours are not recorded). None when 0.
    random_state : int or numpy.random.Generator, default 0
        Seed for :func:`numpy.random.default_rng`; the same seed gives the same
        data.

    Returns
    -------
    Dataset
        Features "aromatic lift" and "elegance", target "colour".

    Examples
    --------
    >>> ds = make_skittles(random_state=1)
    >>> ds.X.shape, ds.X_new.shape
    ((200, 2), (50, 2))
    >>> ds.X[ds.y == "yellow"].mean(axis=0).round(0)
    array([1., 1.])
    """
    n_per_class = _check_count(n_per_class, "n_per_class", 1)
    n_mystery = _check_count(n_mystery, "n_mystery", 0)
    rng = np.random.default_rng(random_state)
    purple = _draw(rng, "purple", n_per_class)
    yellow = _draw(rng, "yellow", n_per_class)
    X = np.concatenate([purple, yellow])
    y = np.array(["purple"] * n_per_class + ["yellow"] * n_per_class)
    order = rng.permutation(len(y))
    X, y = np.ascontiguousarray(X[order]), y[order]
    X_new = None
    if n_mystery:
        is_purple = rng.random(n_mystery) < 0.5
        X_new = np.empty((n_mystery, 2))
        X_new[is_purple] = _draw(rng, "purple", int(is_purple.sum()))
        X_new[~is_purple] = _draw(rng, "yellow", int((~is_purple).sum()))
    description = (
        f"Simulated skittles: {n_per_class} purple and {n_per_class} yellow, each rated on "
        "'aromatic lift' and 'elegance'. Purple ones cluster near (-1, -1) with sd 0.6 and "
        "correlation 0.3, yellow ones near (1, 1) with sd about 0.5; the colours overlap a "
        f"little. X_new holds {n_mystery} unlabelled mystery skittles of either colour."
    )
    return Dataset(
        X=X,
        y=y,
        feature_names=("aromatic lift", "elegance"),
        target_name="colour",
        description=description,
        n_dropped=0,
        X_new=X_new,
        name="skittles",
    )


def load_iris() -> Dataset:
    """Fisher's iris data: 150 flowers of 3 species, 4 measurements in cm.

    Loaded with :func:`sklearn.datasets.load_iris`; labels are the species
    names.

    Examples
    --------
    >>> ds = load_iris()
    >>> ds.X.shape, ds.classes
    ((150, 4), ['setosa', 'versicolor', 'virginica'])
    """
    from sklearn.datasets import load_iris as _sk_load_iris

    bunch = _sk_load_iris()
    y = np.asarray(bunch.target_names)[bunch.target].astype(str)
    return Dataset(
        X=np.ascontiguousarray(bunch.data, dtype=np.float64),
        y=y,
        feature_names=tuple(str(f) for f in bunch.feature_names),
        target_name="species",
        description=(
            "Fisher's (1936) iris data as shipped with scikit-learn: 150 flowers, 50 of each "
            "of three species (setosa, versicolor, virginica), measured on sepal and petal "
            "length and width in cm."
        ),
        n_dropped=0,
        name="iris",
    )


def _penguins_text() -> str:
    return resources.files(__package__).joinpath("data/penguins.csv").read_text(encoding="utf-8")


def load_penguins(drop_missing: bool = True) -> Dataset:
    """The Palmer penguins: 344 penguins of 3 species, 4 body measurements.

    Features ``bill_length_mm``, ``bill_depth_mm``, ``flipper_length_mm`` and
    ``body_mass_g``; target ``species`` (Adelie, Chinstrap, Gentoo). Two
    penguins have no measurements at all.

    Parameters
    ----------
    drop_missing : bool, default True
        Drop rows with a missing feature or species (counted in ``n_dropped``
        and in the description). When False, raise instead.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        If ``drop_missing`` is False (the data have rows with missing values).

    Examples
    --------
    >>> ds = load_penguins()
    >>> ds.X.shape, ds.n_dropped, ds.classes
    ((342, 4), 2, ['Adelie', 'Chinstrap', 'Gentoo'])
    """
    reader = csv.DictReader(io.StringIO(_penguins_text()))
    rows: list[list[float]] = []
    labels: list[str] = []
    n_missing = 0
    for record in reader:
        raw = [record[name].strip() for name in _PENGUIN_FEATURES]
        label = record[_PENGUIN_TARGET].strip()
        if label in _MISSING or any(v in _MISSING for v in raw):
            n_missing += 1
            continue
        values = [float(v) for v in raw]
        if not all(math.isfinite(v) for v in values):
            n_missing += 1
            continue
        rows.append(values)
        labels.append(label)
    total = len(rows) + n_missing
    if n_missing and not drop_missing:
        raise ValueError(
            f"{n_missing} of the {total} rows of the penguins data have missing values; "
            "use drop_missing=True to drop them"
        )
    description = (
        f"Palmer penguins (Horst, Hill & Gorman; CC0): {total} adult Adelie, Chinstrap and "
        "Gentoo penguins from three islands of the Palmer Archipelago, Antarctica, measured "
        "by Dr. Kristen Gorman and the Palmer Station LTER. Features: bill length and depth "
        f"(mm), flipper length (mm), body mass (g). {n_missing} rows with missing values were "
        f"dropped, leaving {len(rows)}."
    )
    return Dataset(
        X=np.array(rows, dtype=np.float64).reshape(len(rows), len(_PENGUIN_FEATURES)),
        y=np.array(labels, dtype=str),
        feature_names=_PENGUIN_FEATURES,
        target_name=_PENGUIN_TARGET,
        description=description,
        n_dropped=n_missing,
        name="penguins",
    )


def load_dataset(name: str) -> Dataset:
    """Load a bundled data set by name: "skittles", "iris" or "penguins".

    Parameters
    ----------
    name : str
        Case and surrounding spaces are ignored.

    Raises
    ------
    ValueError
        For any other name; the message lists the valid ones.

    Examples
    --------
    >>> load_dataset("iris").target_name
    'species'
    """
    key = str(name).strip().lower()
    if key == "skittles":
        return make_skittles()
    if key == "iris":
        return load_iris()
    if key == "penguins":
        return load_penguins()
    raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
