"""Tests for gaussmle.io: batched reading, input errors and atomic writing."""

from __future__ import annotations

import gzip
import io
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gaussmle import io as gio
from gaussmle.io import (
    DataError,
    TableWriter,
    XYBatch,
    atomic_write_text,
    expand_sources,
    iter_batches,
    iter_xy,
    read_xy,
    source_size_bytes,
    table_columns,
    write_table,
)

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def small_table(n: int = 23) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "id": np.arange(100, 100 + n),
        "a": rng.normal(size=n),
        "b": rng.normal(size=n) * 1e6 + 1e9,
        "label": np.array([["cat", "dog", "emu"][i % 3] for i in range(n)], dtype=object),
    }


def write_csv(path, text: str) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return str(path)


def write_parquet(path, columns: dict, row_group_size: int | None = None) -> str:
    pq.write_table(pa.table(columns), str(path), row_group_size=row_group_size)
    return str(path)


def concat_batches(batches: list[dict]) -> dict:
    assert batches
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def no_temp_files(directory) -> bool:
    return not [p for p in os.listdir(directory) if p.endswith(".tmp")]


@pytest.fixture
def table_files(tmp_path):
    """The same small table as CSV, Parquet and (numeric part) npy."""
    cols = small_table()
    csv_path = str(tmp_path / "t.csv")
    write_table(csv_path, cols)
    pq_path = write_parquet(tmp_path / "t.parquet", cols, row_group_size=5)
    npy_path = str(tmp_path / "t.npy")
    np.save(npy_path, np.column_stack([cols["a"], cols["b"]]))
    return {"cols": cols, "csv": csv_path, "parquet": pq_path, "npy": npy_path}


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------


class TestSources:
    def test_missing_file(self, tmp_path):
        path = str(tmp_path / "x.csv")
        with pytest.raises(DataError) as err:
            expand_sources(path)
        assert str(err.value) == f"file '{path}' not found; check the path"

    def test_glob_sorted(self, tmp_path):
        for name in ["c.parquet", "a.parquet", "b.parquet", "skip.csv"]:
            (tmp_path / name).touch()
        got = expand_sources(str(tmp_path / "*.parquet"))
        assert [os.path.basename(p) for p in got] == ["a.parquet", "b.parquet", "c.parquet"]

    def test_glob_no_match(self, tmp_path):
        pattern = str(tmp_path / "d" / "*.parquet")
        with pytest.raises(DataError, match=r"glob '.*\*\.parquet' matched no files"):
            expand_sources(pattern)

    def test_sequence_and_pathlike(self, tmp_path):
        (tmp_path / "a.csv").touch()
        (tmp_path / "b.npy").touch()
        got = expand_sources([tmp_path / "b.npy", str(tmp_path / "a.csv"), "-"])
        assert got == [str(tmp_path / "b.npy"), str(tmp_path / "a.csv"), "-"]

    def test_empty_sequence(self):
        with pytest.raises(DataError, match="no input files"):
            expand_sources([])

    def test_directory(self, tmp_path):
        with pytest.raises(DataError, match="is a directory; give a file or a glob"):
            expand_sources(str(tmp_path))

    def test_unsupported_type(self, tmp_path):
        (tmp_path / "x.xlsx").touch()
        with pytest.raises(DataError, match="unsupported file type; use a .csv"):
            expand_sources(str(tmp_path / "x.xlsx"))

    def test_literal_name_with_glob_characters(self, tmp_path):
        path = tmp_path / "odd[1].csv"
        write_csv(path, "a\n1\n")
        assert expand_sources(str(path)) == [str(path)]
        assert read_xy(str(path)).X.tolist() == [[1.0]]

    def test_source_size_bytes(self, tmp_path):
        write_csv(tmp_path / "a.csv", "a\n1\n")
        write_csv(tmp_path / "b.csv", "a\n22\n")
        assert source_size_bytes(str(tmp_path / "*.csv")) == 9
        assert source_size_bytes([str(tmp_path / "a.csv"), "-"]) is None


# ---------------------------------------------------------------------------
# round trips and batching
# ---------------------------------------------------------------------------


class TestRoundTrip:
    def test_csv(self, table_files):
        cols = table_files["cols"]
        assert table_columns(table_files["csv"]) == ["id", "a", "b", "label"]
        got = concat_batches(list(iter_batches(table_files["csv"])))
        assert got["id"].dtype == np.int64
        assert got["a"].dtype == np.float64
        assert got["label"].dtype == object
        np.testing.assert_array_equal(got["id"], cols["id"])
        # Floats are written with round-trip precision.
        np.testing.assert_array_equal(got["a"], cols["a"])
        np.testing.assert_array_equal(got["b"], cols["b"])
        assert got["label"].tolist() == cols["label"].tolist()

    def test_parquet(self, table_files):
        cols = table_files["cols"]
        assert table_columns(table_files["parquet"]) == ["id", "a", "b", "label"]
        got = concat_batches(list(iter_batches(table_files["parquet"], columns=["label", "a"])))
        assert list(got) == ["label", "a"]
        np.testing.assert_array_equal(got["a"], cols["a"])
        assert got["label"].tolist() == cols["label"].tolist()

    def test_parquet_types(self, tmp_path):
        path = write_parquet(
            tmp_path / "types.parquet",
            {
                "i32": pa.array([1, 2, 3], pa.int32()),
                "f32": pa.array([0.5, None, 1.5], pa.float32()),
                "inull": pa.array([1, None, 3], pa.int64()),
                "flag": pa.array([True, False, True]),
                "cat": pa.array(["x", "y", "x"]).dictionary_encode(),
                "s": pa.array(["p", None, "q"]),
            },
        )
        got = next(iter_batches(path))
        assert got["i32"].dtype == np.int64
        assert got["f32"].dtype == np.float64
        assert np.isnan(got["f32"][1])
        assert got["inull"].dtype == np.float64 and np.isnan(got["inull"][1])
        assert got["flag"].dtype == bool
        assert got["cat"].tolist() == ["x", "y", "x"]
        assert got["s"].tolist() == ["p", None, "q"]
        batch = read_xy(path, features=["i32", "f32", "flag"], drop_missing=True)
        assert batch.X.tolist() == [[1.0, 0.5, 1.0], [3.0, 1.5, 1.0]]

    def test_npy_2d(self, table_files):
        cols = table_files["cols"]
        assert table_columns(table_files["npy"]) == ["x0", "x1"]
        batch = read_xy(table_files["npy"])
        np.testing.assert_array_equal(batch.X, np.column_stack([cols["a"], cols["b"]]))
        assert batch.y is None

    def test_npy_1d_and_dtypes(self, tmp_path):
        path = str(tmp_path / "v.npy")
        np.save(path, np.arange(5, dtype=np.int16))
        assert table_columns(path) == ["x0"]
        got = next(iter_batches(path))
        assert got["x0"].dtype == np.int64
        assert got["x0"].tolist() == [0, 1, 2, 3, 4]
        np.save(path, np.ones((3, 2), dtype=np.float32))
        assert next(iter_batches(path))["x1"].dtype == np.float64

    def test_npy_structured(self, tmp_path):
        path = str(tmp_path / "s.npy")
        arr = np.zeros(4, dtype=[("h", "f8"), ("w", "f4"), ("k", "i4")])
        arr["h"] = [1, 2, 3, 4]
        arr["k"] = [0, 1, 0, 1]
        np.save(path, arr)
        assert table_columns(path) == ["h", "w", "k"]
        batch = read_xy(path, target="k")
        assert batch.X[:, 0].tolist() == [1, 2, 3, 4]
        assert batch.y.tolist() == [0, 1, 0, 1]

    def test_npy_3d_rejected(self, tmp_path):
        path = str(tmp_path / "cube.npy")
        np.save(path, np.zeros((2, 2, 2)))
        with pytest.raises(DataError, match="3 dimensions; save a 1-D or 2-D array"):
            table_columns(path)

    def test_csv_gz(self, tmp_path):
        path = str(tmp_path / "t.csv.gz")
        with gzip.open(path, "wt") as f:
            f.write("a,b,y\n1,2,u\n3,4,v\n")
        batch = read_xy(path, target="y")
        assert batch.X.tolist() == [[1, 2], [3, 4]]
        assert batch.y.tolist() == ["u", "v"]
        assert batch.fraction_done == 1.0

    @pytest.mark.parametrize("fmt", ["csv", "parquet", "npy"])
    @pytest.mark.parametrize("batch_rows", [1, 2, 7, 23, 100])
    def test_batches_concatenate(self, table_files, fmt, batch_rows):
        path = table_files[fmt]
        whole = next(iter_batches(path, batch_rows=10_000))
        batches = list(iter_batches(path, batch_rows=batch_rows))
        sizes = [len(next(iter(b.values()))) for b in batches]
        n = len(whole["x0" if fmt == "npy" else "a"])
        assert sum(sizes) == n
        assert all(s == batch_rows for s in sizes[:-1])
        assert 1 <= sizes[-1] <= batch_rows
        got = concat_batches(batches)
        for key, values in whole.items():
            np.testing.assert_array_equal(got[key], values)

    @pytest.mark.parametrize("fmt", ["csv", "parquet", "npy"])
    def test_xy_batches_offsets_and_progress(self, table_files, fmt):
        path = table_files[fmt]
        target = None if fmt == "npy" else "label"
        batches = list(iter_xy(path, target=target, batch_rows=7))
        assert [b.row_offset for b in batches] == [0, 7, 14, 21]
        assert [b.n_rows for b in batches] == [7, 7, 7, 2]
        fractions = [b.fraction_done for b in batches]
        assert all(0 < f <= 1 for f in fractions)
        assert fractions == sorted(fractions)
        assert fractions[-1] == 1.0
        np.testing.assert_array_equal(np.concatenate([b.rows for b in batches]), np.arange(23))

    def test_large_csv_multiple_blocks(self, tmp_path, monkeypatch):
        n = 40_000
        rng = np.random.default_rng(1)
        cols = {"x": rng.normal(size=n), "k": np.arange(n), "c": np.array(["ab"] * n)}
        path = str(tmp_path / "big.csv")
        write_table(path, cols)
        batch_rows = 1000
        pieces = []
        parse = gio._csv._parse_chunk

        def spy(data, *args):
            pieces.append(len(data))
            return parse(data, *args)

        monkeypatch.setattr(gio._csv, "_parse_chunk", spy)
        batches = list(iter_xy(path, features=["x", "k"], target="c", batch_rows=batch_rows))
        # The text was parsed a bounded piece at a time.
        assert len(pieces) > 4
        assert max(pieces) < 4 * os.path.getsize(path) / len(pieces)
        assert len(batches) == n // batch_rows
        assert all(b.n_rows == batch_rows for b in batches)
        X = np.concatenate([b.X for b in batches])
        np.testing.assert_array_equal(X[:, 0], cols["x"])
        np.testing.assert_array_equal(X[:, 1], cols["k"])
        fractions = [b.fraction_done for b in batches]
        assert fractions == sorted(fractions)
        # No read-ahead beyond the piece being parsed.
        assert fractions[0] < 0.2 and fractions[-1] == 1.0

    def test_csv_types_widen_after_first_block(self, tmp_path):
        # 'k' looks like an integer column, 'e' like an empty one and 's' like a
        # number column for thousands of rows; the reader must recover.
        n = 20_000
        lines = ["k,e,s,f"] + [f"{i},,{i},{i * 0.5}" for i in range(n)]
        lines += ["2.5,7,word,1"]
        path = write_csv(tmp_path / "widen.csv", "\n".join(lines) + "\n")
        batches = list(iter_batches(path, batch_rows=500))
        got = {k: np.concatenate([b[k].astype(object) for b in batches]) for k in batches[0]}
        assert len(got["k"]) == n + 1
        assert got["k"][-1] == 2.5 and got["k"][5] == 5
        assert got["e"][-1] == 7
        assert np.isnan(got["e"][0])
        assert str(got["s"][-1]) == "word"
        batch = read_xy(path, features=["k", "f"], batch_rows=500)
        assert batch.X[-1].tolist() == [2.5, 1.0]
        assert batch.X[:n, 0].tolist() == list(range(n))
        with pytest.raises(DataError, match="column 's' in .* is not numeric .*'word'"):
            read_xy(path, features=["s"], batch_rows=500)

    def test_csv_long_row_beyond_block(self, tmp_path):
        long_value = "z" * 300_000
        lines = ["a,t"] + [f"{i},short" for i in range(50)] + [f"50,{long_value}", "51,end"]
        path = write_csv(tmp_path / "long.csv", "\n".join(lines) + "\n")
        batches = list(iter_batches(path, batch_rows=10))
        a = np.concatenate([b["a"] for b in batches])
        t = np.concatenate([b["t"] for b in batches])
        assert a.tolist() == list(range(52))
        assert t[50] == long_value and t[51] == "end"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (b"a,s\r\n1,x\r\n2,y", {"a": [1, 2], "s": ["x", "y"]}),
            (b'\xef\xbb\xbfa,s\n1,"x, y"\n\n2,"q"""\n', {"a": [1, 2], "s": ["x, y", 'q"']}),
            (b"\n\na,s\n1,x\n", {"a": [1], "s": ["x"]}),
        ],
        ids=["crlf-no-final-newline", "bom-quotes-blank-line", "leading-blank-lines"],
    )
    @pytest.mark.parametrize("batch_rows", [1, 1000])
    def test_csv_dialect_details(self, tmp_path, raw, expected, batch_rows):
        path = tmp_path / "d.csv"
        path.write_bytes(raw)
        assert table_columns(str(path)) == ["a", "s"]
        got = concat_batches(list(iter_batches(str(path), batch_rows=batch_rows)))
        assert {k: v.tolist() for k, v in got.items()} == expected

    def test_header_without_newline(self, tmp_path):
        path = tmp_path / "h.csv"
        path.write_bytes(b"a,b")
        assert table_columns(str(path)) == ["a", "b"]
        assert read_xy(str(path)).X.shape == (0, 2)

    def test_multiple_files(self, tmp_path):
        write_parquet(tmp_path / "p1.parquet", {"a": [1.0, 2.0], "y": ["u", "v"]})
        write_parquet(tmp_path / "p2.parquet", {"a": [3.0], "y": ["w"], "extra": [0]})
        write_csv(tmp_path / "p3.csv", "y,a\nz,4\n")
        sources = [str(tmp_path / "p*.parquet"), str(tmp_path / "p3.csv")]
        batches = list(iter_xy(sources, target="y", batch_rows=10))
        assert [b.row_offset for b in batches] == [0, 2, 3]
        batch = read_xy(sources, target="y")
        assert batch.X.ravel().tolist() == [1, 2, 3, 4]
        assert batch.y.tolist() == ["u", "v", "w", "z"]
        fractions = [b.fraction_done for b in batches]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0

    def test_multiple_files_missing_column(self, tmp_path):
        write_csv(tmp_path / "f1.csv", "a,b\n1,2\n")
        write_csv(tmp_path / "f2.csv", "a\n3\n")
        with pytest.raises(DataError) as err:
            read_xy(str(tmp_path / "f*.csv"))
        assert "column 'b' not found in" in str(err.value)
        assert "f2.csv" in str(err.value)
        assert str(err.value).endswith("available columns: a")


class TestStdin:
    DATA = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n"

    def test_text_wrapper(self, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(self.DATA)))
        assert table_columns("-") == ["a", "b", "label"]
        # Reading again within the process sees the same data.
        batches = list(iter_xy("-", target="label", batch_rows=2))
        assert [b.n_rows for b in batches] == [2, 1]
        assert all(b.fraction_done is None for b in batches)
        X = np.concatenate([b.X for b in batches])
        assert X.tolist() == [[1, 2], [3, 4], [5, 6]]
        assert np.concatenate([b.y for b in batches]).tolist() == ["x", "y", "x"]

    def test_second_full_read_refused(self, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.BytesIO(self.DATA))
        assert read_xy("-", target="label").n_rows == 3
        with pytest.raises(DataError, match="standard input has already been read; save"):
            read_xy("-", target="label")

    def test_streams_in_batches(self, monkeypatch):
        rows = b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(5000))
        monkeypatch.setattr(sys, "stdin", io.BytesIO(b"a,b\n" + rows))
        batches = list(iter_batches("-", batch_rows=64))
        assert {len(b["a"]) for b in batches[:-1]} == {64}
        got = concat_batches(batches)
        assert got["a"].tolist() == list(range(5000))
        assert got["b"].tolist() == [2 * i for i in range(5000)]

    def test_binary_buffer(self, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.BytesIO(self.DATA))
        batch = read_xy("-", features=["b"])
        assert batch.X.ravel().tolist() == [2, 4, 6]

    def test_new_stdin_is_read_afresh(self, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.BytesIO(b"q\n1\n"))
        assert table_columns("-") == ["q"]
        monkeypatch.setattr(sys, "stdin", io.BytesIO(b"r\n2\n"))
        assert table_columns("-") == ["r"]

    def test_header_only_stdin(self, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.BytesIO(b"a,b,y\n"))
        batch = read_xy("-", target="y")
        assert batch.X.shape == (0, 2)
        assert batch.fraction_done is None

    def test_empty_stdin(self, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.BytesIO(b""))
        with pytest.raises(DataError, match="^standard input is empty: it has no header row$"):
            read_xy("-")


# ---------------------------------------------------------------------------
# iter_xy / read_xy semantics and errors
# ---------------------------------------------------------------------------


def nan_csv(tmp_path) -> str:
    # 20 data rows; row 17 (1-based) has a missing 'b', row 5 a missing (empty) label.
    lines = ["id,a,b,label"]
    for i in range(1, 21):
        b = "" if i == 17 else str(i * 10)
        label = "" if i == 5 else ("even" if i % 2 == 0 else "odd")
        lines.append(f"r{i},{i},{b},{label}")
    return write_csv(tmp_path / "nan.csv", "\n".join(lines) + "\n")


class TestXY:
    def test_default_features_exclude_target_and_keep(self, table_files):
        batch = read_xy(table_files["csv"], target="label", keep=["id"])
        cols = table_files["cols"]
        np.testing.assert_array_equal(batch.X, np.column_stack([cols["a"], cols["b"]]))
        assert batch.y.dtype.kind == "U"
        assert batch.y.tolist() == cols["label"].tolist()
        np.testing.assert_array_equal(batch.kept["id"], cols["id"])
        assert batch.n_dropped == 0
        assert isinstance(batch, XYBatch)

    def test_feature_order_and_keep_overlap(self, table_files):
        batch = read_xy(table_files["parquet"], features=["b", "a"], keep=["a"])
        cols = table_files["cols"]
        np.testing.assert_array_equal(batch.X[:, 0], cols["b"])
        np.testing.assert_array_equal(batch.kept["a"], cols["a"])

    def test_booleans_are_numeric(self, tmp_path):
        path = write_csv(tmp_path / "bool.csv", "flag,x\ntrue,1.5\nfalse,2.5\n")
        assert read_xy(path).X.tolist() == [[1.0, 1.5], [0.0, 2.5]]

    def test_missing_feature_value_location(self, tmp_path):
        path = nan_csv(tmp_path)
        with pytest.raises(DataError) as err:
            read_xy(path, features=["a", "b"])
        assert str(err.value) == (
            f"column 'b' has a missing value at row 17 (1-based data row) of '{path}'; "
            "pass --drop-missing to drop such rows"
        )
        # Same location whatever the batch size.
        for batch_rows in (1, 3, 16):
            with pytest.raises(DataError, match="at row 17 "):
                list(iter_xy(path, features=["a", "b"], batch_rows=batch_rows))

    def test_missing_target_location(self, tmp_path):
        path = nan_csv(tmp_path)
        with pytest.raises(DataError) as err:
            read_xy(path, features=["a"], target="label")
        assert str(err.value).startswith(
            "target column 'label' has a missing value at row 5 (1-based data row)"
        )
        assert str(err.value).endswith("pass --drop-missing to drop such rows")

    def test_drop_missing(self, tmp_path):
        path = nan_csv(tmp_path)
        batch = read_xy(path, features=["a", "b"], target="label", keep=["id"], drop_missing=True)
        assert batch.n_dropped == 2
        assert batch.n_rows == 18
        assert 5 not in batch.X[:, 0] and 17 not in batch.X[:, 0]
        assert batch.kept["id"].tolist() == [f"r{i}" for i in range(1, 21) if i not in (5, 17)]
        assert batch.rows.tolist() == [i - 1 for i in range(1, 21) if i not in (5, 17)]
        expected = ["even" if i % 2 == 0 else "odd" for i in range(1, 21) if i not in (5, 17)]
        assert batch.y.tolist() == expected
        batches = list(
            iter_xy(path, features=["a", "b"], target="label", batch_rows=4, drop_missing=True)
        )
        assert [b.n_dropped for b in batches] == [0, 1, 0, 0, 1]
        assert [b.row_offset for b in batches] == [0, 4, 8, 12, 16]
        assert [b.n_rows for b in batches] == [4, 3, 4, 4, 3]

    def test_drop_missing_whole_batch(self, tmp_path):
        path = write_csv(tmp_path / "gap.csv", "a\n1\nNA\nNA\n4\n")
        batches = list(iter_xy(path, batch_rows=1, drop_missing=True))
        assert [b.n_rows for b in batches] == [1, 0, 0, 1]
        assert batches[1].X.shape == (0, 1)
        total = read_xy(path, batch_rows=1, drop_missing=True)
        assert total.X.ravel().tolist() == [1, 4] and total.n_dropped == 2

    def test_keep_missing_features(self, tmp_path):
        path = nan_csv(tmp_path)
        # a missing label is still refused, and dropped on request
        with pytest.raises(DataError, match="target column 'label' has a missing value at row 5"):
            read_xy(path, features=["a", "b"], target="label", missing="keep")
        batch = read_xy(
            path,
            features=["a", "b"],
            target="label",
            keep=["id"],
            missing="keep",
            drop_missing=True,
        )
        assert batch.n_rows == 19 and batch.n_dropped == 1
        assert 5 not in batch.X[:, 0]
        row17 = batch.rows.tolist().index(16)
        assert batch.X[row17, 0] == 17 and np.isnan(batch.X[row17, 1])
        assert np.isnan(batch.X).sum() == 1
        assert batch.kept["id"][row17] == "r17"
        # without a target nothing is dropped: the gap is kept as NaN
        features_only = read_xy(path, features=["a", "b"], missing="keep")
        assert features_only.n_rows == 20 and np.isnan(features_only.X[16, 1])
        # the same, batch by batch
        batches = list(iter_xy(path, features=["a", "b"], missing="keep", batch_rows=4))
        assert [b.n_rows for b in batches] == [4] * 5
        assert np.isnan(batches[4].X[0, 1])

    @pytest.mark.parametrize("fmt", ["csv", "parquet", "npy"])
    def test_keep_missing_in_every_format(self, tmp_path, fmt):
        X = np.array([[1.0, np.nan], [np.nan, 4.0], [5.0, 6.0]])
        if fmt == "npy":
            path = str(tmp_path / "gaps.npy")
            np.save(path, X)
            names = ["x0", "x1"]
        elif fmt == "parquet":
            path = write_parquet(
                tmp_path / "gaps.parquet", {"a": pa.array([1.0, None, 5.0]), "b": X[:, 1]}
            )
            names = ["a", "b"]
        else:
            path = write_csv(tmp_path / "gaps.csv", "a,b\n1,\n,4\n5,6\n")
            names = ["a", "b"]
        np.testing.assert_array_equal(read_xy(path, names, missing="keep").X, X)
        with pytest.raises(DataError, match="has a missing value at row 1 "):
            read_xy(path, names)
        assert read_xy(path, names, missing="drop").X.tolist() == [[5.0, 6.0]]

    def test_keep_missing_still_refuses_infinity(self, tmp_path):
        path = write_csv(tmp_path / "inf.csv", "a,b\n,1\n2,-inf\n")
        with pytest.raises(DataError, match="column 'b' has an infinite value at row 2"):
            read_xy(path, missing="keep")

    def test_missing_argument_checked(self, tmp_path):
        path = write_csv(tmp_path / "ok.csv", "a\n1\n")
        with pytest.raises(ValueError, match="missing must be one of 'error', 'drop', 'keep'"):
            iter_xy(path, missing="ignore")
        with pytest.raises(ValueError, match="missing must be one of"):
            read_xy(path, missing="marginalize")

    @pytest.mark.parametrize("fmt", ["csv", "parquet"])
    def test_text_labels_from_the_arrow_type(self, tmp_path, fmt):
        labels = ["b", "a", "b", "c"]
        if fmt == "csv":
            path = write_csv(
                tmp_path / "l.csv", "x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(labels))
            )
        else:
            path = write_parquet(
                tmp_path / "l.parquet",
                {"x": np.arange(4.0), "y": pa.array(labels).dictionary_encode()},
            )
        y = read_xy(path, target="y", batch_rows=3).y
        assert y.dtype.kind == "U" and y.tolist() == labels

    def test_non_text_object_labels_stay_objects(self, tmp_path):
        path = write_parquet(
            tmp_path / "bin.parquet", {"x": [1.0, 2.0], "y": pa.array([b"p", b"q"], pa.binary())}
        )
        y = read_xy(path, target="y").y
        assert y.dtype == object and y.tolist() == [b"p", b"q"]
        # labels of unknown origin are checked value by value
        mixed = np.array(["a", 1], dtype=object)
        assert gio._xy._labels(mixed).dtype == object
        assert gio._xy._labels(np.array(["a", "b"], dtype=object)).dtype.kind == "U"

    def test_nulls_in_numeric_columns_are_nan(self, tmp_path):
        path = write_csv(tmp_path / "nulls.csv", "a,s\n1,x\n,\nNaN,z\n")
        got = next(iter_batches(path))
        assert got["a"].dtype == np.float64
        assert got["a"][0] == 1 and np.isnan(got["a"][1:]).all()
        assert got["s"].tolist() == ["x", None, "z"]

    def test_non_numeric_feature(self, tmp_path):
        path = write_csv(tmp_path / "txt.csv", "x,name\n1,abc\n2,def\n")
        with pytest.raises(DataError) as err:
            read_xy(path)
        assert str(err.value) == (
            f"column 'name' in '{path}' is not numeric (found 'abc' at row 1 (1-based data "
            "row)); feature values are decimal numbers such as 12, -0.5 or 1e3 (no thousands "
            "separators, underscores or hexadecimal); fix the value or choose numeric feature "
            "columns with --features"
        )

    def test_unknown_columns(self, table_files):
        path = table_files["csv"]
        with pytest.raises(DataError) as err:
            read_xy(path, features=["a", "foo"])
        assert str(err.value) == (
            f"column 'foo' not found in '{path}'; available columns: id, a, b, label"
        )
        with pytest.raises(DataError, match="columns 'foo', 'bar' not found"):
            list(iter_batches(path, columns=["foo", "a", "bar"]))
        with pytest.raises(DataError, match="column 'lbl' not found.*available columns: id"):
            read_xy(path, target="lbl")
        with pytest.raises(DataError, match="column 'x9' not found"):
            read_xy(table_files["npy"], features=["x9"])
        with pytest.raises(DataError, match="column 'foo' not found"):
            read_xy(table_files["parquet"], features=["foo"])

    def test_target_is_feature(self, table_files):
        with pytest.raises(DataError, match="'label' cannot be both the target and a feature"):
            read_xy(table_files["csv"], features=["a", "label"], target="label")

    def test_duplicate_feature(self, table_files):
        with pytest.raises(DataError, match="feature column 'a' is listed twice"):
            read_xy(table_files["csv"], features=["a", "a"])

    def test_no_features_left(self, tmp_path):
        path = write_csv(tmp_path / "only.csv", "y\n1\n")
        with pytest.raises(DataError, match="no feature columns"):
            read_xy(path, target="y")

    def test_infinite_value(self, tmp_path):
        path = write_csv(tmp_path / "inf.csv", "a\n1\ninf\n")
        with pytest.raises(DataError, match="column 'a' has an infinite value at row 2"):
            read_xy(path)

    def test_empty_file(self, tmp_path):
        path = write_csv(tmp_path / "x.csv", "")
        with pytest.raises(DataError) as err:
            read_xy(path)
        assert str(err.value) == f"'{path}' is empty: it has no header row"
        with pytest.raises(DataError, match="is empty: it has no header row"):
            table_columns(path)

    def test_header_only(self, tmp_path):
        path = write_csv(tmp_path / "h.csv", "a,b,y\n")
        assert table_columns(path) == ["a", "b", "y"]
        assert list(iter_batches(path)) == []
        batch = read_xy(path, target="y")
        assert batch.X.shape == (0, 2)
        assert batch.y.shape == (0,)

    def test_ragged_csv(self, tmp_path):
        path = write_csv(tmp_path / "rag.csv", "a,b\n1,2\n3,4,5\n")
        with pytest.raises(DataError, match="is not valid CSV .*Expected 2 columns, got 3"):
            read_xy(path)

    def test_duplicate_header(self, tmp_path):
        path = write_csv(tmp_path / "dup.csv", "a,a\n1,2\n")
        with pytest.raises(DataError, match="column 'a' appears more than once"):
            read_xy(path)

    def test_not_utf8(self, tmp_path):
        path = tmp_path / "latin.csv"
        path.write_bytes(b"a,s\n1,caf\xe9\n")
        with pytest.raises(DataError, match="not valid UTF-8 text"):
            list(iter_batches(str(path)))

    def test_bad_parquet_and_npy(self, tmp_path):
        bad = tmp_path / "bad.parquet"
        bad.write_bytes(b"this is not parquet at all")
        with pytest.raises(DataError, match="cannot read .*bad.parquet.*; check that the file"):
            read_xy(str(bad))
        empty = tmp_path / "empty.parquet"
        empty.touch()
        with pytest.raises(DataError, match="is empty"):
            table_columns(str(empty))
        npy = tmp_path / "bad.npy"
        npy.write_bytes(b"nonsense")
        with pytest.raises(DataError, match="cannot read .*bad.npy"):
            read_xy(str(npy))

    def test_batch_rows_validation(self, table_files):
        with pytest.raises(ValueError, match="at least 1"):
            iter_batches(table_files["csv"], batch_rows=0)
        with pytest.raises(TypeError, match="integer"):
            iter_xy(table_files["csv"], batch_rows=2.5)

    def test_argument_errors_raised_at_call(self, tmp_path, table_files):
        # No iteration needed: the caller learns of these before reading starts.
        with pytest.raises(DataError, match="not found; check the path"):
            iter_xy(str(tmp_path / "missing.csv"))
        with pytest.raises(DataError, match="column 'nope' not found"):
            iter_xy(table_files["csv"], target="nope")
        with pytest.raises(DataError, match="both the target and a feature"):
            iter_xy(table_files["csv"], features=["a"], target="a")


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


class TestWrite:
    def test_write_table_round_trip(self, tmp_path):
        rng = np.random.default_rng(3)
        cols = {
            "x": rng.normal(size=50) * 10.0 ** rng.integers(-300, 300, size=50),
            "n": np.arange(50),
            "s": np.array([f'v{i}, "q"' if i % 7 == 0 else f"v{i}" for i in range(50)]),
        }
        path = str(tmp_path / "out.csv")
        write_table(path, cols)
        got = next(iter_batches(path))
        np.testing.assert_array_equal(got["x"], cols["x"])
        np.testing.assert_array_equal(got["n"], cols["n"])
        assert got["s"].tolist() == cols["s"].tolist()
        assert no_temp_files(tmp_path)

    def test_plain_output(self, tmp_path):
        path = tmp_path / "plain.csv"
        write_table(path, {"aromatic lift": [0.5, np.nan], "colour": ["purple", None]})
        assert path.read_text() == "aromatic lift,colour\n0.5,purple\nnan,\n"

    def test_write_stdout(self, capsysbinary):
        write_table(None, {"a": [1, 2], "b": ["x", "y"]})
        write_table("-", {"c": [0.25]})
        assert capsysbinary.readouterr().out == b"a,b\n1,x\n2,y\nc\n0.25\n"

    def test_table_writer_batches(self, tmp_path):
        path = str(tmp_path / "w.csv")
        with TableWriter(path) as w:
            w.write({"i": np.arange(3), "p": np.array([0.1, 0.2, 0.3], dtype=np.float32)})
            w.write({"i": np.arange(3, 5), "p": [0.4, 0.5]})
        got = next(iter_batches(path))
        assert got["i"].tolist() == [0, 1, 2, 3, 4]
        assert w.n_rows == 5
        with pytest.raises(ValueError, match="columns changed"), TableWriter(path) as w:
            w.write({"i": [1]})
            w.write({"j": [1]})
        assert next(iter_batches(path))["i"].tolist() == [0, 1, 2, 3, 4]

    def test_table_writer_header_only(self, tmp_path):
        path = tmp_path / "empty.csv"
        with TableWriter(path, names=["id", "p"]):
            pass
        assert path.read_text() == "id,p\n"
        assert table_columns(str(path)) == ["id", "p"]

    def test_bad_columns(self, tmp_path):
        path = str(tmp_path / "bad.csv")
        with pytest.raises(ValueError, match="same length"):
            write_table(path, {"a": [1, 2], "b": [1]})
        with pytest.raises(ValueError, match="one-dimensional"):
            write_table(path, {"a": np.zeros((2, 2))})
        assert not os.path.exists(path)
        assert no_temp_files(tmp_path)

    def test_unwritable_path(self, tmp_path):
        path = str(tmp_path / "no-such-dir" / "out.csv")
        with pytest.raises(DataError) as err:
            write_table(path, {"a": [1]})
        assert str(err.value) == (
            f"cannot write '{path}': No such file or directory; choose a writable path"
        )
        with pytest.raises(DataError, match="cannot write .*: it is a directory"):
            atomic_write_text(str(tmp_path), "x")

    @pytest.mark.skipif(
        os.name != "posix" or (hasattr(os, "geteuid") and os.geteuid() == 0),
        reason="needs POSIX permissions and a non-root user",
    )
    def test_read_only_directory(self, tmp_path):
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(DataError, match="Permission denied; choose a writable path"):
                atomic_write_text(str(locked / "m.json"), "{}")
        finally:
            locked.chmod(0o700)


class TestAtomic:
    def test_new_file_mode_follows_umask(self, tmp_path):
        atomic_write_text(tmp_path / "a.txt", "hi\n")
        with open(tmp_path / "b.txt", "w") as f:
            f.write("hi\n")
        mode_a = os.stat(tmp_path / "a.txt").st_mode & 0o777
        mode_b = os.stat(tmp_path / "b.txt").st_mode & 0o777
        assert mode_a == mode_b
        assert (tmp_path / "a.txt").read_text() == "hi\n"

    def test_replace_fails(self, tmp_path, monkeypatch):
        path = tmp_path / "model.json"
        path.write_text("old")

        def broken_replace(src, dst):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", broken_replace)
        with pytest.raises(DataError, match="No space left on device; choose a writable path"):
            atomic_write_text(path, "new")
        with pytest.raises(DataError):
            write_table(path, {"a": [1.0]})
        assert path.read_text() == "old"
        assert os.listdir(tmp_path) == ["model.json"]

    def test_interrupted_write(self, tmp_path, monkeypatch):
        path = tmp_path / "model.json"
        path.write_text("old")

        def interrupted(fd):
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "fsync", interrupted)
        with pytest.raises(KeyboardInterrupt):
            atomic_write_text(path, "new" * 1000)
        assert path.read_text() == "old"
        assert os.listdir(tmp_path) == ["model.json"]

    def test_failure_midway_through_table(self, tmp_path):
        path = tmp_path / "pred.csv"
        path.write_text("old\n")

        def batches():
            yield {"p": np.arange(1000.0)}
            raise RuntimeError("model exploded")

        with pytest.raises(RuntimeError, match="exploded"), TableWriter(path) as writer:
            for cols in batches():
                writer.write(cols)
        assert path.read_text() == "old\n"
        assert os.listdir(tmp_path) == ["pred.csv"]

    def test_existing_mode_kept(self, tmp_path):
        path = tmp_path / "keep.txt"
        path.write_text("old")
        path.chmod(0o640)
        atomic_write_text(path, "new")
        assert path.read_text() == "new"
        assert os.stat(path).st_mode & 0o777 == 0o640
