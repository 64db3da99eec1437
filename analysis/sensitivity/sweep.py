"""Fit many scenario variants: one task per point, run through joblib (local processes) or a Dask
distributed cluster, with a progress display; a failed point is recorded with its error and the
sweep goes on.

The worker function (:func:`fit_point`) is a plain top-level function of picklable arguments, so
the same code runs in-process (``jobs=1``), in joblib's process pool, or on any Dask scheduler
(``backend="dask"``; a ``LocalCluster`` when no address is given). Each worker process compiles a
model structure once and reuses it (``analysis.model.fit``); fits are cached on disk by data,
scenario, sampler and code, so re-running a sweep only loads them.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.progress import Counter
from analysis.scenarios import Scenario

BACKENDS = ("local", "dask")
DASK_CONNECT_TIMEOUT = "20s"


class BackendError(Exception):
    """The parallel backend cannot run the sweep (e.g. no Dask scheduler at the address)."""


@dataclass
class FitJob:
    """What every point of a sweep shares: data, base scenario, sampler choices, cache."""

    obs: pd.DataFrame
    base: Scenario
    quick: bool = False
    sampler: dict = field(default_factory=dict)  # SamplerSettings overrides (draws, tune, ...)
    cache_dir: str | None = None  # absolute, so workers elsewhere find the same cache
    use_cache: bool = True

    def scenario(self, overrides: dict) -> Scenario:
        return self.base.with_overrides(overrides, label=f"overrides of {self.base.name}")

    def settings(self, scenario: Scenario):
        from analysis.model.fit import SamplerSettings

        return SamplerSettings.from_scenario(scenario, quick=self.quick, **self.sampler)


def fit_once(job: FitJob, overrides: dict):
    """Fit (or load) the base scenario with ``overrides``; returns the FitResult."""
    from analysis.runtime import configure

    configure()
    from analysis.model.fit import run_fit

    scenario = job.scenario(overrides)
    return run_fit(job.obs, scenario, job.settings(scenario), use_cache=job.use_cache,
                   progressbar=False, cache_dir=Path(job.cache_dir) if job.cache_dir else None)


def summarize_result(result, extra_means: Iterable[str] = ()) -> dict:
    """Period and yearly gap summaries and the diagnostics gate of one fit (small, picklable)."""
    from analysis.model.summarize import diagnostics, gap_by_period, periods_resolved

    sc = result.scenario
    years = result.evidence.years
    periods = periods_resolved(sc.get("years.periods"), years)
    per = gap_by_period(result.idata, periods)
    post = result.idata.posterior
    for var in extra_means:  # posterior mean per year of a latent, averaged over each period
        da = post[var].mean(("chain", "draw"))
        per[f"{var}_per_year"] = [float(da.sel(year=slice(a, b)).mean()) for a, b in periods]
    g = post["gap"].stack(sample=("chain", "draw")).transpose("year", "sample").values
    by_year = pd.DataFrame({"year": post["gap"]["year"].values, "gap_mean": g.mean(axis=1),
                            "gap_median": np.median(g, axis=1),
                            "gap_q05": np.quantile(g, 0.05, axis=1),
                            "gap_q95": np.quantile(g, 0.95, axis=1)})
    diag = diagnostics(result.idata, periods, sc.get("diagnostics"))
    return {"by_period": per, "by_year": by_year, "diagnostics": diag, "fit_key": result.key,
            "from_cache": result.from_cache, "periods": periods}


def fit_point(job: FitJob, overrides: dict) -> dict:
    """Worker: fit one point and summarise it. Never raises: a failure is returned as data."""
    t0 = time.perf_counter()
    try:
        out = summarize_result(fit_once(job, overrides))
        out["status"], out["error"] = "ok", ""
    except Exception as exc:  # noqa: BLE001 - a failed point is a result, the sweep goes on
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        out = {"status": "failed", "error": f"{type(exc).__name__}: {exc}{where}"}
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def _tagged(fn: Callable, index: int, *args) -> tuple[int, object]:
    return index, fn(*args)


def run_tasks(fn: Callable, args: list[tuple], backend: str = "local", jobs: int = 1,
              scheduler: str | None = None) -> Iterator[tuple[int, object]]:
    """Yield ``(i, fn(*args[i]))`` as tasks complete, on joblib or Dask.

    ``fn`` should not raise (see :func:`fit_point`); if it does, the exception propagates.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, found {jobs}")
    if backend == "local":
        if scheduler:
            raise ValueError("--scheduler needs --backend dask")
        yield from _run_joblib(fn, args, jobs)
    else:
        yield from _run_dask(fn, args, jobs, scheduler)


def _run_joblib(fn, args, jobs):
    if jobs == 1:  # in this process: compiled models stay warm between points
        for i, a in enumerate(args):
            yield i, fn(*a)
        return
    from joblib import Parallel, delayed

    par = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    yield from par(delayed(_tagged)(fn, i, *a) for i, a in enumerate(args))


def _run_dask(fn, args, jobs, scheduler):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise RuntimeError("--backend dask needs dask[distributed] installed") from exc
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BackendError(f"cannot reach a Dask scheduler at {scheduler!r} "
                               f"(waited {DASK_CONNECT_TIMEOUT}): {exc}") from None
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(_tagged, fn, i, *a, pure=False) for i, a in enumerate(args)]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class Progress(Counter):
    """A rich progress bar on a terminal; plain ``[i/n] ...`` lines otherwise (analysis.progress)."""


def run_sweep(job: FitJob, points: list, backend: str = "local", jobs: int = 1,
              scheduler: str | None = None, progress: Progress | None = None) -> list[dict]:
    """Fit every point; results in the points' order (each with ``status`` and ``error``)."""
    results: list[dict | None] = [None] * len(points)
    args = [(job, p.overrides) for p in points]
    for i, res in run_tasks(fit_point, args, backend, jobs, scheduler):
        results[i] = res
        if progress is not None:
            p = points[i]
            tail = "" if res["status"] == "ok" else f"  FAILED: {res['error']}"
            cached = " (cached)" if res.get("from_cache") else ""
            progress.update(f"{p.label}: {res['status']}{cached} in {res['seconds']} s{tail}")
    return results  # type: ignore[return-value]
