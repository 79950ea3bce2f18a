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
from typing import Any

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


class NewsflowTaskRunner(TaskRunner[PrefectFuture[Any]]):
    """Delegates to the runner `build_task_runner(get_settings())` returns, built when the run starts."""

    def __init__(self) -> None:
        super().__init__()
        self._inner: TaskRunner[Any] | None = None

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
        return self.inner.submit(task, parameters, wait_for=wait_for, dependencies=dependencies)

    def map(
        self, task: Any, parameters: dict[str, Any], wait_for: Iterable[PrefectFuture[Any]] | None = None
    ) -> PrefectFutureList[Any]:
        return self.inner.map(task, parameters, wait_for=wait_for)

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
