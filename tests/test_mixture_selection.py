"""How many components: select_components (BIC, ICL, bootstrap LRT), cluster -k auto."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.special import entr

import gaussmle
from gaussmle import GaussianMixture, select_components
from gaussmle.cli import cli
from gaussmle.io import write_table
from gaussmle.mixture_selection import bootstrap_lrt, classification_entropy, criteria
from gaussmle.persist import load

CENTRES = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])


def three_blobs(seed: int, n: int = 40, scale: float = 0.6) -> np.ndarray:
    """Three well-separated round components of n rows each, in 2-D."""
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(c, scale, (n, 2)) for c in CENTRES])


@pytest.mark.parametrize(
    ("seed", "kind"), [(0, "full"), (1, "full"), (2, "diag"), (3, "spherical")]
)
def test_bic_picks_three_on_three_separated_components(seed, kind):
    X = three_blobs(seed)
    result = select_components(X, range(1, 6), (kind,), random_state=seed)
    assert result.best_n_components == 3
    assert result.best_covariance_type == kind
    assert result.best_model.n_components == 3
    bics = [row["bic"] for row in result.rows]
    assert bics[2] == min(bics)
    # the chosen model finds the three true centres
    found = np.array(sorted(result.best_model.means_.round(0).tolist()))
    np.testing.assert_allclose(found, sorted(CENTRES.tolist()), atol=1.0)
    assert "lowest BIC" in result.reason


def test_icl_is_bic_plus_twice_the_classification_entropy():
    # two overlapping components: the responsibilities are far from 0 and 1
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(0.0, 1.0, (60, 1)), rng.normal(1.5, 1.0, (60, 1))])
    result = select_components(X, [1, 2, 3], ("diag",), criterion="icl", random_state=0)
    for row in result.rows:
        assert row["icl"] == pytest.approx(row["bic"] + 2.0 * row["entropy"], rel=1e-12)
        assert row["icl"] >= row["bic"]  # lower-is-better sign; mclust's -ICL <= -BIC
    one = result.row(1, "diag")
    assert one["entropy"] == 0.0 and one["icl"] == one["bic"]
    assert result.row(2, "diag")["icl"] - result.row(2, "diag")["bic"] > 10.0
    # independently: the mixture's own BIC and scipy's entropy of its responsibilities
    model = GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    c = criteria(model, X)
    assert c["bic"] == pytest.approx(model.bic(X), rel=1e-12)
    assert c["entropy"] == pytest.approx(entr(model.predict_proba(X)).sum(), rel=1e-12)
    assert result.row(2, "diag")["bic"] == pytest.approx(c["bic"], rel=1e-12)


def test_icl_prefers_fewer_components_than_bic_on_overlapping_data():
    # one skewed cluster: BIC uses extra components to model the shape, ICL does not split it
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.gamma(2.0, 1.0, 300), rng.normal(0.0, 1.0, 300)])
    bic = select_components(X, range(1, 5), ("diag",), random_state=0)
    icl = select_components(X, range(1, 5), ("diag",), criterion="icl", random_state=0)
    assert icl.best_n_components < bic.best_n_components
    assert "lowest ICL" in icl.reason


def test_integer_weights_count_as_repeated_rows():
    X = three_blobs(6, n=15)
    w = np.random.default_rng(0).integers(0, 4, X.shape[0])
    weighted = select_components(X, [2, 3], ("diag",), random_state=0, sample_weight=w)
    model = weighted.best_model
    repeated = np.repeat(X, w, axis=0)
    # the criteria of the weighted fit equal those of the same model on the repeated rows
    for key, value in criteria(model, repeated).items():
        assert weighted.row(model.n_components, "diag")[key] == pytest.approx(value, rel=1e-10)
    assert criteria(model, X, w.astype(float))["loglik"] == pytest.approx(
        model.score_samples(repeated).sum(), rel=1e-12
    )
    # and the choice matches the unweighted selection on the repeated rows
    plain = select_components(repeated, [2, 3], ("diag",), random_state=0)
    assert plain.best_n_components == weighted.best_n_components == 3
    with pytest.raises(ValueError, match="sample_weight has shape"):
        select_components(X, [1], sample_weight=w[:-1])


def test_classification_entropy_zero_log_zero():
    assert classification_entropy(np.array([[1.0, 0.0, 0.0]])) == 0.0
    assert classification_entropy(np.full((2, 4), 0.25)) == pytest.approx(2 * math.log(4.0))
    assert classification_entropy(np.full((2, 2), 0.5), np.array([3.0, 0.0])) == pytest.approx(
        3 * math.log(2.0)
    )


def test_table_one_row_per_fit_and_frame():
    X = three_blobs(0, n=20)
    result = select_components(X, [3, 1, 2], ("full", "diag"), random_state=0)
    frame = result.to_frame()
    assert len(frame) == 6
    pairs = list(zip(frame["n_components"], frame["covariance_type"], strict=True))
    assert sorted(pairs) == sorted((k, t) for k in (1, 2, 3) for t in ("full", "diag"))
    assert frame["chosen"].sum() == 1
    chosen = frame[frame["chosen"]].iloc[0]
    assert (chosen["n_components"], chosen["covariance_type"]) == (
        result.best_n_components,
        result.best_covariance_type,
    )
    assert chosen["bic"] == frame["bic"].min()
    table = result.to_table()
    assert len([line for line in table.splitlines() if line.startswith("* ")]) == 2  # row, footer
    payload = json.loads(json.dumps(result.to_dict()))
    assert len(payload["rows"]) == 6 and payload["criterion"] == "bic"


def test_same_seed_gives_the_fit_of_that_k_alone():
    X = three_blobs(4, n=20)
    result = select_components(X, range(1, 5), ("full",), random_state=7)
    alone = GaussianMixture(result.best_n_components, random_state=7).fit(X)
    np.testing.assert_array_equal(result.best_model.means_, alone.means_)


def test_progress_counts_every_fit():
    X = three_blobs(0, n=20)
    seen = []
    select_components(X, [1, 2, 3], ("diag", "spherical"), progress=lambda *a: seen.append(a))
    assert seen == [(i, 6) for i in range(1, 7)]


def test_dataframe_names_reach_the_chosen_model():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(three_blobs(0, n=20), columns=["sweet", "chewy"])
    result = select_components(X, [2, 3], random_state=0)
    assert list(result.best_model.feature_names_in_) == ["sweet", "chewy"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning
        result.best_model.predict(X)


def test_bootstrap_lrt_rejects_one_component_on_two_component_data():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0.0, 0.5, (40, 1)), rng.normal(3.0, 0.5, (40, 1))])
    result = select_components(X, [1, 2], ("diag",), random_state=0, bootstrap=19)
    (test,) = result.bootstrap
    assert test["n_components"] == 1 and test["replicates"] == 19
    assert test["lrt"] > 0
    assert test["p_value"] == pytest.approx(1.0 / 20.0)  # no replicate reaches the statistic
    assert test["p_value"] <= result.level
    assert "Bootstrap likelihood-ratio tests" in result.to_table()


def test_bootstrap_lrt_does_not_reject_on_one_component_data():
    rng = np.random.default_rng(2)
    X = rng.normal(0.0, 1.0, (80, 1))
    result = select_components(X, [1, 2, 3], ("diag",), random_state=0, bootstrap=19)
    assert result.best_n_components == 1
    # sequential: k=1 vs 2 does not reject, so k=2 vs 3 is not run
    (test,) = result.bootstrap
    assert test["n_components"] == 1
    assert test["p_value"] > 0.05


def test_bootstrap_needs_consecutive_k():
    X = three_blobs(0, n=15)
    result = select_components(X, [1, 3], ("spherical",), random_state=0, bootstrap=3)
    assert result.bootstrap == []
    assert any("no bootstrap test was possible" in note for note in result.notes)


def test_bootstrap_lrt_p_value_counts_replicates():
    rng = np.random.default_rng(3)
    X = rng.normal(0.0, 1.0, (50, 1))
    one = GaussianMixture(1, covariance_type="diag", random_state=0).fit(X)
    two = GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    stat, p = bootstrap_lrt(X, one, two, 9, {"random_state": 0}, random_state=1)
    assert stat == pytest.approx(2 * (two.score(X) - one.score(X)) * 50, rel=1e-10)
    assert p in {(1 + j) / 10 for j in range(10)}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n_components": []}, "n_components is empty"),
        ({"n_components": [0, 1]}, "integers >= 1"),
        ({"n_components": [1.5]}, "integers >= 1"),
        ({"n_components": [1, 1]}, "repeats"),
        ({"n_components": [1, 500]}, "more than the 60 rows"),
        ({"covariance_types": ("round",)}, "unknown covariance type 'round'"),
        ({"covariance_types": ()}, "covariance_types is empty"),
        ({"criterion": "aic"}, "criterion must be one of bic, icl"),
        ({"bootstrap": -1}, "bootstrap must be an integer >= 0"),
        ({"level": 1.5}, "level must be a number between 0 and 1"),
        ({"n_init": 0}, "n_init must be an integer >= 1"),
    ],
)
def test_bad_input_is_one_clear_value_error(kwargs, fragment):
    X = three_blobs(0, n=20)
    args = {"n_components": [1, 2]} | kwargs
    with pytest.raises(ValueError, match=fragment):
        select_components(X, **args)


def test_bad_data_errors():
    with pytest.raises(ValueError):
        select_components([[1.0], [np.nan]], [1])
    with pytest.raises(ValueError, match="at least 2 rows"):
        select_components([[1.0]], [1])


def test_plot_draws_both_criteria_and_marks_the_choice(tmp_path):
    pytest.importorskip("matplotlib")
    X = three_blobs(0, n=20)
    result = select_components(X, range(1, 5), ("full", "diag"), random_state=0)
    path = tmp_path / "k.png"
    ax = result.plot(path=path)
    gids = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
    assert set(gids) == {"bic-full", "icl-full", "bic-diag", "icl-diag", "chosen"}
    assert list(gids["bic-full"].get_xdata()) == [1, 2, 3, 4]
    assert list(gids["chosen"].get_xdata()) == [result.best_n_components]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ax.get_xlabel() == "number of components k"


def test_lazy_names():
    assert gaussmle.select_components is select_components
    assert "ComponentSelection" in dir(gaussmle)


# ---------------------------------------------------------------------- the CLI
def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def blobs_csv(tmp_path_factory):
    X = three_blobs(0, n=30)
    path = tmp_path_factory.mktemp("select") / "blobs.csv"
    write_table(path, {"a": X[:, 0], "b": X[:, 1]})
    return path, X


def test_cli_components_auto_writes_the_chosen_model(blobs_csv, tmp_path):
    data, X = blobs_csv
    out = tmp_path / "m.json"
    result = run("cluster", data, "--components", "auto", "--max-components", 5, "-o", out)
    assert result.exit_code == 0, result.output
    model = load(out)
    assert isinstance(model, GaussianMixture) and model.n_components == 3
    expected = select_components(X, range(1, 6), ("full",), random_state=0).best_model
    np.testing.assert_array_equal(model.means_, expected.means_)
    assert "* chosen: 3 components, full (it has the lowest BIC" in result.output
    assert result.output.count("\n  ") >= 5  # the table's rows
    assert "Saved the model" in result.output


def test_cli_components_auto_json_and_bootstrap(blobs_csv, tmp_path):
    data, _ = blobs_csv
    out = tmp_path / "m.json"
    args = ("cluster", data, "-k", "auto", "--max-components", 2, "--covariance", "diag",
            "--bootstrap", 4, "--json", "--no-progress", "-o", out)  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["selection"]["best_n_components"] == 2
    assert [r["n_components"] for r in payload["selection"]["rows"]] == [1, 2]
    (test,) = payload["selection"]["bootstrap"]
    assert test["p_value"] == pytest.approx(0.2) and test["replicates"] == 4
    assert len(payload["components"]) == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--components", "many"), "neither a whole number nor 'auto'"),
        (("--components", "0"), "not a number of components"),
        (("--components", "3", "--bootstrap", "9"), "--bootstrap is for choosing"),
        (("--components", "3", "--max-components", "4"), "--max-components is for choosing"),
        (("-k", "2", "--criterion", "icl"), "--criterion is for choosing"),
    ],
)
def test_cli_bad_components(blobs_csv, tmp_path, args, fragment):
    data, _ = blobs_csv
    result = run("cluster", data, *args, "-o", tmp_path / "m.json")
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert not (tmp_path / "m.json").exists()


# ---------------------------------------------------------------------- the guide
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "mixtures-how-many.md"


def test_guide_runs_as_written(tmp_path, monkeypatch):
    """docs/mixtures-how-many.md: its commands and snippets run, their output as shown."""
    from guide_support import run_guide

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    n_commands, n_outputs = run_guide(GUIDE)
    assert n_commands == 2 and n_outputs == 3
    assert (tmp_path / "how-many.png").read_bytes()[:4] == b"\x89PNG"
    assert (Path(GUIDE.parent) / "img" / "mixtures-how-many.png").exists()
