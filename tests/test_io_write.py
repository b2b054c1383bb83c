"""gaussmle.io writing: tables and text, atomically."""

from __future__ import annotations

import os

import numpy as np
import pytest
from io_support import no_temp_files

from gaussmle.io import (
    DataError,
    TableWriter,
    atomic_write_text,
    iter_batches,
    table_columns,
    write_table,
)


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

    def test_permission_denied(self, tmp_path, monkeypatch):
        # a read-only folder stops nobody when the tests run as root (CI does), so the
        # rename is refused instead: the message, the old file kept, no temporary file
        path = tmp_path / "m.json"
        path.write_text("old")

        def refuse(src, dst):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(os, "replace", refuse)
        with pytest.raises(DataError) as err:
            atomic_write_text(str(path), "{}")
        assert str(err.value) == (
            f"cannot write '{path}': Permission denied; choose a writable path"
        )
        assert path.read_text() == "old"
        assert no_temp_files(tmp_path)

    def test_parent_is_a_file(self, tmp_path):
        (tmp_path / "plain").write_text("x")
        path = str(tmp_path / "plain" / "out.csv")
        with pytest.raises(DataError) as err:
            write_table(path, {"a": [1]})
        assert str(err.value) == f"cannot write '{path}': Not a directory; choose a writable path"


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
