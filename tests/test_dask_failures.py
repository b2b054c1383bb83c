"""A lost Dask scheduler, a cluster without workers, a bad value on a worker: one
``error:`` line and exit code 2, within ``--timeout`` (issue 17, items 10 and 11).

The clusters are processes on 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")

SCRIPT = Path(sys.executable).with_name("gaussmle")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "GAUSSMLE_DEBUG": ""}


def _parquet(folder: Path, n_files: int = 2, nan_at: tuple[int, int] | None = None) -> str:
    rng = np.random.default_rng(0)
    for i in range(n_files):
        df = pd.DataFrame(rng.normal(size=(20, 2)), columns=["a", "b"])
        df["label"] = np.where(np.arange(20) % 2 == 0, "x", "y")
        if nan_at is not None and nan_at[0] == i:
            df.loc[nan_at[1], "b"] = np.nan
        df.to_parquet(folder / f"part-{i}.parquet")
    return str(folder / "*.parquet")


class Scheduler:
    """A Dask scheduler process on 127.0.0.1, and the lines of its log."""

    def __init__(self, folder: Path) -> None:
        info = folder / "scheduler.json"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
            stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert time.monotonic() < deadline and self.proc.poll() is None, self.log
            time.sleep(0.1)
        import json

        self.address = json.loads(info.read_text())["address"]
        assert self.address.startswith("tcp://127.0.0.1:")

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    def wait_for_client(self) -> None:
        deadline = time.monotonic() + 60
        while not any("Receive client connection" in line for line in self.log):
            assert time.monotonic() < deadline, self.log
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def scheduler(tmp_path):
    s = Scheduler(tmp_path)
    yield s
    s.kill()


def _fit(data: str, address: str, out: Path, timeout: float) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCRIPT), "fit", data, "--target", "label", "--scheduler", address, "--timeout",
         str(timeout), "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip


def _one_error(proc: subprocess.Popen, limit: float) -> str:
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the command still ran after {limit} s (a hang)")
    assert proc.returncode == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and out == ""
    return lines[0]


def test_no_workers_is_an_error_within_the_timeout(tmp_path, scheduler):
    data = _parquet(tmp_path)
    start = time.monotonic()
    proc = _fit(data, scheduler.address, tmp_path / "m.json", timeout=2)
    line = _one_error(proc, limit=60)
    assert "has had no workers for 2 s" in line and "--timeout" in line, line
    assert time.monotonic() - start < 40
    assert not (tmp_path / "m.json").exists()


def test_lost_scheduler_is_an_error_within_the_timeout(tmp_path, scheduler):
    data = _parquet(tmp_path)
    proc = _fit(data, scheduler.address, tmp_path / "m.json", timeout=30)
    scheduler.wait_for_client()
    time.sleep(0.5)
    scheduler.kill()
    start = time.monotonic()
    line = _one_error(proc, limit=60)
    assert "lost the Dask scheduler" in line and scheduler.address in line, line
    assert time.monotonic() - start < 40


def test_bad_value_on_a_worker_is_one_line_naming_file_and_row(tmp_path):
    data = _parquet(tmp_path, n_files=3, nan_at=(1, 7))
    proc = subprocess.Popen(
        [str(SCRIPT), "fit", data, "--target", "label", "--scheduler", "local", "-o",
         str(tmp_path / "m.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    line = _one_error(proc, limit=120)
    assert line == (
        f"error: column 'b' has a missing value (NaN) at row 8 (1-based data row) of "
        f"'{tmp_path / 'part-1.parquet'}'; remove or impute it, or fit with --missing marginalize"
    )
