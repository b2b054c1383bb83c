"""Clusters and Parquet: a Dask client for a scheduler option, and Parquet files as Dask arrays.

:func:`client_for` connects to a scheduler or starts a local in-process cluster (and shuts
it down afterwards); :func:`read_parquet_xy` reads the feature and target columns of
Parquet files as Dask arrays with known chunk lengths, for the command line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._convert import (
    _column_part_values,
    _concat_parts,
    _feature_dtype,
    _frame_part_values,
    _series_meta_dtype,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da
    from distributed import Client


@contextmanager
def client_for(
    scheduler: str | None, *, timeout: str | float = "10s", **cluster_kwargs: Any
) -> Iterator[Client | None]:
    """Run the enclosed Dask computations on the scheduler the user asked for.

    Parameters
    ----------
    scheduler : str or None
        ``None``: nothing is started; Dask's default local threaded scheduler
        runs the work. ``"local"``: an in-process ``distributed.LocalCluster``
        (one worker, one thread per core) whose HTTP endpoints listen on
        127.0.0.1 only; it is shut down on exit. ``"threads"`` or
        ``"synchronous"``: Dask's built-in schedulers (synchronous runs in the
        calling thread, handy for debugging). Anything else is the address of
        a running scheduler (``tcp://10.0.0.5:8786``); the client is closed
        on exit, the cluster is left running.
    timeout : str or float, default "10s"
        How long to wait for a scheduler at an address to answer.
    **cluster_kwargs
        Passed to ``LocalCluster`` for ``"local"`` (e.g. ``n_workers``).

    Yields
    ------
    distributed.Client or None

    Raises
    ------
    ValueError
        For an empty scheduler string.
    ConnectionError
        When no scheduler answers at the address.

    Examples
    --------
    >>> import dask.array as da
    >>> with client_for(None) as client:
    ...     print(client, int(da.ones(4, chunks=2).sum().compute()))
    None 4
    >>> with client_for("tcp://127.0.0.1:8786") as client:  # doctest: +SKIP
    ...     model = GaussianClassifier().fit(X, y)
    """
    if scheduler is None:
        yield None
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError(
            f"scheduler must be 'local', 'threads', 'synchronous' or a scheduler address such "
            f"as tcp://10.0.0.5:8786; got {scheduler!r}"
        )
    scheduler = scheduler.strip()
    if scheduler in ("threads", "synchronous"):
        import dask

        with dask.config.set(scheduler=scheduler):
            yield None
        return

    from distributed import Client, LocalCluster

    if scheduler == "local":
        import os

        options: dict[str, Any] = {
            "n_workers": 1,
            "threads_per_worker": os.cpu_count() or 1,
            "processes": False,
            # the HTTP endpoints always start; keep them on the loopback interface
            "dashboard_address": "127.0.0.1:0",
            "worker_dashboard_address": "127.0.0.1:0",
        }
        options.update(cluster_kwargs)
        with LocalCluster(**options) as cluster, Client(cluster) as client:
            yield client
        return

    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"could not connect to the Dask scheduler at {scheduler!r} ({exc}); check the "
            "address and that the scheduler is running, or use --scheduler local"
        ) from exc
    with client:
        yield client


def read_parquet_xy(
    pattern: str,
    features: Sequence[str] | None = None,
    target: str | None = None,
) -> tuple[da.Array, da.Array | None, list[str]]:
    """Lazy features and labels from Parquet files matching a glob.

    The partition lengths are computed (one pass that reads the files), so the
    arrays have known chunks; ``X`` and ``y`` come from the very same
    partitions, so their rows line up.

    Parameters
    ----------
    pattern : str
        A file, a directory of Parquet files, or a glob such as
        ``"data/part-*.parquet"`` (any path ``dask.dataframe.read_parquet``
        understands).
    features : sequence of str, optional
        Feature columns, in this order. By default every column except ``target``.
    target : str, optional
        The label column; ``None`` for unlabelled data (then ``y`` is None).

    Returns
    -------
    X : dask array (n, d), float64 (float32 if every feature is float32)
    y : dask array (n,) or None
    feature_names : list of str

    Raises
    ------
    ValueError
        When no file matches, a column is missing (it is named, and the
        columns that exist are listed) or a feature is not numeric.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for part in range(2):
    ...     table = pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0], "label": ["x", "y"]})
    ...     pq.write_table(table, folder / f"part-{part}.parquet")
    >>> X, y, names = read_parquet_xy(str(folder / "part-*.parquet"), target="label")
    >>> names, X.compute().tolist(), y.compute().tolist()
    (['a', 'b'], [[1.0, 3.0], [2.0, 4.0], [1.0, 3.0], [2.0, 4.0]], ['x', 'y', 'x', 'y'])
    """
    import dask
    import dask.dataframe as dd
    from fsspec.core import get_fs_token_paths

    fs, _, paths = get_fs_token_paths(pattern, mode="rb")
    if not paths or not any(fs.exists(p) for p in paths):
        raise ValueError(f"no Parquet files match {pattern!r}; check the path or the glob")
    frame = dd.read_parquet(pattern)
    columns = [str(c) for c in frame.columns]
    if features is None:
        features = [c for c in columns if c != target]
    features = [str(f) for f in features]
    if not features:
        raise ValueError(f"no feature columns to read from {pattern!r}; the columns are {columns}")
    wanted = features + ([] if target is None else [target])
    missing = [c for c in wanted if c not in columns]
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        raise ValueError(
            f"{what} {', '.join(repr(c) for c in missing)} not found in {pattern!r}; "
            f"the files have the columns {columns}"
        )
    dtype = _feature_dtype(frame[features]._meta)
    parts = list(frame[wanted].to_delayed())
    lengths = [int(n) for n in dask.compute(*[dask.delayed(len)(p) for p in parts])]
    X = _concat_parts(parts, lengths, _frame_part_values, (len(features),), dtype, dtype, features)
    y = None
    if target is not None:
        y_dtype = _series_meta_dtype(frame[target]._meta)
        y = _concat_parts(parts, lengths, _column_part_values, (), y_dtype, target)
    return X, y, features
