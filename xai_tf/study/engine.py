"""Where a study's units of work run: in this process, or on a Dask distributed cluster.

Dask distributed (``dask[distributed]``) is used as it is: it schedules the tasks, moves results
back, and reruns the tasks of a worker that died (the scheduler reschedules a lost worker's tasks;
``retries`` covers exceptions). This module only opens the cluster and hands each result to the
caller, which alone writes the stores (one writer: no locks across machines).

``dask``:

- ``None``: in-process, one unit after another (the default);
- ``"local:N"``: a ``LocalCluster`` of N worker processes, one thread each, on 127.0.0.1 only;
- ``"tcp://host:8786"``: a running scheduler (``dask scheduler`` + ``dask worker``, dask-jobqueue's
  ``SLURMCluster``/``PBSCluster``, a Kubernetes deployment). The workers must see the study's output
  folder at the same path (a shared file system, as clusters have): they load the trained models
  from it;
- a ``distributed.Client``: used as it is and left open.

GPU workers: start them with ``dask worker tcp://host:8786 --resources GPU=1`` (dask-jobqueue:
``SLURMCluster(..., worker_extra_args=["--resources", "GPU=1"])``) and give the study
``resources: {GPU: 1}``; every model-heavy task (training, explaining) then asks for that resource,
so it runs only on those workers, one at a time per GPU.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

RETRIES = 2


def check_dask(dask) -> None:
    """ValueError/TypeError for a ``dask`` argument that is none of the accepted forms (see the module)."""
    if dask is None:
        return
    if isinstance(dask, str):
        if dask.startswith("local:"):
            count = dask[len("local:"):]
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"dask={dask!r}: expected local:N with N >= 1 worker processes")
            return
        if dask.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            return
        raise ValueError(f"dask must be None, 'local:N' or a scheduler address like 'tcp://host:8786'; got {dask!r}")
    if type(dask).__name__ != "Client":
        raise TypeError(f"dask must be None, 'local:N', a scheduler address or a distributed.Client; got "
                        f"{type(dask).__name__}")


class InProcess:
    """Runs each unit here, in order."""

    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def run(self, function: Callable, units: Iterable[tuple[str, object]], on_result: Callable,
            resources: dict | None = None) -> None:
        """``on_result(key, function(argument))`` for each ``(key, argument)``."""
        for key, argument in units:
            on_result(key, function(argument))


class DaskCluster:
    """Submits units to a Dask cluster and hands back results as they complete."""

    def __init__(self, dask, resources: dict | None = None):
        try:
            import distributed
        except ImportError as error:  # an optional engine: say how to get it
            raise ImportError("dask= needs Dask distributed: pip install 'dask[distributed]'") from error
        self.distributed = distributed
        self.spec, self.resources = dask, resources
        self.cluster = self.client = None
        self.owned = type(dask).__name__ != "Client"

    def __enter__(self):
        distributed = self.distributed
        if not self.owned:
            self.client = self.spec
        elif self.spec.startswith("local:"):
            self.cluster = distributed.LocalCluster(
                n_workers=int(self.spec[len("local:"):]), processes=True, threads_per_worker=1, host="127.0.0.1",
                dashboard_address=None, resources=self.resources)
            self.client = distributed.Client(self.cluster)
        else:
            self.client = distributed.Client(self.spec)
        return self

    def __exit__(self, *exc):
        if self.owned:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        return False

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(self, function: Callable, units: Iterable[tuple[str, object]], on_result: Callable,
            resources: dict | None = None) -> None:
        """Submit every unit (key: the unit's own, so a unit is never computed twice at once), then
        ``on_result(key, result)`` in completion order. A task whose worker died is rerun by the
        scheduler; one that raised is retried ``RETRIES`` times, then its error is raised here."""
        futures = {}
        for key, argument in units:
            future = self.client.submit(function, argument, key=key, pure=False, retries=RETRIES,
                                        resources=resources)
            futures[future.key] = future
        try:
            for future in self.distributed.as_completed(list(futures.values())):
                on_result(future.key, future.result())
                future.release()
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise


def engine_for(dask, resources: dict | None = None):
    """The engine ``dask`` names (see the module docstring); a context manager."""
    check_dask(dask)
    if dask is None:
        return InProcess()
    return DaskCluster(dask, resources)


def say(verbose: int, message: str) -> None:
    """One progress line on stderr (verbose >= 1)."""
    if verbose >= 1:
        print(f"xai-tf study: {message}", file=sys.stderr, flush=True)
