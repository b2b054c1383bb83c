"""Clusters and Parquet: a Dask client for a scheduler option, and Parquet files as Dask arrays.

:func:`client_for` connects to a scheduler or starts a local in-process cluster (and shuts
it down afterwards); :func:`read_parquet_xy` reads the feature and target columns of
Parquet files as Dask arrays with known chunk lengths, for the command line.
"""

from __future__ import annotations

import signal
import threading
import time
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


class ClusterLost(ConnectionError):
    """The Dask scheduler went away, or the cluster had no workers, for too long.

    Examples
    --------
    >>> isinstance(ClusterLost("lost"), ConnectionError)
    True
    """


#: The signal the watchdog sends the main thread to interrupt a blocked computation.
_WAKE = getattr(signal, "SIGUSR2", None)
#: Seconds between two looks at the cluster.
_POLL = 0.25


def _health(client: Any) -> str | None:
    """What is wrong with the cluster now ("scheduler", "workers"), or None."""
    if client.status not in ("running", "newly-created"):
        return "scheduler"
    try:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
    except Exception:  # noqa: BLE001 - any failure to ask means the scheduler is not there
        return "scheduler"
    return None if workers else "workers"


def _lost_message(what: str, address: str, give_up: float) -> str:
    if what == "workers":
        return (
            f"the Dask cluster at {address} has had no workers for {give_up:g} s; start "
            "workers, or wait longer with --timeout"
        )
    return (
        f"lost the Dask scheduler at {address} (no answer for {give_up:g} s); check that it "
        "is running, or wait longer with --timeout"
    )


@contextmanager
def _watchdog(client: Any, address: str, give_up: float | None) -> Iterator[None]:
    """Raise :class:`ClusterLost` in the main thread when the cluster fails for ``give_up`` s.

    A thread looks at the cluster every quarter second; when the scheduler has
    not answered, or no worker has been there, for ``give_up`` seconds, it wakes
    the main thread with a signal whose handler raises the error, so that even a
    computation blocked waiting for results ends. Outside the main thread, or
    without ``give_up``, nothing is watched.
    """
    main = threading.main_thread()
    if give_up is None or _WAKE is None or threading.current_thread() is not main:
        yield
        return
    found: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        since: float | None = None
        while not stop.wait(_POLL):
            what = _health(client)
            if what is None:
                since = None
                continue
            since = time.monotonic() if since is None else since
            if time.monotonic() - since >= give_up:
                found.append(what)
                signal.pthread_kill(main.ident, _WAKE)
                return

    def wake(signum: int, frame: object) -> None:
        if found:
            raise ClusterLost(_lost_message(found[0], address, give_up))

    previous = signal.signal(_WAKE, wake)
    thread = threading.Thread(target=watch, name="gaussmle-dask-watchdog", daemon=True)
    thread.start()
    try:
        yield
    except Exception as exc:
        if found and not isinstance(exc, ClusterLost):
            raise ClusterLost(_lost_message(found[0], address, give_up)) from None
        lost = _lost_cause(exc)
        if lost is not None and not isinstance(exc, ClusterLost):
            raise ClusterLost(
                f"lost the Dask scheduler at {address} ({lost}); check that it is running"
            ) from None
        raise
    finally:
        stop.set()
        signal.signal(_WAKE, previous)


def _lost_cause(exc: BaseException) -> str | None:
    """A short name when ``exc`` says the connection to the cluster broke, else None."""
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError

    if isinstance(exc, (FutureCancelledError, CommClosedError)):
        return type(exc).__name__
    return None


@contextmanager
def client_for(
    scheduler: str | None,
    *,
    timeout: str | float = "10s",
    give_up: float | None = None,
    **cluster_kwargs: Any,
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
    give_up : float, optional
        With a scheduler address or ``"local"``: seconds after which a lost
        scheduler, or a cluster without workers, ends the enclosed work with
        :class:`ClusterLost` (a ConnectionError) instead of waiting forever
        (only in the main thread). A lost connection (cancelled futures, a
        closed comm) is a :class:`ClusterLost` too. None waits as Dask does.
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
            with _watchdog(client, "local", give_up):
                yield client
        return

    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"could not connect to the Dask scheduler at {scheduler!r} ({exc}); check the "
            "address and that the scheduler is running, or use --scheduler local"
        ) from exc
    try:
        with _watchdog(client, scheduler, give_up):
            yield client
    finally:
        try:
            client.close(timeout=2)
        except Exception:  # noqa: BLE001 - a lost scheduler cannot be told goodbye
            pass


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
