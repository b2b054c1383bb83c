"""Helpers the gaussmle.io tests share: small tables and files in every format."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


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


def nan_csv(tmp_path) -> str:
    # 20 data rows; row 17 (1-based) has a missing 'b', row 5 a missing (empty) label.
    lines = ["id,a,b,label"]
    for i in range(1, 21):
        b = "" if i == 17 else str(i * 10)
        label = "" if i == 5 else ("even" if i % 2 == 0 else "odd")
        lines.append(f"r{i},{i},{b},{label}")
    return write_csv(tmp_path / "nan.csv", "\n".join(lines) + "\n")
