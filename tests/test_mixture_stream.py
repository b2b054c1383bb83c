"""GaussianMixture.partial_fit: stepwise online EM over running averages of exact statistics."""

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from gaussmle import GaussianMixture, GaussianStats, mixture

TYPES = ["full", "tied", "diag", "spherical"]
CENTRES = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 5.0]]) + 3.0
START = {
    "weights_init": np.full(3, 1 / 3),
    "means_init": CENTRES + np.array([[0.5, 0.5], [-0.5, 0.5], [0.5, -0.5]]),
}


def unit_precisions(covariance_type, k=3, d=2):
    return {
        "full": np.array([np.eye(d)] * k),
        "tied": np.eye(d),
        "diag": np.ones((k, d)),
        "spherical": np.ones(k),
    }[covariance_type]


@lru_cache
def batch_em(covariance_type, n_batches):
    """Batch EM on the whole stream from the shared start, to convergence (computed once)."""
    kw = dict(covariance_type=covariance_type, precisions_init=unit_precisions(covariance_type))
    model = GaussianMixture(3, tol=1e-10, max_iter=500, **kw, **START)
    return model.fit(np.vstack(stream(n_batches=n_batches)))


def stream(n_batches=40, rows=2000, seed=1):
    """A stationary stream: batches from one three-component mixture in two dimensions."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        label = rng.choice(3, size=rows, p=[0.5, 0.3, 0.2])
        out.append(CENTRES[label] + rng.normal(size=(rows, 2)) * np.array([1.0, 0.7]))
    return out


def rel(a, b):
    """Largest absolute difference relative to the largest entry of the reference."""
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


# ---------------------------------------------------------------------- online against batch
@pytest.mark.parametrize("covariance_type", TYPES)
def test_online_ends_near_batch_em_from_the_same_start(covariance_type, path):
    batches = stream()
    prec = unit_precisions(covariance_type)
    kw = dict(covariance_type=covariance_type, precisions_init=prec, **START)
    batch = batch_em(covariance_type, 40)
    assert batch.converged_
    online = GaussianMixture(3, **kw)
    for X in batches:
        online.partial_fit(X)
    assert online.n_batches_seen_ == 40
    assert rel(online.means_, batch.means_) < 1e-2
    assert rel(online.covariances_, batch.covariances_) < 1e-2
    assert rel(online.weights_, batch.weights_) < 1e-2
    # the first step alone is far from it: the agreement is the stream's doing
    first = GaussianMixture(3, **kw).partial_fit(batches[0])
    after_one = rel(first.covariances_, batch.covariances_)
    assert after_one > rel(online.covariances_, batch.covariances_)


def test_faster_forgetting_schedule_also_agrees():
    batches = stream(n_batches=30)
    kw = dict(covariance_type="diag", precisions_init=unit_precisions("diag"), **START)
    batch = batch_em("diag", 30)
    online = GaussianMixture(3, learning_decay=0.6, learning_offset=20.0, **kw)
    for X in batches:
        online.partial_fit(X)
    assert rel(online.means_, batch.means_) < 1e-2
    assert rel(online.covariances_, batch.covariances_) < 2e-2


def test_first_call_from_the_inits_is_one_em_step(path):
    X = stream(n_batches=1, rows=500)[0]
    kw = dict(covariance_type="full", precisions_init=unit_precisions("full"), **START)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one_step = GaussianMixture(3, max_iter=1, **kw).fit(X)
    online = GaussianMixture(3, **kw).partial_fit(X)
    np.testing.assert_allclose(online.means_, one_step.means_, rtol=1e-12)
    np.testing.assert_allclose(online.covariances_, one_step.covariances_, rtol=1e-12)
    np.testing.assert_allclose(online.weights_, one_step.weights_, rtol=1e-12)
    assert online.n_batches_seen_ == 1 and online.weight_seen_ == 500.0


def test_first_call_initialises_with_init_params():
    X = stream(n_batches=1, rows=600)[0]
    gm = GaussianMixture(3, init_params="k-means++", random_state=0).partial_fit(X)
    order = np.argsort(gm.means_[:, 0] + 10 * gm.means_[:, 1])
    expected = CENTRES[np.argsort(CENTRES[:, 0] + 10 * CENTRES[:, 1])]
    assert np.abs(gm.means_[order] - expected).max() < 0.5


# ---------------------------------------------------------------------- the update itself
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_partial_fit_after_fit_continues_with_the_running_average(covariance_type):
    first, second = stream(n_batches=2, rows=400, seed=3)
    fitted = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(first)
    assert fitted.n_batches_seen_ == 1
    before = fitted.component_stats_
    R = fitted.predict_proba(second)  # the E-step under the fitted parameters
    kind = before.kind
    batch = GaussianStats.stack(GaussianStats.from_data(second, R[:, c], kind) for c in range(3))
    gamma = 0.5  # (2 + 0) ** -1: the fit counts as the first batch
    count = (1 - gamma) * before.count / 400 + gamma * batch.count / 400
    mean = ((1 - gamma) * before.count[:, None] * before.mean
            + gamma * batch.count[:, None] * batch.mean) / (400 * count[:, None])  # fmt: skip
    fitted.partial_fit(second)
    assert fitted.n_batches_seen_ == 2 and fitted.weight_seen_ == 800.0
    np.testing.assert_allclose(fitted.weights_, count / count.sum(), rtol=1e-10)
    np.testing.assert_allclose(fitted.means_, mean, rtol=1e-10)
    np.testing.assert_allclose(fitted.component_stats_.count.sum(), 800.0, rtol=1e-12)
    assert fitted.lower_bounds_[-1] == pytest.approx(fitted.lower_bound_)


def test_running_average_is_the_weighted_union_exactly_far_out():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 2)) + 1e9, rng.normal(size=(5, 2)) + 1e9
    gamma = 0.3
    avg = mixture.running_average(
        GaussianStats.from_data(a, kind="full"), GaussianStats.from_data(b, kind="full"), gamma
    )
    w = np.concatenate([np.full(7, (1 - gamma) / 7), np.full(5, gamma / 5)])
    direct = GaussianStats.from_data(np.vstack([a - 1e9, b - 1e9]), w, "full")
    assert float(avg.count) == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose((avg.mean - 1e9) + avg.lo, direct.mean, atol=1e-12)
    np.testing.assert_allclose(avg.m2, direct.m2, rtol=1e-12)


def test_stream_far_from_the_origin_fits_like_at_the_origin(path):
    far_batches = [X + 1e9 for X in stream(n_batches=5, rows=400)]
    kw = dict(covariance_type="full", precisions_init=unit_precisions("full"))
    far_start = START["means_init"] + 1e9
    near = GaussianMixture(3, **kw, weights_init=START["weights_init"], means_init=far_start - 1e9)
    far = GaussianMixture(3, **kw, weights_init=START["weights_init"], means_init=far_start)
    for X in far_batches:
        near.partial_fit(X - 1e9)  # exact: the same rows as far's, moved to the origin
        far.partial_fit(X)
    np.testing.assert_allclose(far.means_ - 1e9, near.means_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(far.covariances_, near.covariances_, rtol=0, atol=1e-10)


def test_integer_weights_equal_repeated_rows():
    batches = stream(n_batches=3, rows=200)
    kw = dict(covariance_type="diag", precisions_init=unit_precisions("diag"), **START)
    weighted, repeated = GaussianMixture(3, **kw), GaussianMixture(3, **kw)
    for X in batches:
        w = np.arange(X.shape[0]) % 3
        weighted.partial_fit(X, sample_weight=w)
        repeated.partial_fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-10)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-10)


def test_later_batches_may_be_one_row():
    X = stream(n_batches=1, rows=300)[0]
    gm = GaussianMixture(3, random_state=0).partial_fit(X)
    gm.partial_fit(X[:1])
    assert gm.n_batches_seen_ == 2 and np.isfinite(gm.covariances_).all()


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_decay": 0.5}, r"learning_decay must be a number in \(0.5, 1\]"),
        ({"learning_decay": 1.5}, r"learning_decay must be a number in \(0.5, 1\]"),
        ({"learning_offset": -1.0}, "learning_offset must be a finite number >= 0"),
        ({"learning_offset": np.inf}, "learning_offset must be a finite number >= 0"),
    ],
)
def test_bad_schedule_says_what_is_wrong(kwargs, match):
    X = stream(n_batches=1, rows=50)[0]
    with pytest.raises(ValueError, match=match):
        GaussianMixture(2, **kwargs).partial_fit(X)
    with pytest.raises(ValueError, match=match):
        GaussianMixture(2, **kwargs).fit(X)


def test_bad_batches_say_what_is_wrong():
    X = stream(n_batches=1, rows=50)[0]
    with pytest.raises(ValueError, match="first batch has 2 rows but n_components=3"):
        GaussianMixture(3).partial_fit(X[:2])
    gm = GaussianMixture(2, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but GaussianMixture is expecting 2"):
        gm.partial_fit(np.zeros((4, 3)))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gm.partial_fit(bad)
    with pytest.raises(ValueError, match="sample_weight has negative values"):
        gm.partial_fit(X, sample_weight=-np.ones(50))
    assert gm.n_batches_seen_ == 1  # refused batches change nothing


# ---------------------------------------------------------------------- the guide
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "mixtures-streaming.md"


def test_streaming_guide_runs_as_written(tmp_path, monkeypatch):
    """docs/mixtures-streaming.md: its python blocks and commands run (in a temporary
    folder), and print what the guide shows after them."""
    from guide_support import run_guide

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    n_commands, n_checked = run_guide(GUIDE, every_block_shows_output=True)
    assert n_checked == 4 and n_commands == 1


def test_a_model_read_from_a_file_continues(tmp_path):
    from gaussmle.persist import load, save

    first, second = stream(n_batches=2, rows=300, seed=5)
    gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(first)
    save(gm, tmp_path / "gm.json")
    loaded = load(tmp_path / "gm.json")
    gm.partial_fit(second)
    loaded.partial_fit(second)
    assert loaded.weight_seen_ == gm.weight_seen_ == 600.0
    np.testing.assert_allclose(loaded.means_, gm.means_, rtol=1e-12)
    np.testing.assert_allclose(loaded.covariances_, gm.covariances_, rtol=1e-12)


def test_a_model_file_keeps_the_schedule(tmp_path):
    import json

    from gaussmle.persist import ModelFileError, load, save

    first, _ = stream(n_batches=2, rows=300, seed=5)
    gm = GaussianMixture(
        3, covariance_type="diag", random_state=0, learning_decay=0.7, learning_offset=4.0
    )
    save(gm.fit(first), tmp_path / "gm.json")
    loaded = load(tmp_path / "gm.json")
    assert (loaded.learning_decay, loaded.learning_offset) == (0.7, 4.0)
    doc = json.loads((tmp_path / "gm.json").read_text())
    doc["hyperparameters"]["learning_decay"] = 0.2
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=r"learning_decay must be in \(0.5, 1\]"):
        load(tmp_path / "bad.json")
    for key in ("learning_decay", "learning_offset"):  # files from before the schedule
        del doc["hyperparameters"][key]
    (tmp_path / "old.json").write_text(json.dumps(doc))
    assert load(tmp_path / "old.json").learning_decay == 1.0


def test_a_model_file_keeps_the_number_of_batches_seen(tmp_path):
    import json

    from gaussmle.persist import ModelFileError, load, save

    batches = stream(n_batches=4, rows=300, seed=6)
    gm = GaussianMixture(3, covariance_type="diag", random_state=0)
    for batch in batches[:3]:
        gm.partial_fit(batch)
    save(gm, tmp_path / "gm.json")
    loaded = load(tmp_path / "gm.json")
    assert loaded.n_batches_seen_ == 3
    # the next step size is that of the fourth batch, as for the model that was saved
    gm.partial_fit(batches[3])
    loaded.partial_fit(batches[3])
    assert loaded.n_batches_seen_ == gm.n_batches_seen_ == 4
    np.testing.assert_allclose(loaded.means_, gm.means_, rtol=1e-12)
    np.testing.assert_allclose(loaded.covariances_, gm.covariances_, rtol=1e-12)
    doc = json.loads((tmp_path / "gm.json").read_text())
    for bad in (0, 2.5, "3", None):
        doc["fit"]["n_batches_seen"] = bad
        (tmp_path / "bad.json").write_text(json.dumps(doc))
        with pytest.raises(ModelFileError, match=r"fit.n_batches_seen must be an integer >= 1"):
            load(tmp_path / "bad.json")
    del doc["fit"]["n_batches_seen"]  # files from before it: the fit counts as one batch
    (tmp_path / "old.json").write_text(json.dumps(doc))
    assert load(tmp_path / "old.json").n_batches_seen_ == 1


def test_a_component_left_empty_is_reseeded_with_a_warning():
    X = stream(n_batches=1, rows=400)[0]
    means = CENTRES.copy()
    means[2] = [1e3, 1e3]  # explains no row: all its weight goes at the first E-step
    gm = GaussianMixture(
        3, covariance_type="full", weights_init=np.full(3, 1 / 3), means_init=means,
        precisions_init=unit_precisions("full"),
    )  # fmt: skip
    with pytest.warns(mixture.DegenerateComponentWarning, match="re-seeded"):
        gm.partial_fit(X)
    assert np.abs(gm.means_[2]).max() < 100 and np.isfinite(gm.covariances_).all()
    gm.partial_fit(X)
    assert np.isfinite(gm.covariances_).all() and gm.weights_.min() > 0
