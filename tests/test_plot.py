"""Figures: PNG files, axes, labels, legends, and the MLE where the maximum is."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import gaussmle  # noqa: E402
from gaussmle import GaussianClassifier  # noqa: E402
from gaussmle.plot import (  # noqa: E402
    _marginal,
    plot_class_densities,
    plot_decision,
    plot_labelled,
    plot_loglik_profile,
    plot_qq,
    plot_unlabelled,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAMES = ("aromatic lift", "elegance")
COVARIANCE_TYPES = ["diag", "full", "tied", "spherical"]


class Skittles:
    """The worked example: purple near (-1, -1), yellow near (1, 1)."""

    def __init__(self) -> None:
        try:
            from gaussmle.datasets import make_skittles
        except ImportError:  # pragma: no cover - the datasets module is optional here
            make_skittles = None
        if make_skittles is not None:
            ds = make_skittles(n_per_class=60, n_mystery=20, random_state=0)
            self.X, self.y, self.X_new = ds.X, ds.y, ds.X_new
            self.feature_names = tuple(ds.feature_names)
        else:  # pragma: no cover
            rng = np.random.default_rng(0)
            self.X = np.concatenate([rng.normal(-1, 0.6, (60, 2)), rng.normal(1, 0.5, (60, 2))])
            self.y = np.array(["purple"] * 60 + ["yellow"] * 60)
            self.X_new = rng.normal(0, 1.2, (20, 2))
            self.feature_names = NAMES


@pytest.fixture(scope="module")
def skittles() -> Skittles:
    return Skittles()


def _assert_png(path: Path) -> None:
    assert path.exists()
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5_000
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")) == []


def _legend_texts(ax: Any) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def _three_features(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(["purple", "yellow", "teal"]), 40)
    centres = {"purple": (-1.0, -1.0, 0.0), "yellow": (1.0, 1.0, 0.5), "teal": (2.5, -1.5, 1.0)}
    X = np.array([centres[c] for c in y]) + rng.normal(size=(120, 3)) @ np.diag([0.5, 0.7, 0.4])
    return X, y


# ---------------------------------------------------------------------- data
def test_plot_labelled(skittles: Skittles, tmp_path: Path) -> None:
    path = tmp_path / "labelled.png"
    fig = plot_labelled(skittles.X, skittles.y, skittles.feature_names, path=path)
    assert isinstance(fig, Figure)
    _assert_png(path)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == NAMES
    assert ax.get_title()
    assert _legend_texts(ax) == ["purple (n=60)", "yellow (n=60)"]
    # classes named after colours are drawn in those colours, with a dark edge
    faces = [tuple(c.get_facecolor()[0][:3]) for c in ax.collections]
    assert faces == [mcolors.to_rgb("purple"), mcolors.to_rgb("yellow")]
    edge = ax.collections[1].get_edgecolor()[0][:3]
    assert max(edge) < 0.3


def test_plot_labelled_palette_dataframe_and_colors() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 3.0, 2.0], "c": 0.0})
    fig = plot_labelled(frame, [1, 1, 2, 2], features=(2, 0))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("c", "a")
    faces = [tuple(c.get_facecolor()[0][:3]) for c in ax.collections]
    assert faces == [mcolors.to_rgb("C0"), mcolors.to_rgb("C1")]
    fig = plot_labelled(frame, ["x", "x", "y", "y"], colors={"x": "red", "y": "black"})
    faces = [tuple(c.get_facecolor()[0][:3]) for c in fig.axes[0].collections]
    assert faces == [mcolors.to_rgb("red"), mcolors.to_rgb("black")]
    assert fig.axes[0].get_xlabel() == "a"


def test_plot_labelled_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2 features"):
        plot_labelled(np.arange(4.0), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="two different column indices"):
        plot_labelled(np.eye(3), [0, 1, 1], features=(0, 0))
    with pytest.raises(ValueError, match="one label per row"):
        plot_labelled(np.eye(3), [0, 1])
    with pytest.raises(ValueError, match="feature_names has 1 names"):
        plot_labelled(np.eye(3), [0, 1, 1], feature_names=["a"])


def test_plot_unlabelled(skittles: Skittles, tmp_path: Path) -> None:
    path = tmp_path / "new.png"
    fig = plot_unlabelled(skittles.X_new, skittles.feature_names, path=path)
    _assert_png(path)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == NAMES
    assert _legend_texts(ax) == ["unlabelled (n=20)"]
    assert ax.get_title()
    fig = plot_unlabelled(skittles.X_new)
    assert fig.axes[0].get_xlabel() == "feature 0"


# ---------------------------------------------------------------------- models
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_plot_class_densities(skittles: Skittles, tmp_path: Path, covariance_type: str) -> None:
    clf = GaussianClassifier(covariance_type=covariance_type).fit(skittles.X, skittles.y)
    path = tmp_path / "densities.png"
    fig = plot_class_densities(
        clf, skittles.X, skittles.y, path=path, feature_names=skittles.feature_names
    )
    _assert_png(path)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == NAMES
    assert covariance_type in ax.get_title()
    texts = _legend_texts(ax)
    assert texts[:2] == ["purple (n=60)", "yellow (n=60)"]
    assert "class means" in texts and "density contours: 1, 2, 3 sd" in texts


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_marginal_blocks(covariance_type: str) -> None:
    X, y = _three_features()
    clf = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    full = GaussianClassifier(covariance_type="full").fit(X, y)
    for c in range(3):
        mean, cov = _marginal(clf, c, 2, 0)
        assert np.array_equal(mean, clf.means_[c, [2, 0]])
        assert cov.shape == (2, 2) and np.array_equal(cov, cov.T)
        if covariance_type == "full":
            expected = full.covariances_[c][np.ix_([2, 0], [2, 0])]
            assert np.allclose(cov, expected)
        elif covariance_type == "diag":
            assert np.allclose(cov, np.diag(np.diagonal(full.covariances_[c])[[2, 0]]))
        elif covariance_type == "tied":
            assert np.array_equal(cov, clf.covariances_[np.ix_([2, 0], [2, 0])])
        else:
            assert np.array_equal(cov, clf.covariances_[c] * np.eye(2))


def test_plot_class_densities_marginal_of_three_features(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    X, y = _three_features()
    frame = pd.DataFrame(X, columns=["sweet", "sour", "chewy"])
    clf = GaussianClassifier(covariance_type="full").fit(frame, y)
    fig = plot_class_densities(clf, frame, None, features=(0, 2), path=tmp_path / "m.png")
    _assert_png(tmp_path / "m.png")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("sweet", "chewy")
    assert "2-D marginal densities of 'sweet' and 'chewy'" in ax.get_title()
    assert "data (n=120)" in _legend_texts(ax)


def test_plot_decision_two_features(skittles: Skittles, tmp_path: Path) -> None:
    clf = GaussianClassifier(covariance_type="full").fit(skittles.X, skittles.y)
    path = tmp_path / "decision.png"
    fig = plot_decision(clf, skittles.X_new, X=skittles.X, y=skittles.y, path=path)
    _assert_png(path)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("feature 0", "feature 1")
    predicted = clf.predict(skittles.X_new)
    texts = _legend_texts(ax)
    for label in ("purple", "yellow"):
        assert f"predicted {label} (n={int((predicted == label).sum())})" in texts
        assert f"training: {label} (n=60)" in texts
    assert "decision boundary" in texts
    assert "other features" not in ax.get_title()
    # the region under each class mean is coloured as that class
    image = ax.get_images()[0]
    rgba = np.asarray(image.get_array())
    x_lo, x_hi, y_lo, y_hi = image.get_extent()
    for c, label in enumerate(clf.classes_):
        mx, my = clf.means_[c]
        col = int((mx - x_lo) / (x_hi - x_lo) * (rgba.shape[1] - 1) + 0.5)
        row = int((my - y_lo) / (y_hi - y_lo) * (rgba.shape[0] - 1) + 0.5)
        assert np.allclose(rgba[row, col, :3], mcolors.to_rgb(label))


def test_plot_decision_more_features_and_dataframe(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    X, y = _three_features()
    frame = pd.DataFrame(X, columns=["sweet", "sour", "chewy"])
    clf = GaussianClassifier().fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_decision(clf, frame.iloc[:15], features=(1, 0), path=tmp_path / "d.png")
    _assert_png(tmp_path / "d.png")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("sour", "sweet")
    assert "other features fixed at their overall mean" in ax.get_title()
    texts = _legend_texts(ax)
    assert sum(int(t.split("n=")[1].rstrip(")")) for t in texts if "predicted" in t) == 15


def test_plot_decision_refuses_wrong_width(skittles: Skittles) -> None:
    clf = GaussianClassifier().fit(skittles.X, skittles.y)
    with pytest.raises(ValueError, match="X_new has 3 features, but the model has 2"):
        plot_decision(clf, np.zeros((2, 3)))
    with pytest.raises(TypeError, match="fitted GaussianClassifier"):
        plot_decision(object(), skittles.X_new)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- likelihood
@pytest.mark.parametrize(("seed", "n", "loc"), [(3, 80, 2.0), (4, 5, -1e3), (5, 1000, 1e6)])
def test_plot_loglik_profile_marks_the_mle(tmp_path: Path, seed: int, n: int, loc: float) -> None:
    x = np.random.default_rng(seed).normal(loc, 1.5, size=n)
    path = tmp_path / "profile.png"
    fig = plot_loglik_profile(x, path=path if seed == 3 else None, name="x")
    if seed == 3:
        _assert_png(path)
    assert len(fig.axes) == 2
    mle = gaussmle.fit(x)
    mu_hat, s2_hat = float(mle.mean[0]), float(mle.covariance[0])
    for ax, best in zip(fig.axes, (mu_hat, s2_hat), strict=True):
        lines = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
        mark = np.asarray(lines["mle"].get_xdata(), dtype=float)
        assert mark[0] == best and mark[-1] == best
        grid = np.asarray(lines["loglik"].get_xdata(), dtype=float)
        ll = np.asarray(lines["loglik"].get_ydata(), dtype=float)
        assert grid[np.argmax(ll)] == best
        assert ax.get_xlabel() and ax.get_ylabel() == "log-likelihood"
        assert ax.get_title()
        assert _legend_texts(ax)[0] == "log-likelihood"
        assert any(best_text in t.get_text() for t in ax.texts for best_text in ["maximum at"])

    # an independent fine grid, with Gaussian.loglik: the maximum sits at the MLE
    step_mu = 1e-4
    mus = mu_hat + step_mu * np.arange(-500, 501) + 0.37 * step_mu
    ll_mu = [gaussmle.Gaussian([m], [s2_hat], "diag").loglik(x) for m in mus]
    assert abs(mus[int(np.argmax(ll_mu))] - mu_hat) <= step_mu / 2 + 1e-12
    step_s2 = 1e-4 * s2_hat
    s2s = s2_hat + step_s2 * np.arange(-500, 501) + 0.37 * step_s2
    ll_s2 = [gaussmle.Gaussian([mu_hat], [s], "diag").loglik(x) for s in s2s]
    assert abs(s2s[int(np.argmax(ll_s2))] - s2_hat) <= step_s2 / 2 + 1e-12


def test_plot_loglik_profile_input_shapes() -> None:
    fig = plot_loglik_profile(np.array([[1.0], [2.0], [4.0], [5.0]]))
    marks = [ln.get_xdata()[0] for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == "mle"]
    assert marks == [3.0, 2.5]
    with pytest.raises(ValueError, match="x must be one feature"):
        plot_loglik_profile(np.ones((4, 2)))
    with pytest.raises(ValueError, match="feature 0 is constant"):
        plot_loglik_profile([1.0, 1.0, 1.0])


def test_plot_qq(skittles: Skittles, tmp_path: Path) -> None:
    path = tmp_path / "qq.png"
    fig = plot_qq(None, skittles.X, skittles.y, path=path, feature_names=skittles.feature_names)
    _assert_png(path)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [f"{c}: {f}" for c in ("purple", "yellow") for f in NAMES]
    for ax in fig.axes:
        assert ax.get_xlabel() == "normal quantile"
        assert ax.get_ylabel() == "standardised value"
        assert _legend_texts(ax) == ["data (n=60)", "y = x (Gaussian)"]
    clf = GaussianClassifier(covariance_type="tied").fit(skittles.X, skittles.y)
    assert len(plot_qq(clf, skittles.X, skittles.y, features=[1]).axes) == 2


def test_plot_qq_limits_the_panels() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 40)), np.repeat([0, 1], 100)
    with pytest.raises(ValueError, match="pass features= to choose a few columns"):
        plot_qq(None, X, y)


# ---------------------------------------------------------------------- files
def test_unwritable_figure_path(skittles: Skittles, tmp_path: Path) -> None:
    with pytest.raises(OSError, match="cannot write the figure to .*does not exist"):
        plot_unlabelled(skittles.X_new, path=tmp_path / "missing" / "f.png")


def test_no_pyplot_state(
    skittles: Skittles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Figures never go through pyplot: no figure is registered with it, and the
    plots work where importing pyplot fails (whether or not it was imported)."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import now fails
    monkeypatch.delattr(matplotlib, "pyplot")
    with pytest.raises(ImportError):
        importlib.import_module("matplotlib.pyplot")
    with pytest.raises(ImportError):
        from matplotlib import pyplot  # noqa: F401
    clf = GaussianClassifier().fit(skittles.X, skittles.y)
    figures = [
        plot_labelled(skittles.X, skittles.y),
        plot_unlabelled(skittles.X_new),
        plot_class_densities(clf, skittles.X, skittles.y),
        plot_decision(clf, skittles.X_new, path=tmp_path / "d.png"),
        plot_loglik_profile(skittles.X[:, 0]),
    ]
    assert all(isinstance(fig, Figure) for fig in figures)
    assert plt.get_fignums() == before
