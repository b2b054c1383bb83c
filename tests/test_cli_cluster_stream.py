"""``gaussmle cluster --stream``: EM with one pass over the files per iteration."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import assert_bad_input, run
from io_support import write_parquet

import gaussmle.mixture
from gaussmle.cli import _cluster_stream
from gaussmle.io import write_table
from gaussmle.persist import load

OFFSET = 1e6
N = 150


def make_columns(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [5.0, 1.0, -2.0], [-3.0, 4.0, 1.0]])
    X = np.vstack([rng.normal(c, [1.0, 0.7, 0.4], (50, 3)) for c in centres])
    X = OFFSET + X[rng.permutation(N)]
    return {"u": X[:, 0], "v": X[:, 1], "w": X[:, 2]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    columns = make_columns()
    write_table(root / "all.csv", columns)
    for k, rows in enumerate([slice(0, 61), slice(61, 62), slice(62, N)]):
        write_parquet(root / f"p{k}.parquet", {n: v[rows] for n, v in columns.items()})
    return root


def cluster(data, out, *more):
    common = ["--components", 3, "--seed", 1, "--json", "-o", out]
    result = run("cluster", data, *common, *more)
    return json.loads(result.stdout), result.stderr, load(out)


def assert_same_model(a, b):
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.means_ - OFFSET, a.means_ - OFFSET, rtol=0, atol=1e-8)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-10, atol=0)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-10, atol=0)
    assert b.n_iter_ == a.n_iter_
    assert list(b.feature_names_in_) == list(a.feature_names_in_) == ["u", "v", "w"]


@pytest.mark.parametrize("covariance", ["full", "diag"])
@pytest.mark.parametrize("files", ["all.csv", "p*.parquet"])
def test_streaming_equals_the_in_memory_cluster(data, tmp_path, covariance, files):
    more = ["--covariance", covariance]
    memory, _, a = cluster(data / "all.csv", tmp_path / "a.json", *more)
    more += ["--batch-rows", 7]  # many uneven batches (and a one-row Parquet file)
    streamed, stderr, b = cluster(data / files, tmp_path / "b.json", "--stream", *more)
    assert_same_model(a, b)
    assert streamed["rows"] == memory["rows"] == N
    assert [c["rows"] for c in streamed["components"]] == [c["rows"] for c in memory["components"]]
    assert sorted(c["rows"] for c in streamed["components"]) == [50, 50, 50]
    assert streamed["bic"] == pytest.approx(memory["bic"], rel=1e-12)
    assert streamed["log_likelihood_per_row"] == pytest.approx(
        memory["log_likelihood_per_row"], rel=1e-12
    )
    # a line per EM iteration, after the pass for the statistics and the one for the start
    lines = stderr.splitlines()
    assert lines[0].startswith(f"read {N} rows (")
    assert lines[1].startswith(f"the start from all {N} rows (")
    passes = [line for line in lines if line.startswith("EM pass ")]
    assert len(passes) == b.n_iter_ >= 2
    assert passes[-1].startswith(f"EM pass {b.n_iter_}: log-likelihood ")
    assert f"{b.lower_bound_:.6f} per row" in passes[-1]


def test_no_progress_prints_no_lines_and_text_output_reads_the_same(data, tmp_path):
    args = ["cluster", data / "all.csv", "-k", 3, "-o", tmp_path / "m.json", "--stream"]
    result = run(*args, "--no-progress")
    assert result.stderr == ""
    assert f"Read {N} rows of 3 features" in result.stdout
    assert "Saved the model to" in result.stdout


def test_missing_values_are_dropped_on_every_pass_as_in_memory(tmp_path):
    columns = make_columns()
    rows = zip(*(v.tolist() for v in columns.values()), strict=True)
    lines = ["u,v,w"] + [f"{u!r},{v!r},{w!r}" for u, v, w in rows]
    lines[5] = lines[5].split(",", 1)[0] + ",,1.0"
    lines[90] = ",".join(lines[90].split(",")[:2]) + ","
    (tmp_path / "gaps.csv").write_text("\n".join(lines) + "\n")
    more = ["--drop-missing", "--covariance", "diag"]
    memory, _, a = cluster(tmp_path / "gaps.csv", tmp_path / "a.json", *more)
    streamed, _, b = cluster(tmp_path / "gaps.csv", tmp_path / "b.json", "--stream", *more)
    assert streamed["dropped"] == memory["dropped"] == 2
    assert streamed["rows"] == N - 2
    assert_same_model(a, b)
    bad = run("cluster", tmp_path / "gaps.csv", "-k", 2, "--stream", "-o", tmp_path / "c.json",
              ok=False)  # fmt: skip
    assert_bad_input(bad, "missing value", "--drop-missing")


def test_a_file_larger_than_the_sample_starts_from_random_rows(data, tmp_path, monkeypatch):
    monkeypatch.setattr(gaussmle.mixture, "INIT_SAMPLE_ROWS", 60)
    more = ["--tol", "1e-10", "--max-iter", 500, "--covariance", "diag"]
    _, stderr, b = cluster(data / "all.csv", tmp_path / "b.json", "--stream", *more)
    _, _, a = cluster(data / "all.csv", tmp_path / "a.json", *more)
    assert "the start from 60 rows drawn at random" in stderr
    assert b.converged_
    order, ref = np.argsort(b.means_[:, 0]), np.argsort(a.means_[:, 0])
    np.testing.assert_allclose(b.means_[order] - OFFSET, a.means_[ref] - OFFSET, atol=1e-6)


def test_large_files_stream_without_the_flag(data, tmp_path, monkeypatch):
    monkeypatch.setattr(_cluster_stream, "STREAM_ABOVE_BYTES", 100)
    _, stderr, _ = cluster(data / "all.csv", tmp_path / "m.json")
    assert "EM pass 1: " in stderr
    monkeypatch.setattr(_cluster_stream, "STREAM_ABOVE_BYTES", 1 << 40)
    _, stderr, _ = cluster(data / "all.csv", tmp_path / "m.json")
    assert "EM pass" not in stderr
    # --missing marginalize needs the rows in memory: a large file is then not streamed
    monkeypatch.setattr(_cluster_stream, "STREAM_ABOVE_BYTES", 100)
    _, stderr, _ = cluster(data / "all.csv", tmp_path / "m.json", "--missing", "marginalize")
    assert "EM pass" not in stderr


def test_the_help_states_the_sample_size_and_the_threshold():
    text = " ".join(run("cluster", "--help").stdout.split())
    assert f"at most {gaussmle.mixture.INIT_SAMPLE_ROWS:,} rows" in text
    assert _cluster_stream.STREAM_ABOVE_BYTES == 1 << 30
    assert "Automatic for files over 1 GiB" in text


def test_standard_input_and_other_modes_are_refused_in_one_line(data, tmp_path):
    out = ["-o", tmp_path / "m.json"]
    result = run("cluster", "-", "-k", 2, "--stream", *out, input="a\n1\n2\n3\n", ok=False)
    assert_bad_input(result, "standard input can be read only once", "save the data to a file")
    auto = run("cluster", data / "all.csv", "-k", "auto", "--stream", *out, ok=False)
    assert_bad_input(auto, "--stream is not available with --components auto")
    dask = run("cluster", data / "p0.parquet", "-k", 2, "--stream", "--scheduler", "local", *out,
               ok=False)  # fmt: skip
    assert_bad_input(dask, "--stream is not available with --scheduler")
    gaps = run("cluster", data / "all.csv", "-k", 2, "--stream", "--missing", "marginalize",
               *out, ok=False)  # fmt: skip
    assert_bad_input(gaps, "--stream is not available with --missing marginalize")
    few = run("cluster", data / "p1.parquet", "-k", 2, "--stream", *out, ok=False)
    assert few.exit_code == 2 and few.stderr.splitlines()[-1].startswith("error: ")
    assert "p1.parquet' has 1 rows, and a mixture of 2 components needs at least 2" in few.stderr
