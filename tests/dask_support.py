"""An in-process Dask cluster for the tests: no worker processes, HTTP endpoints on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import distributed


@contextmanager
def in_process_client() -> Iterator[Any]:
    """A ``distributed.Client`` on a one-worker, two-thread cluster in this process."""
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=False,
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
