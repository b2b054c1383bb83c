"""gaussmle.io features and labels: iter_xy / read_xy semantics and input errors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from io_support import nan_csv, write_csv, write_parquet

from gaussmle import io as gio
from gaussmle.io import (
    DataError,
    XYBatch,
    iter_batches,
    iter_xy,
    read_xy,
    table_columns,
)


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
