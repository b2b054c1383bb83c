"""gaussmle.inference against statsmodels and pingouin, from sufficient statistics."""

from __future__ import annotations

import numpy as np
import pytest

import gaussmle
from gaussmle import GaussianClassifier, GaussianStats
from gaussmle.inference import (
    box_m,
    class_statistics,
    covariance_structure_tests,
    henze_zirkler,
    hotelling,
    manova,
    mardia,
    model_tests,
)

sm_multi = pytest.importorskip("statsmodels.stats.multivariate")


def _classes(k: int = 3, d: int = 3, n: int = 40, seed: int = 0, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    Xs, ys = [], []
    for c in range(k):
        A = rng.normal(size=(d, d)) * (0.5 + c * 0.3) + np.eye(d)
        Xs.append(offset + rng.normal(size=(n + 7 * c, d)) @ A + c * 0.4)
        ys.append(np.full(n + 7 * c, c))
    return np.vstack(Xs), np.concatenate(ys)


def _full_model(X, y, covariance_type="full"):
    return GaussianClassifier(covariance_type=covariance_type).fit(X, y)


# ---------------------------------------------------------------------- Box's M
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_box_m_equals_statsmodels(covariance_type):
    X, y = _classes()
    ours = box_m(_full_model(X, y, covariance_type))
    groups = [X[y == c] for c in np.unique(y)]
    ref = sm_multi.test_cov_oneway(
        [np.cov(g, rowvar=False) for g in groups], [len(g) for g in groups]
    )
    assert ours.statistic == pytest.approx(ref.statistic_chi2, rel=1e-8)
    assert ours.pvalue == pytest.approx(ref.pvalue_chi2, rel=1e-8)
    assert ours.df == ref.df_chi2
    assert ours.m == pytest.approx(ref.statistic_base, rel=1e-8)
    assert ours.f_statistic == pytest.approx(ref.statistic_f, rel=1e-8)
    assert ours.f_pvalue == pytest.approx(ref.pvalue_f, rel=1e-8)
    assert ours.f_df == pytest.approx(ref.df_f, rel=1e-8)


def test_box_m_is_finite_at_d150_where_pingouin_overflows():
    d = 150
    rng = np.random.default_rng(3)
    scale = np.linspace(0.5, 20.0, d)  # variances up to 400: determinants overflow
    X = np.vstack([rng.normal(size=(n, d)) * scale for n in (220, 240)])
    y = np.repeat([0, 1], [220, 240])
    ours = box_m(_full_model(X, y))
    groups = [X[y == c] for c in (0, 1)]
    ref = sm_multi.test_cov_oneway(
        [np.cov(g, rowvar=False) for g in groups], [len(g) for g in groups]
    )
    assert np.isfinite(ours.statistic) and 0.0 < ours.pvalue < 1.0
    assert ours.statistic == pytest.approx(ref.statistic_chi2, rel=1e-8)
    assert ours.pvalue == pytest.approx(ref.pvalue_chi2, rel=1e-6, abs=1e-12)
    assert ours.f_statistic == pytest.approx(ref.statistic_f, rel=1e-8)
    pd = pytest.importorskip("pandas")
    pg = pytest.importorskip("pingouin")
    frame = pd.DataFrame(X, columns=[f"v{j}" for j in range(d)]).assign(g=y)
    with np.errstate(all="ignore"):
        theirs = pg.box_m(frame, dvs=[f"v{j}" for j in range(d)], group="g")
    assert not np.isfinite(float(theirs["Chi2"].iloc[0]))  # pingouin multiplies determinants


def test_box_m_from_a_far_offset_matches_the_centred_data():
    X, y = _classes()
    near = box_m(_full_model(X, y))
    far = box_m(_full_model(X + 1e8, y))
    assert far.statistic == pytest.approx(near.statistic, rel=1e-6)


def test_box_m_needs_full_scatter_and_enough_rows():
    X, y = _classes()
    with pytest.raises(ValueError, match="full scatter matrix.*covariance_type='full'"):
        box_m(GaussianClassifier().fit(X, y))
    few = np.vstack([X[:2], X[-2:]])
    with pytest.raises(ValueError, match="singular"):
        box_m(_full_model(few, [0, 0, 1, 1]))


# ---------------------------------------------------------------------- Hotelling
def test_hotelling_one_sample_equals_statsmodels_and_pingouin():
    X, _ = _classes(k=1, d=4, n=30)
    mu0 = np.array([0.1, -0.2, 0.0, 0.3])
    ours = hotelling(X, mean=mu0)
    ref = sm_multi.test_mvmean(X, mu0)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-8)
    assert ours.t2 == pytest.approx(ref.t2, rel=1e-8)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
    assert ours.df == tuple(map(float, ref.df))
    pg = pytest.importorskip("pingouin")
    theirs = pg.multivariate_ttest(X - mu0)
    assert ours.t2 == pytest.approx(float(theirs["T2"].iloc[0]), rel=1e-8)
    assert ours.pvalue == pytest.approx(float(theirs["pval"].iloc[0]), rel=1e-8)


def test_hotelling_two_samples_arrays_or_gaussians():
    X, y = _classes(k=2, d=3)
    a, b = X[y == 0], X[y == 1]
    ref = sm_multi.test_mvmean_2indep(a, b)
    for left, right in ((a, b), (gaussmle.fit(a, "full"), gaussmle.fit(b, "full"))):
        ours = hotelling(left, right)
        assert ours.statistic == pytest.approx(ref.statistic, rel=1e-8)
        assert ours.t2 == pytest.approx(ref.t2, rel=1e-8)
        assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
        assert ours.df == tuple(map(float, ref.df))
    pg = pytest.importorskip("pingouin")
    theirs = pg.multivariate_ttest(a, b)
    assert ours.t2 == pytest.approx(float(theirs["T2"].iloc[0]), rel=1e-8)


def test_hotelling_bad_input():
    X, _ = _classes(k=1, d=2)
    with pytest.raises(ValueError, match="not both"):
        hotelling(X, X, mean=[0.0, 0.0])
    with pytest.raises(ValueError, match="covariance_type='full'"):
        hotelling(gaussmle.fit(X))
    with pytest.raises(ValueError, match="mean has 3 values"):
        hotelling(X, mean=[0.0, 0.0, 0.0])


# ---------------------------------------------------------------------- MANOVA
def test_manova_equals_statsmodels():
    pd = pytest.importorskip("pandas")
    from statsmodels.multivariate.manova import MANOVA

    X, y = _classes(k=3, d=3)
    ours = manova(_full_model(X, y))
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(g=y)
    table = MANOVA.from_formula("a + b + c ~ C(g)", frame).mv_test().results["C(g)"]["stat"]
    names = ["Wilks' lambda", "Pillai's trace", "Hotelling-Lawley trace", "Roy's greatest root"]
    for name, result in zip(names, ours.results(), strict=True):
        row = table.loc[name]
        assert result.method == name
        assert result.value == pytest.approx(float(row["Value"]), rel=1e-8)
        assert result.statistic == pytest.approx(float(row["F Value"]), rel=1e-8)
        assert result.pvalue == pytest.approx(float(row["Pr > F"]), rel=1e-8)
        assert result.df == pytest.approx((float(row["Num DF"]), float(row["Den DF"])), rel=1e-8)


def test_manova_two_classes_is_hotelling():
    X, y = _classes(k=2, d=3)
    wilks = manova(_full_model(X, y)).wilks
    two = hotelling(X[y == 0], X[y == 1])
    assert wilks.statistic == pytest.approx(two.statistic, rel=1e-10)
    assert wilks.pvalue == pytest.approx(two.pvalue, rel=1e-10)


# ---------------------------------------------------------------------- structures
def _loglik_at_mle(X, covariance_type):
    g = gaussmle.fit(X, covariance_type)
    return g.loglik(X)


def test_structure_tests_are_twice_the_loglik_gap():
    X, y = _classes(k=2, d=3)
    tests = covariance_structure_tests(_full_model(X, y))
    by_key = {(t.group, t.null, t.alternative): t for t in tests}
    for c in (0, 1):
        Xc = X[y == c]
        for null, alt in (("spherical", "diag"), ("diag", "full")):
            t = by_key[(f"class '{c}'", null, alt)]
            gap = 2 * (_loglik_at_mle(Xc, alt) - _loglik_at_mle(Xc, null))
            assert t.statistic == pytest.approx(gap, rel=1e-9)
    d = 3
    assert by_key[("class '0'", "diag", "full")].df == d * (d - 1) / 2
    assert by_key[("class '0'", "spherical", "diag")].df == d - 1
    summed = by_key[("all classes", "diag", "full")]
    assert summed.statistic == pytest.approx(
        sum(by_key[(f"class '{c}'", "diag", "full")].statistic for c in (0, 1)), rel=1e-12
    )
    # tied < full: log-likelihoods of the tied and full classifiers on the training data
    tied = GaussianClassifier("tied", var_smoothing=0.0).fit(X, y).loglik(X, y)
    full = GaussianClassifier("full", var_smoothing=0.0).fit(X, y).loglik(X, y)
    t = by_key[("all classes", "tied", "full")]
    assert t.statistic == pytest.approx(2 * (full - tied), rel=1e-9)
    assert t.df == d * (d + 1) / 2


def test_structure_tests_of_a_diag_model_stop_at_diag():
    X, y = _classes(k=2, d=3)
    tests = covariance_structure_tests(GaussianClassifier().fit(X, y))
    assert {(t.null, t.alternative) for t in tests} == {("spherical", "diag")}
    assert [t.group for t in tests] == ["class '0'", "class '1'", "all classes", "pooled"]


def test_structure_test_detects_correlation_and_keeps_independence():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(400, 2))
    independent = np.column_stack([z[:, 0], 3 * z[:, 1]])
    correlated = np.column_stack([z[:, 0], z[:, 0] + 0.3 * z[:, 1]])
    X = np.vstack([independent, correlated])
    y = np.repeat([0, 1], 400)
    by_key = {
        (t.group, t.null, t.alternative): t for t in covariance_structure_tests(_full_model(X, y))
    }
    assert by_key[("class '0'", "diag", "full")].pvalue > 1e-3
    assert by_key[("class '1'", "diag", "full")].pvalue < 1e-20
    assert by_key[("class '0'", "spherical", "diag")].pvalue < 1e-20


def test_structure_tests_refuse_a_constant_feature_or_a_singular_class_by_name():
    X, y = _classes(k=2, d=3)
    constant = X.copy()
    constant[y == 1, 1] = 5.0
    for covariance_type in ("diag", "full"):
        stats = GaussianStats.from_groups(constant, y, 2, kind=covariance_type)
        with pytest.raises(ValueError, match=r"^class '1' has a constant feature"):
            covariance_structure_tests(GaussianClassifier(covariance_type).fit(constant, y))
        with pytest.raises(ValueError, match=r"^group 1 has a constant feature"):
            covariance_structure_tests(stats)
    collinear = X.copy()
    collinear[y == 0, 2] = 2 * collinear[y == 0, 0] - collinear[y == 0, 1]
    with pytest.raises(ValueError, match=r"^the scatter matrix of class '0' is singular"):
        covariance_structure_tests(_full_model(collinear, y))
    tied = covariance_structure_tests(GaussianStats.from_groups(X, y, 2, kind="full"))
    assert [t.df for t in tied if t.null == "tied"] == [6.0]


def test_class_statistics_skips_empty_classes_and_needs_a_fit():
    s = GaussianStats.from_groups([[0.0], [1.0], [5.0]], [0, 0, 2], 3)
    stats, labels = class_statistics(s)
    assert labels == ["group 0", "group 2"] and stats.count.tolist() == [2.0, 1.0]
    with pytest.raises(ValueError, match="not fitted"):
        class_statistics(GaussianClassifier())


# ---------------------------------------------------------------------- normality
def test_henze_zirkler_equals_pingouin_across_blocks(monkeypatch):
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(2)
    for X in (rng.normal(size=(300, 3)), rng.exponential(size=(150, 2))):
        theirs = pg.multivariate_normality(X)
        monkeypatch.setattr("gaussmle.normality.BLOCK_ROWS", 64)  # many blocks
        assert len(list(gaussmle.normality._blocks(len(X)))) == -(-len(X) // 64) > 1
        ours = henze_zirkler(X)
        assert ours.statistic == pytest.approx(theirs.hz, rel=1e-8)
        assert ours.pvalue == pytest.approx(theirs.pval, rel=1e-8, abs=1e-300)


def test_henze_zirkler_singular_is_four_n_like_pingouin():
    pg = pytest.importorskip("pingouin")
    t = np.arange(20.0)
    X = np.column_stack([t, 2 * t])
    ours = henze_zirkler(X)
    assert ours.statistic == 4 * 20 == pytest.approx(pg.multivariate_normality(X).hz)


def test_mardia_equals_the_textbook_formula(monkeypatch):
    from scipy import stats as sps

    X = np.random.default_rng(4).gamma(2.0, size=(90, 3))
    monkeypatch.setattr("gaussmle.normality.BLOCK_ROWS", 16)
    ours = mardia(X)
    n, p = X.shape
    dev = X - X.mean(0)
    G = dev @ np.linalg.inv(np.cov(X, rowvar=False, bias=True)) @ dev.T
    b1, b2 = (G**3).sum() / n**2, (np.diag(G) ** 2).mean()
    assert ours.skewness.value == pytest.approx(b1, rel=1e-9)
    assert ours.kurtosis.value == pytest.approx(b2, rel=1e-9)
    df = p * (p + 1) * (p + 2) / 6
    assert ours.skewness.pvalue == pytest.approx(sps.chi2.sf(n * b1 / 6, df), rel=1e-8)
    z = (b2 - p * (p + 2)) / np.sqrt(8 * p * (p + 2) / n)
    assert ours.kurtosis.statistic == pytest.approx(z, rel=1e-9)
    assert ours.skewness.pvalue < 1e-3  # gamma data are skewed


def test_results_are_frozen_and_serialisable():
    X, y = _classes(k=2, d=2)
    r = box_m(_full_model(X, y))
    with pytest.raises(AttributeError):
        r.statistic = 0.0  # type: ignore[misc]
    d = r.to_dict()
    assert d["method"] == "Box's M" and isinstance(d["f_df"], list)


def test_inference_is_lazy_public():
    assert gaussmle.inference.box_m is box_m


# ---------------------------------------------------------------------- model_tests
def test_model_tests_of_a_full_classifier_with_data():
    X, y = _classes(k=2, d=2)
    model = _full_model(X, y)
    rows = model_tests(model, X, y)
    tests = [(r.test, r.group) for r in rows]
    assert ("Box's M", "all classes") in tests and ("Wilks' lambda", "all classes") in tests
    assert ("Hotelling's T^2", "class '0' vs class '1'") in tests
    assert ("tied < full", "all classes") in tests
    assert ("Henze-Zirkler", "class '1'") in tests and ("Mardia skewness", "class '0'") in tests
    by = {(r.test, r.group): r.result for r in rows}
    assert by[("Box's M", "all classes")].statistic == box_m(model).statistic
    two = hotelling(X[y == 0], X[y == 1])
    assert by[("Hotelling's T^2", "class '0' vs class '1'")].t2 == pytest.approx(two.t2, rel=1e-10)
    assert by[("Henze-Zirkler", "class '1'")].statistic == henze_zirkler(X[y == 1]).statistic
    assert all(r.note is None for r in rows)


def test_model_tests_say_why_a_test_cannot_run():
    X, y = _classes(k=2, d=2)
    rows = model_tests(GaussianClassifier().fit(X, y))
    notes = {r.test: r.note for r in rows if r.result is None}
    assert "covariance_type='full'" in notes["Box's M"] and "MANOVA" in notes
    assert any(r.test == "spherical < diag" and r.result is not None for r in rows)


def test_model_tests_of_a_gaussian_match_its_class_tests():
    X, y = _classes(k=2, d=3)
    rows = model_tests(gaussmle.fit(X[y == 0], "full"), X[y == 0])
    per_class = covariance_structure_tests(_full_model(X, y))
    expected = {(t.null, t.alternative): t.statistic for t in per_class if t.group == "class '0'"}
    for r in rows[:2]:
        null, alt = r.test.split(" < ")
        assert r.result.statistic == pytest.approx(expected[(null, alt)], rel=1e-9)
    assert [r.test for r in rows[2:]] == ["Mardia skewness", "Mardia kurtosis", "Henze-Zirkler"]


def test_model_tests_normality_on_complete_rows_and_a_sample_of_big_classes(monkeypatch):
    X, y = _classes(k=2, d=2)
    gappy = X.copy()
    gappy[:5, 0] = np.nan
    model = GaussianClassifier(missing="marginalize").fit(gappy, y)
    rows = model_tests(model, gappy, y)
    hz = next(r for r in rows if r.test == "Henze-Zirkler")
    assert hz.group == "class '0' (35 complete rows of 40)"
    assert hz.result.statistic == henze_zirkler(X[5:40]).statistic
    monkeypatch.setattr("gaussmle.normality.NORMALITY_MAX_ROWS", 30)
    rows = model_tests(_full_model(X, y), X, y)
    assert next(r for r in rows if r.test == "Henze-Zirkler").group == "class '0' (30 of 40 rows)"


def test_tests_of_a_model_fitted_on_dask_or_merged_equal_the_in_memory_ones():
    da = pytest.importorskip("dask.array")
    X, y = _classes()
    whole = _full_model(X, y)
    with_dask = _full_model(da.from_array(X, chunks=23), da.from_array(y, chunks=23))
    half = len(y) // 2
    merged = _full_model(X[:half], y[:half]).merge(_full_model(X[half:], y[half:]))
    for other in (with_dask, merged):
        assert box_m(other).statistic == pytest.approx(box_m(whole).statistic, rel=1e-9)
        assert manova(other).pillai.value == pytest.approx(manova(whole).pillai.value, rel=1e-9)


def test_manova_at_the_hotelling_lawley_edge_equals_statsmodels():
    """N - k = p + 3 makes SAS's b infinite (statsmodels: numpy gives inf; we take the limit)."""
    pd = pytest.importorskip("pandas")
    from statsmodels.multivariate.manova import MANOVA

    rng = np.random.default_rng(0)
    X, g = rng.normal(size=(7, 2)), np.repeat([0, 1], [3, 4])
    ours = manova(GaussianStats.from_groups(X, g, 2, kind="full")).hotelling_lawley
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(g=g)
    with np.errstate(divide="ignore"):
        table = MANOVA.from_formula("a + b ~ C(g)", frame).mv_test().results["C(g)"]["stat"]
    row = table.loc["Hotelling-Lawley trace"]
    assert np.isfinite(ours.statistic) and ours.df == (2.0, 4.0)
    assert ours.statistic == pytest.approx(float(row["F Value"]), rel=1e-8)
    assert ours.pvalue == pytest.approx(float(row["Pr > F"]), rel=1e-8)
