"""Fitting and predicting on Dask arrays and DataFrames, on one machine or a cluster.

Every block of rows is summarised by per-class sufficient statistics
(:meth:`GaussianStats.from_groups`, float64 accumulation); the statistics of
all blocks are merged by a tree reduction of :meth:`GaussianStats.merge`, the
exact pairwise update, so the fitted model equals the in-memory fit whatever
the chunking. Only the small statistics travel to the client, never a block
of data. Prediction maps the fitted model over the row blocks and stays lazy.

Each block's statistics travel with a reference row per class (a row of that
class in the block) and describe the rows *minus* that reference, so their
means are small numbers; two blocks are merged in the coordinates of one
reference, and the reference is added back once, on the client. Without this,
every block mean near an offset of 1e9 would be rounded to about 1e-7 before
the merge, which costs about 1e-5 in a variance of 1e-6.

Dask DataFrames are turned into arrays through their delayed partitions, with
the partition lengths computed on those same partitions
(``to_dask_array(lengths=True)`` computes the lengths on a separately
optimised graph, and after Dask fuses the partitions of a column projection
of ``read_parquet`` the two disagree).

Dask is imported only inside the functions of this module, so ``import
gaussmle`` does not pay for it; the classifier and :func:`gaussmle.fit` import
this module only when they are handed a Dask collection.

Examples
--------
>>> import numpy as np
>>> import dask.array as da
>>> from gaussmle import GaussianClassifier
>>> X = da.from_array(np.array([[0.0], [1.0], [5.0], [7.0], [0.5], [6.0]]), chunks=2)
>>> y = da.from_array(np.array(["a", "a", "b", "b", "a", "b"]), chunks=2)
>>> clf = GaussianClassifier().fit(X, y)
>>> clf.classes_.tolist(), clf.means_.ravel().tolist()
(['a', 'b'], [0.5, 6.0])
>>> clf.predict(da.from_array(np.array([[0.2], [6.5]]))).compute().tolist()
['a', 'b']
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import reduce
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import COVARIANCE_TYPES, check_choice
from .stats import GaussianStats

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da
    from distributed import Client

    from .classifier import GaussianClassifier

#: How many partial statistics one node of the merge tree combines.
SPLIT_EVERY = 8

#: Prediction methods that :func:`predict_blocks` maps over the row blocks.
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")

_NON_NUMERIC_KINDS = "USVOMm"


# ---------------------------------------------------------------------------- public API
def stats_from_dask(X: Any, sample_weight: Any = None, kind: str = "diag") -> GaussianStats:
    """Sufficient statistics of all rows of a Dask array or DataFrame (one group).

    Each row block is summarised with :meth:`GaussianStats.from_data` (float64
    accumulation) and the summaries are merged by a tree reduction; only the
    statistics reach the client.

    Parameters
    ----------
    X : dask array (n, d) or (n,), or dask DataFrame / Series
        The data; a 1-D array or a Series is one feature.
    sample_weight : dask array / Series, array-like (n,) or scalar, optional
        Non-negative weights, aligned with the rows of ``X``.
    kind : {"diag", "full"}
        Keep per-feature second moments or the full scatter matrix.

    Returns
    -------
    GaussianStats
        Statistics of one group (no batch shape).

    Raises
    ------
    ValueError
        For non-numeric or empty data, NaN or infinity (reported with the
        global row and column, when the blocks are computed), or bad weights.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> X = da.from_array(np.array([[1.0], [2.0], [3.0], [4.0]]), chunks=3)
    >>> s = stats_from_dask(X)
    >>> float(s.count), s.mean.tolist(), s.m2.tolist()
    (4.0, [2.5], [5.0])
    """
    import dask

    check_choice(kind, ("diag", "full"), name="kind")
    X = _as_dask_matrix(X, allow_1d=True)
    n = _n_rows(X)
    w = _as_dask_vector(sample_weight, X, name="sample_weight", numeric=True)
    if n == 0:
        raise ValueError("X is empty (0 samples); pass at least one row of data")
    parts = _blockwise_parts(_plain_block_stats, X, None, w, classes=None, kind=kind)
    root = _tree_reduce(parts, _merge_parts)
    _, stats = _finish(dask.compute(root)[0])
    if float(stats.count) <= 0:
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    return stats


def fit_classifier_stats(
    model: GaussianClassifier,
    X: Any,
    y: Any,
    sample_weight: Any,
    first: bool,
    classes: Any = None,
) -> GaussianClassifier:
    """Fit (or update) a :class:`~gaussmle.GaussianClassifier` from Dask collections.

    This is the hook behind ``GaussianClassifier.fit`` and ``partial_fit``
    when ``X`` is a Dask array or DataFrame; call those instead.

    Parameters
    ----------
    model : GaussianClassifier
        Updated in place; on the first call it must hold no fitted state.
    X : dask array (n, d) or dask DataFrame
        Numeric features. A DataFrame's string column names become
        ``feature_names_in_`` (as scikit-learn does for pandas).
    y : dask array (n,), dask Series, one-column dask DataFrame, or array-like
        Class labels, aligned with the rows of ``X`` (re-chunked to ``X``'s
        row blocks when they differ).
    sample_weight : same kinds as ``y``, scalar, or None
        Non-negative weights.
    first : bool
        True for ``fit`` and the first ``partial_fit``: ``n_features_in_``
        and ``feature_names_in_`` are set rather than checked.
    classes : array-like, optional
        Every label that can occur. When ``first`` and ``classes`` is None
        (``fit``), the labels are found in the same pass over the data: each
        block reports its own labels and the merge unites them. Later calls
        use the model's ``classes_``.

    Returns
    -------
    GaussianClassifier
        ``model``, fitted, with ordinary NumPy attributes.

    Raises
    ------
    ValueError
        For invalid input; NaN or infinity in a block is reported, with its
        global row and column, when the blocks are computed.
    """
    import dask
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import column_or_1d

    check_choice(model.covariance_type, COVARIANCE_TYPES, name="covariance_type")
    meta = X._meta if _is_dask_frame(X) else None
    X = _as_dask_matrix(X, allow_1d=False)
    _check_features(model, meta, int(X.shape[1]), reset=first)
    y = _as_dask_vector(y, X, name="y", numeric=False)
    w = _as_dask_vector(sample_weight, X, name="sample_weight", numeric=True)
    if _n_rows(X) == 0:
        raise ValueError("X is empty (0 samples); pass at least one row of data")

    if not first:
        known = model.classes_
        if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
            raise ValueError(
                f"classes={list(np.asarray(classes))} differs from the classes of the first "
                f"call to partial_fit {list(known)}; pass the same classes or none"
            )
    elif classes is not None:
        known = np.unique(column_or_1d(np.asarray(classes)))
        check_classification_targets(known)
    else:
        known = None

    parts = _blockwise_parts(_class_block_stats, X, y, w, classes=known, kind=model._stats_kind())
    root = _tree_reduce(parts, _merge_parts)
    labels, stats = _finish(dask.compute(root)[0])
    if known is None:
        check_classification_targets(labels)
        known = labels
    if float(np.sum(stats.count)) <= 0:
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    return model._absorb(stats, known)


def predict_blocks(model: GaussianClassifier, X: Any, method: str) -> da.Array:
    """A lazy Dask array of ``model.<method>(X)``, mapped over the row blocks of ``X``.

    Parameters
    ----------
    model : GaussianClassifier
        A fitted model; it is sent to the workers once (one task in the graph).
    X : dask array (n, d) or dask DataFrame
        Rechunked to a single column block if needed; a DataFrame is converted
        with its partition lengths computed, and its column names are checked
        against ``feature_names_in_``. A Dask array carries no names, so only
        its number of columns is checked (no warning for a model fitted with
        names: :func:`read_parquet_xy` selects the columns by name).
    method : {"predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba"}

    Returns
    -------
    dask.array.Array
        ``predict``: shape (n,), the dtype of ``classes_``; the others:
        shape (n, k), float64. Nothing is computed until you ask.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from gaussmle import GaussianClassifier
    >>> clf = GaussianClassifier().fit([[0.0], [1.0], [5.0], [6.0]], [0, 0, 1, 1])
    >>> p = predict_blocks(clf, da.from_array(np.array([[0.5], [5.5], [3.0]]), chunks=2),
    ...                    "predict_proba")
    >>> p.shape, p.chunks
    ((3, 2), ((2, 1), (2,)))
    >>> p.compute().argmax(axis=1).tolist()
    [0, 1, 0]
    """
    import dask
    import dask.array as da
    from sklearn.utils.validation import check_is_fitted

    check_choice(method, PREDICT_METHODS, name="method")
    check_is_fitted(model, "class_stats_")
    meta = X._meta if _is_dask_frame(X) else None
    X = _as_dask_matrix(X, allow_1d=False)
    _check_features(model, meta, int(X.shape[1]), reset=False)
    # The names were checked here, once; the workers get a copy without them so
    # that the NumPy blocks they see raise no feature-name warnings.
    worker_model = copy.copy(model)
    if hasattr(worker_model, "feature_names_in_"):
        del worker_model.feature_names_in_
    model_task = dask.delayed(worker_model, name=f"gaussmle-model-{uuid.uuid4().hex}")
    k = len(model.classes_)
    if method == "predict":
        dtype = model.classes_.dtype
        return da.map_blocks(
            _predict_block,
            X,
            model_task,
            method,
            dtype=dtype,
            drop_axis=1,
            chunks=(X.chunks[0],),
            meta=np.empty((0,), dtype=dtype),
        )
    return da.map_blocks(
        _predict_block,
        X,
        model_task,
        method,
        dtype=np.float64,
        chunks=(X.chunks[0], (k,)),
        meta=np.empty((0, 0), dtype=np.float64),
    )


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
    >>> X, y, names = read_parquet_xy("data/*.parquet", target="label")  # doctest: +SKIP
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


# ---------------------------------------------------------------------------- conversion
def _check_features(model: Any, meta: Any, d: int, *, reset: bool) -> None:
    """Set or check ``n_features_in_`` and ``feature_names_in_`` as scikit-learn does.

    A DataFrame's ``meta`` (empty, with the column names) goes through
    scikit-learn's ``validate_data`` exactly as a pandas DataFrame would. A
    Dask array has no names: on ``reset`` an empty NumPy stand-in does the
    same; otherwise only the number of columns is compared.
    """
    from sklearn.utils.validation import validate_data

    if meta is not None or reset:
        stand_in = meta if meta is not None else np.empty((0, d))
        validate_data(model, stand_in, reset=reset, skip_check_array=True)
        return
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and d != expected:
        raise ValueError(
            f"X has {d} features, but {type(model).__name__} is expecting {expected} features "
            "as input."
        )


def _is_dask_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.dataframe") and getattr(obj, "ndim", 0) == 2


def _is_dask_series(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.dataframe") and getattr(obj, "ndim", 0) == 1


def _is_dask_array(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.array") and hasattr(obj, "chunks")


def _as_dask_matrix(X: Any, *, allow_1d: bool) -> da.Array:
    """``X`` as a 2-D numeric dask array with known row chunks and one column block."""
    if _is_dask_frame(X):
        dtype = _feature_dtype(X._meta)
        X = _frames_to_arrays([X], [(_frame_part_values, (len(X.columns),), dtype, dtype)])[0]
    elif _is_dask_series(X):
        if not allow_1d:
            raise ValueError(
                "Expected a 2D dask DataFrame or array, got a dask Series; use X.to_frame() "
                "for a single feature"
            )
        X = _frames_to_arrays([X], [(_series_part_values, (), np.float64, np.float64)])[0]
    elif not _is_dask_array(X):
        raise TypeError(f"expected a dask array or DataFrame, got {type(X).__name__}")
    _check_numeric_dtype(X.dtype, "X")
    if X.ndim == 1 and allow_1d:
        X = X.reshape((-1, 1)) if not _unknown_rows(X) else X[:, None]
    if X.ndim != 2:
        hint = " (reshape a 1-D array to (-1, 1) for one feature)" if X.ndim == 1 else ""
        raise ValueError(
            f"Expected a 2D array of shape (n_samples, n_features), got a {X.ndim}-D dask "
            f"array of shape {X.shape}{hint}"
        )
    if np.isnan(X.shape[1]) or X.shape[1] == 0:
        raise ValueError(f"X has {X.shape[1]} features; pass at least one (known) column")
    if _unknown_rows(X):
        X = X.copy()  # compute_chunk_sizes works in place; leave the caller's array alone
        X.compute_chunk_sizes()
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _as_dask_vector(v: Any, X: da.Array, *, name: str, numeric: bool) -> da.Array | None:
    """``v`` (labels or weights) as a 1-D dask array with the row chunks of ``X``."""
    import dask.array as da

    if v is None:
        return None
    n = _n_rows(X)
    if _is_dask_frame(v):
        if len(v.columns) != 1:
            raise ValueError(
                f"{name} must be one column; got a dask DataFrame with {len(v.columns)} columns"
            )
        v = v[v.columns[0]]
    if _is_dask_series(v):
        dtype = np.float64 if numeric else _series_meta_dtype(v._meta)
        v = _frames_to_arrays([v], [(_series_part_values, (), dtype, dtype if numeric else None)])[
            0
        ]
    elif _is_dask_array(v):
        if v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if _unknown_rows(v):
            v = v.copy()
            v.compute_chunk_sizes()
    elif numeric and np.ndim(v) == 0:
        return da.full((n,), float(v), chunks=(X.chunks[0],), dtype=np.float64)
    else:
        arr = np.asarray(v)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if numeric:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be numbers, one per sample") from exc
        v = da.from_array(arr, chunks=(X.chunks[0],) if arr.shape == (n,) else arr.shape)
    if v.ndim != 1 or v.shape[0] != n:
        raise ValueError(
            f"{name} has shape {v.shape} but X has {n} samples; pass one value per row, "
            "shape (n_samples,)"
        )
    if numeric:
        _check_numeric_dtype(v.dtype, name)
    if v.chunks[0] != X.chunks[0]:
        v = v.rechunk((X.chunks[0],))
    return v


def _unknown_rows(a: Any) -> bool:
    return any(np.isnan(c) for c in a.chunks[0])


def _n_rows(X: da.Array) -> int:
    return int(sum(X.chunks[0]))


def _check_numeric_dtype(dtype: np.dtype, name: str) -> None:
    if dtype.kind == "c":
        raise ValueError(f"{name} is complex; pass real numbers")
    if dtype.kind in _NON_NUMERIC_KINDS and dtype.kind != "O":
        raise ValueError(
            f"{name} holds non-numeric values (dtype {dtype}); convert every feature to "
            "numbers first"
        )


def _feature_dtype(meta: Any) -> np.dtype:
    """float32 when every column is float32, float64 otherwise; non-numeric columns refused."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    dtypes = meta.dtypes
    bad = [str(c) for c, t in dtypes.items() if not (is_numeric_dtype(t) or is_bool_dtype(t))]
    if bad:
        raise ValueError(
            f"feature column(s) {bad} are not numeric; convert them to numbers or leave them "
            "out of the features"
        )
    if len(dtypes) and all(t == np.float32 for t in dtypes):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _series_meta_dtype(meta: Any) -> np.dtype:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(meta.to_numpy()).dtype


def _frame_part_values(part: Any, dtype: np.dtype, columns: Any = None) -> np.ndarray:
    """A pandas partition as a NumPy matrix; missing values (pd.NA) become NaN."""
    if columns is not None:
        part = part[columns]
    return part.to_numpy(dtype=dtype, na_value=np.nan)


def _series_part_values(part: Any, dtype: np.dtype | None = None) -> np.ndarray:
    if dtype is not None and np.dtype(dtype).kind == "f":
        return part.to_numpy(dtype=dtype, na_value=np.nan)
    return np.asarray(part.to_numpy())


def _column_part_values(part: Any, column: str) -> np.ndarray:
    return np.asarray(part[column].to_numpy())


def _concat_parts(
    parts: Sequence[Any],
    lengths: Sequence[int],
    convert: Callable[..., np.ndarray],
    tail: tuple[int, ...],
    dtype: np.dtype,
    *args: Any,
) -> da.Array:
    """One dask array from delayed partitions of known lengths."""
    import dask
    import dask.array as da

    convert_task = dask.delayed(convert, pure=True)
    arrays = [
        da.from_delayed(convert_task(p, *args), shape=(n,) + tail, dtype=dtype)
        for p, n in zip(parts, lengths, strict=True)
    ]
    if not arrays:
        return da.empty((0,) + tail, dtype=dtype)
    return da.concatenate(arrays, axis=0) if len(arrays) > 1 else arrays[0]


def _frames_to_arrays(frames: Sequence[Any], specs: Sequence[tuple[Any, ...]]) -> list[da.Array]:
    """Dask DataFrames / Series as arrays, their partition lengths computed in one pass.

    Each frame is turned into delayed partitions *once*, and the lengths are
    computed on those same partitions, so the chunks always describe the data
    (``to_dask_array(lengths=True)`` can disagree with itself after Dask fuses
    the partitions of a column projection).
    """
    import dask

    parts = [list(f.to_delayed()) for f in frames]
    counts = dask.compute(*[[dask.delayed(len)(p) for p in ps] for ps in parts])
    out = []
    for ps, ns, (convert, tail, dtype, arg) in zip(parts, counts, specs, strict=True):
        args = () if arg is None else (arg,)
        out.append(_concat_parts(ps, [int(n) for n in ns], convert, tail, np.dtype(dtype), *args))
    return out


# ---------------------------------------------------------------------------- block work
def _blockwise_parts(
    func: Callable[..., Any],
    X: da.Array,
    y: da.Array | None,
    w: da.Array | None,
    *,
    classes: np.ndarray | None,
    kind: str,
) -> list[Any]:
    """One delayed partial result per row block of ``X`` (with its ``y`` and ``w`` blocks)."""
    import dask.array as da

    # the first global row of each block, for error messages
    rows = da.arange(_n_rows(X), chunks=(X.chunks[0],), dtype=np.int64)
    args: list[Any] = [X, "ij", rows, "i"]
    args += [None, None] if y is None else [y, "i"]
    args += [None, None] if w is None else [w, "i"]
    out = da.blockwise(
        func,
        "i",
        *args,
        classes,
        None,
        kind,
        None,
        concatenate=True,
        adjust_chunks={"i": 1},
        dtype=object,
        meta=np.empty((0,), dtype=object),
    )
    return list(out.to_delayed())


def _boxed(value: Any) -> np.ndarray:
    box = np.empty(1, dtype=object)
    box[0] = value
    return box


def _block_numbers(X: np.ndarray) -> np.ndarray:
    """A block as a numeric array (object blocks converted to float64)."""
    X = np.asarray(X)
    if X.dtype.kind == "O":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "X holds non-numeric values; convert every feature to numbers first"
            ) from exc
    return X


def _raise_if_non_finite(X: np.ndarray, rows: np.ndarray) -> None:
    """Raise a ValueError naming the global row and column of the first NaN or infinity."""
    if X.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(X[r, c]) else "infinity (inf)"
        raise ValueError(
            f"X contains {what} at row {int(rows[r])}, column {int(c)}; remove or impute "
            "missing values first"
        )


def _located(compute: Callable[[], Any], X: np.ndarray, rows: np.ndarray) -> Any:
    """``compute()``; a ValueError caused by NaN or infinity is re-raised with global rows.

    The statistics and the prediction code detect non-finite input themselves
    (from their results, without an extra pass), but they only know rows
    within the block; the block is searched only when they fail.
    """
    try:
        return compute()
    except ValueError:
        _raise_if_non_finite(X, rows)
        raise


def _block_weights(w: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    bad = ~np.isfinite(w)
    if bad.any():
        raise ValueError(
            f"sample_weight contains NaN or infinity at row {int(rows[np.argmax(bad)])}; "
            "pass finite weights"
        )
    if (w < 0).any():
        raise ValueError(
            f"sample_weight has negative values (first at row {int(rows[np.argmax(w < 0)])}); "
            "weights must be >= 0"
        )
    return w


def _plain_block_stats(
    X: np.ndarray, rows: np.ndarray, _y: None, w: np.ndarray | None, _classes: None, kind: str
) -> np.ndarray:
    """Statistics of one block (one group), boxed as ``(None, ref, stats)``.

    ``stats`` are those of ``X - ref`` with ``ref`` the block's first row: the
    mean stays small, so it carries no rounding of a large offset into the
    merge (see :func:`_merge_parts`).
    """
    d = X.shape[1]
    if X.shape[0] == 0:
        return _boxed((None, np.zeros(d), GaussianStats.empty(d, kind)))
    X = _block_numbers(X)
    w = _block_weights(w, rows)
    ref = X[0].astype(np.float64)
    if not np.isfinite(ref).all():
        _raise_if_non_finite(X, rows)
    if w is not None and not (w > 0).any():
        return _boxed((None, ref, GaussianStats.empty(d, kind)))
    with np.errstate(invalid="ignore", over="ignore"):
        Z = np.subtract(X, ref, dtype=np.float64)
    stats = _located(lambda: GaussianStats.from_data(Z, w, kind=kind), X, rows)
    return _boxed((None, ref, stats))


def _class_block_stats(
    X: np.ndarray,
    rows: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    classes: np.ndarray | None,
    kind: str,
) -> np.ndarray:
    """Per-class statistics of one block, boxed as ``(labels, ref, stats)``.

    With ``classes`` given the labels are encoded against them (unknown labels
    are an error); without, the block's own sorted labels are used and the
    merge unites them. ``ref`` (k, d) holds the first row of each class in the
    block and ``stats`` are those of the rows minus their class's ``ref``.
    """
    from .classifier import encode_labels

    d = X.shape[1]
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"a block of X has {X.shape[0]} rows but its block of y has {y.shape[0]}; align "
            "the partitions of X and y"
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            f"y contains NaN at row {int(rows[np.argmax(np.isnan(y))])}; every sample needs a label"
        )
    if classes is None:
        try:
            labels, codes = np.unique(y, return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                "y holds labels that cannot be sorted together (missing values or mixed "
                "types such as numbers and strings); use one type of label"
            ) from exc
        codes = codes.reshape(-1)
    else:
        labels = classes
        codes = encode_labels(y, classes) if y.size else np.zeros(0, dtype=np.intp)
    k = len(labels)
    ref = np.zeros((k, d))
    if X.shape[0] == 0:
        return _boxed((labels, ref, GaussianStats.empty(d, kind, (k,))))
    X = _block_numbers(X)
    w = _block_weights(w, rows)
    # some row of each class present (which one does not matter) as its reference
    position = np.full(k, -1, dtype=np.intp)
    position[codes] = np.arange(codes.shape[0])
    present = position >= 0
    ref[present] = X[position[present]]
    if not np.isfinite(ref).all():
        _raise_if_non_finite(X, rows)
    if w is not None and not (w > 0).any():
        return _boxed((labels, ref, GaussianStats.empty(d, kind, (k,))))
    Z = np.take(ref, codes, axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        np.subtract(X, Z, out=Z)
    stats = _located(lambda: GaussianStats.from_groups(Z, codes, k, w, kind=kind), X, rows)
    return _boxed((labels, ref, stats))


def _merge_parts(boxes: list[Any]) -> np.ndarray:
    """Merge ``(labels, ref, stats)`` parts exactly into one.

    Labels (None for one group) are united and every part aligned to them.
    Two parts are merged in the coordinates of the first one's reference
    point: the difference of the references is exact (or nearly) and small,
    so the pairwise update works on small numbers, and the large offset is
    added back only once, at the very end (:func:`_finish`).
    """
    parts = [_unbox(b) for b in boxes]
    labels = parts[0][0]
    if labels is not None and not all(np.array_equal(p[0], labels) for p in parts[1:]):
        try:
            labels = reduce(np.union1d, [p[0] for p in parts])
        except TypeError as exc:
            raise ValueError(
                "y holds labels that cannot be sorted together (mixed types such as numbers "
                "and strings); use one type of label"
            ) from exc
        parts = [(labels,) + _align(ref, st, lab, labels) for lab, ref, st in parts]
    _, ref, total = parts[0]
    for _, ref_b, stats_b in parts[1:]:
        seen = (total.count > 0)[..., None]
        new_ref = np.where(seen, ref, ref_b)
        total = _moved(total, ref - new_ref).merge(_moved(stats_b, ref_b - new_ref))
        ref = new_ref
    return _boxed((labels, ref, total))


def _moved(stats: GaussianStats, shift: np.ndarray) -> GaussianStats:
    """The same statistics with ``shift`` added to the mean of every non-empty group."""
    if not np.any(shift):
        return stats
    return stats.shifted(shift)


def _finish(part: tuple[Any, np.ndarray, GaussianStats]) -> tuple[Any, GaussianStats]:
    """Labels and statistics in the data's own coordinates (a local, read-only copy)."""
    labels, ref, stats = part
    return labels, _moved(stats, ref) if np.any(ref) else _fresh(stats)


def _unbox(box: Any) -> Any:
    return box[0] if isinstance(box, np.ndarray) and box.dtype == object else box


def _align(
    ref: np.ndarray, stats: GaussianStats, labels: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, GaussianStats]:
    """Reference rows and per-class statistics re-indexed from ``labels`` to ``target``."""
    if len(labels) == len(target) and np.array_equal(labels, target):
        return ref, stats
    where = np.searchsorted(target, labels)
    new_ref = np.zeros((len(target),) + ref.shape[1:])
    new_ref[where] = ref
    return new_ref, stats.regroup(where, len(target))


def _tree_reduce(parts: list[Any], combine: Callable[[list[Any]], Any]) -> Any:
    """Merge delayed partial results ``SPLIT_EVERY`` at a time until one is left."""
    import dask

    task = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [task(parts[i : i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
    return dask.delayed(_unbox, pure=True)(parts[0])


def _fresh(stats: GaussianStats) -> GaussianStats:
    """A local copy (read-only arrays again, whatever the transport did to them)."""
    return dataclasses.replace(stats)


def _predict_block(
    X: np.ndarray, model: GaussianClassifier, method: str, block_info: Any = None
) -> np.ndarray:
    """``model.<method>`` on one block; NaN or infinity reported by global row."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    if X.shape[0] == 0:
        if method == "predict":
            return np.empty((0,), dtype=model.classes_.dtype)
        return np.empty((0, len(model.classes_)))
    X = _block_numbers(X)
    rows = np.arange(start, start + X.shape[0])
    return _located(lambda: getattr(model, method)(X), X, rows)


__all__ = [
    "client_for",
    "fit_classifier_stats",
    "predict_blocks",
    "read_parquet_xy",
    "stats_from_dask",
]
