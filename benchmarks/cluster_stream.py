"""Peak memory and time per EM pass of ``gaussmle cluster --stream`` on a large CSV.

Writes a CSV of about ``--gb`` GB (``--d`` float features, three groups, 5
decimals: about 68 bytes a row at d = 8) under a temporary folder, runs
``gaussmle cluster --stream`` on it as a subprocess under ``/usr/bin/time -v``
(``--components 3 --max-iter 3``, full covariances), prints the peak resident
memory, the wall time and the per-pass lines the command wrote, then deletes the
CSV. To keep generation cheap, one block of a million rows is written over and
over (EM does not care; the passes read every byte). Side by side: the time of
one pass of pyarrow's CSV reader over the same file (the parsing floor of a
pass). Run::

    python benchmarks/cluster_stream.py --gb 2 --out docs/cluster_stream_bench.txt
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BLOCK_ROWS = 1_000_000


def write_csv(path: Path, gb: float, d: int, seed: int = 0) -> int:
    """A CSV of about ``gb`` GB: one block of rows written until the size is reached."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 5.0, (3, d))
    X = np.round(centres[rng.integers(0, 3, BLOCK_ROWS)] + rng.normal(size=(BLOCK_ROWS, d)), 5)
    buf = io.BytesIO()
    pcsv.write_csv(pa.table({f"x{j}": X[:, j] for j in range(d)}), buf)
    header, body = buf.getvalue().split(b"\n", 1)
    repeats = max(1, round(gb * 1e9 / len(body)))
    with open(path, "wb") as f:
        f.write(header + b"\n")
        for _ in range(repeats):
            f.write(body)
    return repeats * BLOCK_ROWS


def parse_pass(path: Path) -> float:
    """Seconds of one pass of pyarrow's streaming CSV reader (no statistics)."""
    import pyarrow.csv as pcsv

    start = time.perf_counter()
    with pcsv.open_csv(path) as reader:
        for _ in reader:
            pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--covariance", default="full")
    parser.add_argument("--out", default=None, help="Also write the report to this file.")
    args = parser.parse_args()
    time_bin = shutil.which("time") or "/usr/bin/time"
    gaussmle = Path(sys.executable).with_name("gaussmle")
    folder = Path(tempfile.mkdtemp(prefix="gaussmle-stream-"))
    try:
        data = folder / "big.csv"
        rows = write_csv(data, args.gb, args.d)
        size = data.stat().st_size
        options = ["--components", "3", "--max-iter", "3", "--covariance", args.covariance]
        command = [str(gaussmle), "cluster", str(data), *options, "--stream"]
        command += ["-o", str(folder / "m.json")]
        start = time.perf_counter()
        done = subprocess.run([time_bin, "-v", *command], capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"gaussmle cluster failed:\n{done.stderr}")
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
        passes = [
            line for line in done.stderr.splitlines() if re.match(r"(read|the start|EM)", line)
        ]
        floor = parse_pass(data)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        f"gaussmle cluster --stream on a generated CSV ({datetime.date.today()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end)",
        f"file: {size / 1e9:.2f} GB, {rows:,} rows, {args.d} features; "
        f"--components 3 --max-iter 3 --covariance {args.covariance}",
        f"peak resident memory: {peak_kb / 1024:.0f} MiB; wall time {wall:.1f} s",
        f"one pass of pyarrow's CSV reader alone over the file: {floor:.1f} s",
        "passes (as printed on standard error):",
        *[f"  {line}" for line in passes],
        "command: python benchmarks/cluster_stream.py " + " ".join(sys.argv[1:]),
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
