"""gaussmle.io reading: every format round trip, batching and CSV parsing details."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pyarrow as pa
import pytest
from io_support import concat_batches, write_csv, write_parquet

from gaussmle import io as gio
from gaussmle.io import (
    DataError,
    iter_batches,
    iter_xy,
    read_xy,
    table_columns,
    write_table,
)


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
