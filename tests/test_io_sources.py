"""gaussmle.io sources: paths, globs and standard input, and the messages about them."""

from __future__ import annotations

import io
import os
import sys

import numpy as np
import pytest
from io_support import concat_batches, write_csv

from gaussmle.io import (
    DataError,
    expand_sources,
    iter_batches,
    iter_xy,
    read_xy,
    source_size_bytes,
    table_columns,
)


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
