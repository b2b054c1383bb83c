"""summary(): fit statistics from sufficient statistics, estimates, tests; text, HTML, LaTeX."""

from __future__ import annotations

import numpy as np
import pytest

import gaussmle
from gaussmle import GaussianClassifier
from gaussmle.inference import box_m
from gaussmle.summary import Summary, gaussian_loglik, summarize, training_loglik


def _data(seed: int = 0, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (30, 3)), rng.normal(2, 1.5, (45, 3)) @ np.diag([1, 2, 0.5])])
    y = np.repeat(["a", "b"], [30, 45])
    return X + offset, y


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied", "spherical"])
@pytest.mark.parametrize("params", [{}, {"estimator": "map"}, {"priors": [0.3, 0.7]}])
def test_training_loglik_from_statistics_equals_loglik_on_the_data(covariance_type, params):
    X, y = _data()
    clf = GaussianClassifier(covariance_type=covariance_type, var_smoothing=1e-3, **params)
    clf.fit(X, y)
    assert training_loglik(clf) == pytest.approx(clf.loglik(X, y), rel=1e-10)
    s = clf.summary()
    assert s.fit["aic"] == pytest.approx(clf.aic(X, y), rel=1e-10)
    assert s.fit["bic"] == pytest.approx(clf.bic(X, y), rel=1e-10)


def test_training_loglik_with_missing_values_and_far_offset():
    X, y = _data(offset=1e6)
    X[::7, 1] = np.nan
    clf = GaussianClassifier(missing="marginalize").fit(X, y)
    assert training_loglik(clf) == pytest.approx(clf.loglik(X, y), rel=1e-9)


def test_predictive_model_has_no_training_loglik():
    X, y = _data()
    s = GaussianClassifier(predictive=True).fit(X, y).summary()
    assert s.fit["prior"].startswith("Prior: the means are centred")
    assert GaussianClassifier().fit(X, y).summary().fit["prior"] is None
    assert s.fit["loglik"] is None and "log-likelihood" not in s.as_text().split("Classes")[0]


def test_gaussian_loglik_at_the_mle():
    X, _ = _data()
    for kind in ("diag", "full", "spherical"):
        g = gaussmle.fit(X, kind)
        assert gaussian_loglik(g) == pytest.approx(g.loglik(X), rel=1e-10)
    assert gaussian_loglik(gaussmle.fit(X, estimator="map")) is None


def test_summary_holds_estimates_and_tests_of_the_api():
    X, y = _data()
    clf = GaussianClassifier("full").fit(X, y)
    s = clf.summary()
    assert isinstance(s, Summary)
    assert s.fit["rows"] == 75 and s.fit["features"] == 3 and s.fit["classes"] == 2
    assert s.fit["n_parameters"] == clf.n_parameters
    first = s.estimates[0]
    g = gaussmle.fit(X[y == "a"], "full")
    assert first["class"] == "a" and first["feature"] == "x0"
    assert first["mean"] == pytest.approx(g.mean[0], rel=1e-12)
    assert first["mean_se"] == pytest.approx(g.standard_errors()["mean"][0], rel=1e-6)
    box = next(r for r in s.tests if r.test == "Box's M")
    assert box.result.statistic == box_m(clf).statistic
    text = s.as_text()
    assert "Box's M" in text and "Correlations within class a" in text
    assert f"{box.result.statistic:.4g}"[:5] in text


def test_summary_with_data_adds_normality():
    X, y = _data()
    s = GaussianClassifier("full").fit(X, y).summary(X, y)
    groups = {(r.test, r.group) for r in s.tests}
    assert ("Henze-Zirkler", "class 'b'") in groups
    assert s.fit["data"]["rows"] == 75 and "Shapiro-Wilk" in s.as_text()


def test_renderers_html_latex_frame_and_jupyter():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    s = GaussianClassifier("tied").fit(X, y).summary()
    page = s.as_html()
    assert page.startswith('<div class="gm-summary">') and "<script" not in page
    assert page.count("<table>") == sum(1 for b in s.blocks if hasattr(b, "header"))
    assert "Box&#x27;s M" in page  # escaped
    latex = s.as_latex()
    assert r"\begin{tabular}" in latex and "Box's M" in latex and r"x\_0" not in latex
    frame = s.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2 * 3
    assert frame["mean_low"].lt(frame["mean"]).all() and frame["mean"].lt(frame["mean_high"]).all()
    assert {"test", "statistic", "pvalue"} <= set(s.tests_frame().columns)
    bundle = s._repr_mimebundle_()
    assert bundle["text/plain"] == s.as_text() and bundle["text/html"] == s._repr_html_()


def test_latex_escapes_feature_names():
    X, y = _data()
    import pandas as pd

    frame = pd.DataFrame(X, columns=["a_1", "b%", "c&d"])
    latex = GaussianClassifier().fit(frame, y).summary().as_latex()
    assert r"a\_1" in latex and r"b\%" in latex and r"c\&d" in latex


def test_sklearn_html_repr_is_unchanged():
    X, y = _data()
    clf = GaussianClassifier().fit(X, y)
    assert "gm-summary" not in clf._repr_html_()


def test_summarize_refuses_other_objects():
    with pytest.raises(TypeError, match="cannot summarise a dict"):
        summarize({})


def test_gaussian_summary_text():
    X, _ = _data()
    s = gaussmle.fit(X, "full").summary(X)
    text = s.as_text()
    assert "Log-likelihood at the MLE" in text and "diag < full" in text
    assert "Henze-Zirkler" in text
    assert gaussmle.fit(X, estimator="map").summary().fit["aic"] is None


# ---------------------------------------------------------------------- mixtures
def _mixture(covariance_type: str, sample_weight=None):
    from gaussmle import GaussianMixture

    X, _ = _data(seed=4)
    gm = GaussianMixture(2, covariance_type=covariance_type, random_state=0)
    return gm.fit(X, sample_weight=sample_weight), X


def _dense_covariances(gm) -> np.ndarray:
    """(k, d, d) covariances of any covariance type (the test's own expansion)."""
    k, d = gm.means_.shape
    cov = np.asarray(gm.covariances_)
    return {
        "full": lambda: cov,
        "tied": lambda: np.repeat(cov[None], k, axis=0),
        "diag": lambda: np.stack([np.diag(v) for v in cov]),
        "spherical": lambda: np.stack([v * np.eye(d) for v in cov]),
    }[gm.covariance_type]()


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied", "spherical"])
def test_mixture_summary_fit_statistics_and_components(covariance_type):
    gm, X = _mixture(covariance_type)
    s = gm.summary()
    n, d = X.shape
    assert isinstance(s, Summary) and s.tests == ()
    fit = s.fit
    assert (fit["features"], fit["components"]) == (d, 2)
    assert fit["rows"] == pytest.approx(n, rel=1e-12)
    assert fit["n_parameters"] == gm._n_parameters()
    assert fit["converged"] is bool(gm.converged_) and fit["n_iter"] == gm.n_iter_
    assert fit["loglik"] == pytest.approx(gm.lower_bound_ * n, rel=1e-12)
    p = fit["n_parameters"]
    assert fit["aic"] == pytest.approx(2 * p - 2 * fit["loglik"], rel=1e-12)
    assert fit["bic"] == pytest.approx(p * np.log(n) - 2 * fit["loglik"], rel=1e-12)
    # the estimates: weight, mean and variance per component and feature
    assert len(s.estimates) == 2 * d
    variances = np.diagonal(_dense_covariances(gm), axis1=1, axis2=2)
    for e in s.estimates:
        c, j = e["component"], int(e["feature"][1:])
        assert e["weight"] == gm.weights_[c]
        assert e["mean"] == gm.means_[c, j] and e["variance"] == variances[c, j]
    frame = s.to_frame()
    assert frame.shape[0] == 2 * d and list(frame.columns[:3]) == ["component", "weight", "feature"]
    text = s.as_text()
    assert text.startswith(
        f"GaussianMixture: a mixture of 2 Gaussians, covariance {covariance_type}"
    )
    assert "last E-step" in text and "Components" in text
    covariance_titles = {
        "full": ["Covariance of component 0", "Covariance of component 1"],
        "tied": ["Covariance (shared by all components)"],
    }.get(covariance_type, [])
    assert [
        t
        for t in (
            "Covariance of component 0",
            "Covariance of component 1",
            "Covariance (shared by all components)",
        )
        if t in text
    ] == covariance_titles
    html = s.as_html()
    assert html.startswith('<div class="gm-summary">') and "<script" not in html
    assert html.count("<table>") == 3 + len(covariance_titles)
    assert r"\begin{tabular}" in s.as_latex()


def test_mixture_summary_on_data_is_exact_and_matches_aic_bic():
    gm, X = _mixture("full")
    s = gm.summary(X)
    n = X.shape[0]
    assert s.fit["loglik_source"] == "data"
    assert s.fit["loglik"] == pytest.approx(gm.score(X) * n, rel=1e-12)
    assert s.fit["aic"] == pytest.approx(gm.aic(X), rel=1e-12)
    assert s.fit["bic"] == pytest.approx(gm.bic(X), rel=1e-12)
    assert "on 75 rows of the data" in s.as_text()
    # the matrices shown are the fitted covariances, rounded to 4 significant digits
    text = s.as_text()
    block = text[text.index("Covariance of component 1") :].splitlines()[2:5]
    shown = np.array([[float(v) for v in line.split()[1:]] for line in block])
    np.testing.assert_allclose(shown, gm.covariances_[1], rtol=5e-3, atol=5e-4)


def test_mixture_summary_counts_weighted_rows():
    X, _ = _data(seed=4)
    w = np.where(np.arange(X.shape[0]) % 3 == 0, 2.0, 0.5)
    gm, _ = _mixture("diag", sample_weight=w)
    s = gm.summary()
    assert s.fit["rows"] == pytest.approx(w.sum(), rel=1e-12)
    assert s.fit["loglik"] == pytest.approx(gm.lower_bound_ * w.sum(), rel=1e-12)


def test_mixture_summary_needs_a_fitted_mixture():
    from sklearn.exceptions import NotFittedError

    from gaussmle import GaussianMixture

    with pytest.raises(NotFittedError):
        GaussianMixture(2).summary()
