"""Compiled kernels (numba) for the hot loops of fit and predict.

The front end :mod:`gaussmle.kernels._kernels` decides whether numba is used
(:func:`~gaussmle.kernels._kernels.available`), prepares the arguments and
calls the compiled modules, which are imported only on first use:

- ``_numba_stats``: per-group statistics of fit (diag and full),
- ``_numba_predict``: diag and full log densities and the best class,
- ``_numba_linear``: the tied (linear discriminant) scores,
- ``_numba_softmax``: the log-sum-exp every prediction kernel shares.

The compiled modules import nothing from the front end (no import cycle).
Figures behind the tuning constants are in ``docs/kernels.md``.
"""
