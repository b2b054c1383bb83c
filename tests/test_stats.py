"""GaussianStats: chunking, merging, weights and offsets."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaussmle import GaussianStats

KINDS = ["diag", "full"]


def reference_stats(X, w=None, kind="diag"):
    """Direct two-pass statistics in float64 (the textbook definition)."""
    X = np.asarray(X, dtype=np.float64)
    w = np.ones(len(X)) if w is None else np.asarray(w, dtype=np.float64)
    n = w.sum()
    mean = w @ X / n
    dev = X - mean
    m2 = w @ (dev * dev) if kind == "diag" else (dev * w[:, None]).T @ dev
    return n, mean, m2


def assert_stats(s, n, mean, m2, rtol=1e-10, scale=None):
    assert np.isclose(float(s.count), n, rtol=rtol)
    atol_mean = rtol * (scale if scale is not None else np.abs(mean).max() + 1e-300)
    np.testing.assert_allclose(s.mean, mean, rtol=rtol, atol=atol_mean)
    np.testing.assert_allclose(s.m2, m2, rtol=rtol, atol=rtol * np.abs(m2).max())


@pytest.mark.parametrize("kind", KINDS)
def test_from_data_matches_definition(kind):
    rng = np.random.default_rng(1)
    X = rng.normal(3.0, 2.0, size=(1000, 4))
    s = GaussianStats.from_data(X, kind=kind, chunk_rows=97)
    assert_stats(s, *reference_stats(X, kind=kind))
    assert s.m2.shape == ((4,) if kind == "diag" else (4, 4))


def test_one_dimensional_input_is_one_feature():
    s = GaussianStats.from_data([1.0, 2.0, 3.0])
    assert s.n_features == 1
    assert s.variance.tolist() == pytest.approx([2.0 / 3.0])


finite_rows = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.lists(
        st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=3),
        min_size=n,
        max_size=n,
    )
)


@settings(max_examples=60, deadline=None)
@given(rows=finite_rows, cuts=st.lists(st.integers(0, 40), max_size=5), kind=st.sampled_from(KINDS))
def test_any_chunking_gives_the_same_statistics(rows, cuts, kind):
    X = np.array(rows) + 1e6  # far from the origin
    whole = GaussianStats.from_data(X, kind=kind)
    edges = sorted({min(c, len(X)) for c in cuts} | {0, len(X)})
    parts = [
        GaussianStats.from_data(X[a:b], kind=kind)
        for a, b in zip(edges[:-1], edges[1:], strict=False)
        if b > a
    ]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged + p
    scale = np.abs(whole.m2).max() + 1e-9
    np.testing.assert_allclose(merged.count, whole.count, rtol=1e-12)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-10)
    np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-10, atol=1e-10 * scale)
    by_rows = GaussianStats.from_data(X, kind=kind, chunk_rows=max(1, len(X) // 3))
    np.testing.assert_allclose(by_rows.m2, whole.m2, rtol=1e-10, atol=1e-10 * scale)


def _random_stats(seed, kind, d=3):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    X = rng.normal(rng.normal(0, 100, d), rng.uniform(0.1, 10, d), size=(n, d))
    w = rng.uniform(0.1, 3.0, n)
    return GaussianStats.from_data(X, w, kind=kind)


@settings(max_examples=40, deadline=None)
@given(
    seeds=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6)),
    kind=st.sampled_from(KINDS),
)
def test_merge_is_associative_and_commutative(seeds, kind):
    a, b, c = (_random_stats(s, kind) for s in seeds)
    left = (a + b) + c
    right = a + (b + c)
    swapped = c + (b + a)
    assert left.allclose(right, rtol=1e-10, atol=1e-9)
    assert left.allclose(swapped, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_empty_is_the_identity_exactly(kind):
    s = _random_stats(7, kind)
    e = GaussianStats.empty(3, kind)
    for merged in (s + e, e + s):
        assert np.array_equal(merged.mean, s.mean)
        assert np.array_equal(merged.m2, s.m2)
        assert float(merged.count) == float(s.count)
    assert float((e + e).count) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    weights=st.lists(st.integers(0, 4), min_size=2, max_size=25).filter(lambda w: sum(w) > 0),
    kind=st.sampled_from(KINDS),
)
def test_integer_weights_equal_repeated_rows(weights, kind):
    rng = np.random.default_rng(len(weights))
    X = rng.normal(50.0, 3.0, size=(len(weights), 3))
    weighted = GaussianStats.from_data(X, np.array(weights), kind=kind, chunk_rows=4)
    repeated = GaussianStats.from_data(np.repeat(X, weights, axis=0), kind=kind)
    assert weighted.allclose(repeated, rtol=1e-10, atol=1e-10 * np.abs(repeated.m2).max())


@pytest.mark.parametrize("kind", KINDS)
def test_weight_zero_equals_removing_the_row(kind):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 3))
    w = rng.uniform(0.5, 2.0, 50)
    w[[0, 17, 49]] = 0.0
    keep = w > 0
    a = GaussianStats.from_data(X, w, kind=kind, chunk_rows=16)
    b = GaussianStats.from_data(X[keep], w[keep], kind=kind)
    assert a.allclose(b, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-1e7, 1e7), kind=st.sampled_from(KINDS))
def test_shifting_the_data_shifts_only_the_mean(shift, kind):
    rng = np.random.default_rng(5)
    X = rng.normal(0.0, 2.0, size=(64, 3))
    a = GaussianStats.from_data(X, kind=kind, chunk_rows=10)
    b = GaussianStats.from_data(X + shift, kind=kind, chunk_rows=10)
    np.testing.assert_allclose(b.mean, a.mean + shift, rtol=1e-12, atol=1e-9)
    # the shifted data itself is rounded at the scale of |shift|
    tol = 1e-9 + 64 * np.finfo(float).eps * (abs(shift) + 10) * 10
    np.testing.assert_allclose(b.m2, a.m2, rtol=tol)
    assert float(b.count) == float(a.count)


@pytest.mark.parametrize("kind", KINDS)
def test_large_offset_tiny_spread(kind):
    rng = np.random.default_rng(11)
    Z = rng.standard_normal((200_000, 2))
    X = 1e9 + 1e-3 * Z
    exact = (X - 1e9).var(axis=0)  # subtraction is exact here, so this is the truth
    one = GaussianStats.from_data(X, kind=kind)
    np.testing.assert_allclose(one.variance, exact, rtol=1e-6)
    merged = GaussianStats.empty(2, kind)
    for part in np.array_split(X, 8):
        merged = merged + GaussianStats.from_data(part, kind=kind)
    np.testing.assert_allclose(merged.variance, exact, rtol=1e-6)
    # the raw-moment form this project refuses returns garbage here
    raw = (X * X).mean(axis=0) - X.mean(axis=0) ** 2
    assert not np.allclose(raw, exact, rtol=1e-1)


def test_float32_input_accumulates_in_float64():
    rng = np.random.default_rng(12)
    X32 = (1e4 + 1e-2 * rng.standard_normal((100_000, 3))).astype(np.float32)
    exact = X32.astype(np.float64)
    truth = (exact - exact.mean(axis=0)).var(axis=0)
    s = GaussianStats.from_data(X32)
    assert s.mean.dtype == np.float64
    np.testing.assert_allclose(s.variance, truth, rtol=1e-6)
    np.testing.assert_allclose(s.mean, exact.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_from_groups_matches_per_group_from_data(kind):
    rng = np.random.default_rng(4)
    X = rng.normal(1e6, 1.0, size=(500, 3))
    g = rng.integers(0, 4, 500)
    w = rng.uniform(0, 2, 500)
    s = GaussianStats.from_groups(X, g, 5, w, kind=kind, chunk_rows=37)
    assert s.batch_shape == (5,)
    for k in range(4):
        mask = g == k
        one = GaussianStats.from_data(X[mask], w[mask], kind=kind)
        assert s[k].allclose(one, rtol=1e-10, atol=1e-9)
    assert float(s.count[4]) == 0.0
    pooled = s.pooled()
    assert pooled.allclose(GaussianStats.from_data(X, w, kind=kind), rtol=1e-9, atol=1e-8)


def test_stack_and_to_diag():
    a = GaussianStats.from_data([[0.0, 1.0], [2.0, 3.0]], kind="full")
    b = GaussianStats.from_data([[5.0, 1.0], [7.0, 9.0]], kind="full")
    s = GaussianStats.stack([a, b])
    assert s.batch_shape == (2,)
    assert s.to_diag()[1].m2.tolist() == [2.0, 32.0]
    with pytest.raises(ValueError, match="different kinds"):
        GaussianStats.stack([a, a.to_diag()])


def test_immutable():
    s = GaussianStats.from_data([[1.0], [2.0]])
    with pytest.raises(ValueError):
        s.mean[0] = 5.0
    with pytest.raises(AttributeError):
        s.count = 3.0


def test_merge_refuses_mismatches():
    a = GaussianStats.from_data([[1.0, 2.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match="features must match"):
        a + GaussianStats.from_data([[1.0], [2.0]])
    with pytest.raises(ValueError, match="to_diag"):
        a + GaussianStats.from_data([[1.0, 2.0], [2.0, 3.0]], kind="full")
    with pytest.raises(TypeError):
        a.merge(3)


@pytest.mark.parametrize(
    ("X", "w", "message"),
    [
        ([[1.0, np.nan]], None, "NaN at row 0, column 1"),
        ([[1.0, np.inf]], None, "infinity"),
        (np.empty((0, 2)), None, "empty"),
        ([[1.0, 2.0], [3.0]], None, "ragged"),
        ([["a", "b"]], None, "non-numeric"),
        ([[1.0], [2.0]], [1.0], "one weight per row"),
        ([[1.0], [2.0]], [1.0, -1.0], "negative"),
        ([[1.0], [2.0]], [0.0, 0.0], "all zero"),
        ([[1.0], [2.0]], [1.0, np.nan], "NaN"),
    ],
)
def test_bad_input_is_refused_with_a_message(X, w, message):
    with pytest.raises(ValueError, match=message):
        GaussianStats.from_data(X, w)


@pytest.mark.parametrize("kind", KINDS)
def test_merging_many_chunks_far_from_the_origin_is_exact(kind):
    """Means travel as double-double sums, so merges at offset 1e9 lose nothing."""
    rng = np.random.default_rng(13)
    X = 1e9 + 1e-3 * rng.standard_normal((50_000, 2))
    exact_var = (X - 1e9).var(axis=0)  # exact subtraction
    exact_mean = (X - 1e9).mean(axis=0)
    merged = GaussianStats.empty(2, kind)
    for part in np.array_split(X, 97):
        merged = merged + GaussianStats.from_data(part, kind=kind)
    np.testing.assert_allclose(merged.variance, exact_var, rtol=1e-12)
    # the double-double mean is right far below the float64 spacing at 1e9 (1.2e-7)
    np.testing.assert_allclose((merged.mean - 1e9) + merged.lo, exact_mean, atol=1e-15)
    pooled = GaussianStats.from_groups(X, np.arange(50_000) % 3, 3, kind=kind).pooled()
    np.testing.assert_allclose(pooled.variance, exact_var, rtol=1e-12)


def test_regroup_and_shifted_keep_every_field():
    X = np.array([[1.0, np.nan], [2.0, 4.0], [3.0, 5.0]])
    s = GaussianStats.from_groups(X, [0, 0, 1], 2, missing="ignore").shifted(np.array([1e9, 0.0]))
    moved = s.regroup([1, 3], 4)
    assert moved.count.tolist() == [0.0, 2.0, 0.0, 1.0]
    assert moved.feature_count.tolist()[1] == [2.0, 1.0]
    assert np.array_equal(moved.lo[[1, 3]], s.lo)
    assert np.array_equal(moved.mean[[1, 3]], s.mean)


@pytest.mark.parametrize(
    "codes",
    [
        np.r_[np.zeros(5000, dtype=np.intp), 2],  # group 2 only in the last row
        np.r_[np.zeros(5000, dtype=np.intp), np.ones(3, dtype=np.intp)],  # group 2 absent
        np.array([2, 0, 1]),
    ],
)
def test_reference_rows_are_rows_of_their_group(codes):
    from gaussmle._moments import group_reference_rows

    X = np.arange(codes.size * 2, dtype=float).reshape(-1, 2) + 1.0
    ref = group_reference_rows(X, codes, 3)
    for g in range(3):
        rows = X[codes == g]
        if rows.size:
            assert any(np.array_equal(ref[g], row) for row in rows)
        else:
            assert np.array_equal(ref[g], np.zeros(2))
