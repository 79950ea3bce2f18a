"""The task runner every newsflow flow uses, chosen from the settings when a flow run starts.

A flow's task runner is fixed when the `@flow` decorator runs, but newsflow's flows are imported by
`newsflow serve`, by Prefect workers and by the CLI, each configured by its own environment. So the
flows carry one `NewsflowTaskRunner`, which reads `NEWSFLOW_TASK_RUNNER` (and the Dask settings) as the
run starts and hands every submission to the runner it built:

- `thread` (default): Prefect's `ThreadPoolTaskRunner` in the flow run's process;
- `dask`: prefect-dask's `DaskTaskRunner`, on the cluster at `NEWSFLOW_DASK_ADDRESS`, or on a temporary
  `distributed.LocalCluster` of `NEWSFLOW_DASK_WORKERS` worker processes when no address is set.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from urllib.parse import urlsplit

from prefect.futures import PrefectFuture, PrefectFutureList
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from newsflow.settings import Settings, get_settings


def build_task_runner(settings: Settings) -> TaskRunner[Any]:
    """The concrete task runner the settings ask for (not started)."""
    if settings.task_runner == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:  # pragma: no cover - prefect-dask is a dependency
            raise RuntimeError("NEWSFLOW_TASK_RUNNER=dask needs the prefect-dask package") from exc
        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": settings.dask_workers, "threads_per_worker": 1, "processes": True},
        )
    return ThreadPoolTaskRunner(max_workers=settings.thread_workers)


def local_server_url() -> str | None:
    """The API URL of the ephemeral Prefect server this flow run talks to, or None.

    None when PREFECT_API_URL names a server (workers receive it with the run's settings) or outside a
    flow run.
    """
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    client = getattr(FlowRunContext.get(), "client", None)
    url = getattr(client, "api_url", None)
    return str(url) if url else None


def local_run_settings(local_url: str | None = None) -> AbstractContextManager[object]:
    """Prefect settings for flow runs started in local mode (no PREFECT_API_URL): no flow-run heartbeats.

    Heartbeats let a server that outlives a run mark it crashed when the run's process dies. In local
    mode the server is Prefect's ephemeral one, a child of the run's process that dies with it (even after a
    kill -9: newsflow/localserver.py), so no one reads them; and Prefect 3.8 stops the heartbeat thread by
    joining it while it sleeps in one-second steps, which added up to a second to the end of every run
    (measured: 1,000 articles, 0.85 s from the last batch stored to the flow's return with heartbeats, 0.08 s
    without). With PREFECT_API_URL set (`newsflow serve`, a worker, a server of your own) nothing changes.
    Used by `newsflow run`, which starts that local server itself (`newsflow.localserver.LocalServer`) and
    passes its API URL as `local_url`: the run then talks to it, still without heartbeats.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if local_url:
        return temporary_settings(updates={PREFECT_API_URL: local_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    if PREFECT_API_URL.value():
        return nullcontext()
    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


def _is_local_dask(runner: TaskRunner[Any] | None) -> bool:
    """A Dask runner whose workers run on this machine (a LocalCluster, or a scheduler on loopback)."""
    if runner is None or type(runner).__name__ != "DaskTaskRunner":
        return False
    address = getattr(runner, "address", None)
    if not address:
        return True
    host = urlsplit(str(address)).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class NewsflowTaskRunner(TaskRunner[PrefectFuture[Any]]):
    """Delegates to the runner `build_task_runner(get_settings())` returns, built when the run starts."""

    def __init__(self) -> None:
        super().__init__()
        self._inner: TaskRunner[Any] | None = None
        self._worker_api_url: str | None = None
        self._api_checked = False

    @property
    def name(self) -> str:
        return "newsflow"

    @property
    def inner(self) -> TaskRunner[Any]:
        if self._inner is None:
            raise RuntimeError("The task runner must be started before submitting work.")
        return self._inner

    def duplicate(self) -> NewsflowTaskRunner:
        return type(self)()

    def submit(
        self,
        task: Any,
        parameters: dict[str, Any],
        wait_for: Iterable[PrefectFuture[Any]] | None = None,
        dependencies: dict[str, set[Any]] | None = None,
    ) -> PrefectFuture[Any]:
        with self._api_for_workers():
            return self.inner.submit(task, parameters, wait_for=wait_for, dependencies=dependencies)

    def map(
        self, task: Any, parameters: dict[str, Any], wait_for: Iterable[PrefectFuture[Any]] | None = None
    ) -> PrefectFutureList[Any]:
        with self._api_for_workers():
            return self.inner.map(task, parameters, wait_for=wait_for)

    def _api_for_workers(self) -> AbstractContextManager[object]:
        """Settings under which a task is submitted to a local Dask cluster: the flow's own API URL.

        A flow run without PREFECT_API_URL talks to Prefect's ephemeral server in its process. Dask
        workers receive the submitting context's settings, which name no server, so each worker started
        an ephemeral server of its own (measured: 11 s of CPU per worker) and reported its task runs
        there. Naming the flow's server in the submitted settings sends them where the flow run is.
        """
        if not self._api_checked:
            self._worker_api_url = local_server_url() if _is_local_dask(self._inner) else None
            self._api_checked = True
        if not self._worker_api_url:
            return nullcontext()
        from prefect.settings import PREFECT_API_URL, temporary_settings

        return temporary_settings(updates={PREFECT_API_URL: self._worker_api_url})

    def cancel_all(self) -> None:
        cancel = getattr(self._inner, "cancel_all", None)
        if cancel is not None:
            cancel()

    def __enter__(self) -> NewsflowTaskRunner:
        super().__enter__()
        inner = build_task_runner(get_settings())
        inner.__enter__()
        self._inner = inner
        self.logger.debug("task runner: %s", type(inner).__name__)
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        inner, self._inner = self._inner, None
        self._worker_api_url, self._api_checked = None, False
        try:
            if inner is not None:
                inner.__exit__(exc_type, exc_value, traceback)
        finally:
            super().__exit__(exc_type, exc_value, traceback)

    def __getstate__(self) -> dict[str, Any]:
        # Flow run contexts are serialised for remote task runs: the started runner stays behind.
        state = self.__dict__.copy()
        state["_inner"] = None
        return state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewsflowTaskRunner)

    __hash__ = object.__hash__
