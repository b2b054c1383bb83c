"""The one atomic writer: links written through, devices and FIFOs written directly,
signals cleaning up (issue 17, items 6 and 7; issue 11, one atomic writer)."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gaussmle import GaussianClassifier
from gaussmle.cli import cli
from gaussmle.io import DataError, atomic_write_text, write_table
from gaussmle.persist import ModelFileError, load, save

posix_only = pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs and signals")


def _model() -> GaussianClassifier:
    return GaussianClassifier().fit(np.array([[0.0], [1.0], [4.0], [5.0]]), [0, 0, 1, 1])


@posix_only
def test_symlink_is_written_through_atomically(tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "model.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    save(_model(), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load(target).classes_.tolist() == [0, 1]
    atomic_write_text(link, "text\n")
    assert target.read_text() == "text\n" and link.is_symlink()
    write_table(link, {"a": [1, 2]})
    assert target.read_text() == "a\n1\n2\n" and link.is_symlink()
    assert sorted(p.name for p in real_dir.iterdir()) == ["model.json"]


@posix_only
def test_chained_relative_and_dangling_links(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").symlink_to("../c.txt")  # dangling: c.txt does not exist
    (tmp_path / "a.txt").symlink_to("sub/b.txt")
    atomic_write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "c.txt").read_text() == "x"
    assert (tmp_path / "a.txt").is_symlink() and (tmp_path / "sub" / "b.txt").is_symlink()


@posix_only
def test_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as handle:
            got.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    atomic_write_text(fifo, "through the pipe\n")
    thread.join(timeout=10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@posix_only
def test_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(DataError, match="it is a socket; choose a regular file"):
            atomic_write_text(path, "x")
        with pytest.raises(ModelFileError, match="it is a socket"):
            save(_model(), path)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    finally:
        server.close()


def test_empty_path_says_it_is_empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="the path is empty"):
        atomic_write_text("", "x")
    with pytest.raises(ModelFileError, match="the path is empty"):
        save(_model(), "")
    data = tmp_path / "d.csv"
    data.write_text("x,label\n0,a\n1,a\n4,b\n5,b\n")
    result = CliRunner().invoke(cli, ["fit", str(data), "--target", "label", "-o", ""])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: the output path is empty; give a file name such as 'model.json'"
    ]


_WRITER = """
import os, signal, sys
from gaussmle.io import TableWriter
if sys.argv[3] == "ignore":
    signal.signal(getattr(signal, sys.argv[2]), signal.SIG_IGN)
with TableWriter(sys.argv[1]) as w:
    w.write({"a": [1]})
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))
    w.write({"a": [2]})
print("finished")
"""


@posix_only
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_termination_during_a_write_removes_the_temporary_file(tmp_path, name):
    out = tmp_path / "preds.csv"
    out.write_text("old\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", _WRITER, str(out), name, "default"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == -getattr(signal, name), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds.csv"]
    assert out.read_text() == "old\n"


@posix_only
def test_an_ignored_hangup_lets_the_write_finish(tmp_path):
    out = tmp_path / "preds.csv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", _WRITER, str(out), "SIGHUP", "ignore"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "a\n1\n2\n"
    assert Path(out).parent.joinpath("preds.csv").exists()
