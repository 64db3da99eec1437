"""Fit a scenario: build the model, sample, add log-likelihood and predictive draws, cache.

A fit is identified by a key: hash of (data, scenario, sampler settings, code). An identical call
loads the cached InferenceData; a cached file whose attrs disagree with the request is refused.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import __version__
from analysis.io import code_version, sha256_text
from analysis.model import cache
from analysis.progress import status
from analysis.runtime import CACHE_DIR
from analysis.scenarios import Scenario

PACKAGE_DIR = Path(__file__).resolve().parents[1]


class CacheMismatch(Exception):
    """A cached fit's attrs do not match the request; lists the differing keys."""


@dataclass
class SamplerSettings:
    name: str
    chains: int
    draws: int
    tune: int
    target_accept: float
    seed: int
    mass_matrix: str = "low_rank"
    prior_draws: int = 500

    @classmethod
    def from_scenario(cls, scenario: Scenario, quick: bool = False, **overrides) -> SamplerSettings:
        s = dict(scenario.get("sampler"))
        quick_cfg = s.pop("quick")
        if quick:
            s.update(quick_cfg)
        s.update({k: v for k, v in overrides.items() if v is not None})
        if quick:
            s.setdefault("prior_draws", 200)
        return cls(**s)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FitResult:
    idata: object
    evidence: object
    scenario: Scenario
    settings: SamplerSettings
    key: str
    from_cache: bool
    timings: dict = field(default_factory=dict)
    path: Path | None = None  # the cached idata.nc this fit was saved to or loaded from


FIT_CODE = ("model", "data", "scenarios", "io.py", "runtime.py", "__init__.py")  # what a fit depends on


def code_hash() -> str:
    """Hash of the source a fit depends on (so edited model code never reuses a stale fit).

    Reports, sensitivity and forensics code is left out: editing a chart must not discard fits.
    """
    h = hashlib.sha256()
    files = [p for part in FIT_CODE for p in ([PACKAGE_DIR / part] if part.endswith(".py")
                                              else sorted((PACKAGE_DIR / part).rglob("*")))]
    for p in files:
        if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(PACKAGE_DIR)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def observations_hash(obs: pd.DataFrame) -> str:
    return sha256_text(obs.to_csv(index=False, lineterminator="\n"))


def fit_attrs(scenario: Scenario, data_hash: str, settings: SamplerSettings) -> dict:
    return {
        "scenario_name": scenario.name,
        "scenario_hash": scenario.hash,
        "scenario_json": scenario.canonical(),
        "data_hash": data_hash,
        "sampler_json": json.dumps(settings.as_dict(), sort_keys=True),
        "seed": settings.seed,
        "code_hash": code_hash(),
        "tgap_version": __version__,
    }


def fit_key(attrs: dict) -> str:
    keys = ["scenario_hash", "data_hash", "sampler_json", "code_hash"]
    return sha256_text("|".join(str(attrs[k]) for k in keys))[:20]


_COMPILED: dict[str, dict] = {}  # per process: structure key -> built model (+ nutpie compile, start finder)
_LOCK = threading.Lock()  # the cached models are shared state: one fit at a time per process


def structure_key(evidence, scenario: Scenario) -> str:
    """What a compiled model depends on: the code and the model's structure, not its inputs."""
    from analysis.model.inputs import structure

    return sha256_text(code_hash() + "|" + structure(evidence, scenario))[:20]


def model_entry(evidence, scenario: Scenario) -> tuple[dict, bool]:
    """The process's cache entry for this model structure ({"model": ...} plus, once used,
    "nutpie" and "finder"); (entry, built now?)."""
    from analysis.model.build import build_model

    key = structure_key(evidence, scenario)
    fresh = key not in _COMPILED
    if fresh:
        _COMPILED[key] = {"model": build_model(evidence, scenario)}
    return _COMPILED[key], fresh


NUTPIE_BACKENDS = {"nutpie": "numba", "nutpie-jax": "jax"}  # sampler name -> nutpie's backend
JAX_SAMPLERS = ("nutpie-jax", "numpyro", "blackjax")


XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def use_jax() -> None:
    """Before a JAX compilation: register the ops PyTensor lacks (jax_ops) and keep JAX's
    compiled programs in the project's cache (.cache/jax), so a fresh process reuses them.
    XLA runs each density call on one thread unless XLA_FLAGS says otherwise (the chains run in
    parallel already; measured 0.25-0.28 vs 0.37-0.40 ms per call with XLA's default threading;
    effective only if JAX has not started its backend yet)."""
    import os

    os.environ.setdefault("XLA_FLAGS", XLA_FLAGS)
    import jax

    import analysis.model.jax_ops  # noqa: F401  (registers Erfcx)

    jax.config.update("jax_compilation_cache_dir", str(CACHE_DIR / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def numba_flags() -> dict:
    """PyTensor flags for a numba compilation: fastmath off unless PYTENSOR_FLAGS asks for it
    (``numba__fastmath=True``). ``analysis.runtime.configure`` sets it off before PyTensor is
    imported; this catches a process that imported PyTensor first.

    With PyTensor's default fastmath flags (``reassoc`` among them) the compiled log density
    differed in its last bit between fresh processes (same data, same point; the gradient did
    not), so the mode search, and from it every draw, differed between two runs of the same
    command. Without them the density, the mode and the draws were identical in fresh processes
    (benchmarks/determinism.py; docs/validation.md, "Identical bytes")."""
    import os

    import pytensor

    asked = os.environ.get("PYTENSOR_FLAGS", "").replace(" ", "")
    if "numba__fastmath=True" in asked or not pytensor.config.numba__fastmath:
        return {}
    return {"numba__fastmath": False}


def compile_nutpie(model, backend: str = "numba"):
    """(nutpie's compiled model, the PyMC model it was compiled from). For numba, PyTensor's numba
    density called from nutpie (``numba_cached``: loaded from numba's disk cache in a fresh
    process, where nutpie's own cfunc route recompiled it). For the jax backend the model is a
    copy with frozen dimensions (JAX needs static shapes) whose data stay inputs (``with_data``:
    one compilation serves every dataset and scenario of this structure, as with numba); its
    value variables may come in another order, so its start is found on the copy."""
    if backend == "numba":
        import pytensor

        from analysis.model.numba_cached import compile_numba_cached

        for flag, value in numba_flags().items():
            # for the rest of the process, not only this call: a flag changed for one call only
            # gave a density that failed (-inf) at every point when numba's disk cache was empty
            setattr(pytensor.config, flag, value)
        return compile_numba_cached(model), model
    import nutpie
    from pymc.model.transform.optimization import freeze_dims_and_data

    use_jax()
    frozen = freeze_dims_and_data(model, data=[])
    return nutpie.compile_pymc_model(frozen, backend="jax", gradient_backend="jax",
                                     freeze_model=False), frozen


def ensure_nutpie(entry: dict, name: str = "nutpie") -> float:
    """Compile the entry's model for nutpie (once per backend: entry[name], and its start
    finder entry["finder"] (numba) or entry["finder:" + name]); seconds spent compiling now.
    The first evaluation of the density and of the draws' expansion (numba's or JAX's compile, or
    their load from the disk cache) is part of compiling."""
    from analysis.model.start import StartFinder, density

    t0 = time.perf_counter()
    if name not in entry:
        backend = NUTPIE_BACKENDS[name]
        with status(f"compiling the model for {name}"):
            compiled, model = compile_nutpie(entry["model"], backend)
            finder = StartFinder(model)
            x0 = finder.x0(None)
            density(compiled)(x0)
            compiled._make_expand_func(0, 0, 0)(x0, **compiled._shared_data)
        entry[name], entry[finder_key(name)] = compiled, finder
    return round(time.perf_counter() - t0, 2)


def finder_key(name: str) -> str:
    return "finder" if name == "nutpie" else f"finder:{name}"


def _cached_model(evidence, scenario: Scenario) -> tuple[dict, dict, bool]:
    """(cache entry, inputs, built now?) with the entry's pm.Data set to this fit's inputs and
    entry["paths"] to where this fit's mode search starts."""
    import pymc as pm

    from analysis.model.build import start_paths
    from analysis.model.inputs import model_inputs

    entry, fresh = model_entry(evidence, scenario)
    inputs = model_inputs(evidence, scenario)
    with entry["model"]:
        pm.set_data(inputs)
    entry["paths"] = start_paths(evidence, scenario)
    return entry, inputs, fresh


def _sample(entry: dict, inputs: dict, settings: SamplerSettings, progressbar: bool):
    """Sample the cached model with these inputs; sampler-specific timings go to entry["timings"]."""
    import pymc as pm

    model = entry["model"]
    kw = dict(draws=settings.draws, tune=settings.tune, chains=settings.chains,
              target_accept=settings.target_accept, progressbar=progressbar)
    if settings.name == "pymc":
        return pm.sample(cores=min(settings.chains, 2), random_seed=settings.seed, model=model,
                         initvals=entry["paths"], compute_convergence_checks=False, **kw)
    if settings.name in NUTPIE_BACKENDS:
        import nutpie

        from analysis.model.start import sample_from_mode

        compile_s = ensure_nutpie(entry, settings.name)
        finder = entry[finder_key(settings.name)]
        idata, start, times = sample_from_mode(
            nutpie, entry[settings.name], finder.model, finder, inputs, entry["paths"],
            draws=settings.draws, tune=settings.tune, chains=settings.chains,
            target_accept=settings.target_accept, seed=settings.seed, progress_bar=progressbar,
            low_rank_modified_mass_matrix=settings.mass_matrix == "low_rank")
        idata.attrs["sampler_start"] = start
        entry["timings"] = {"compile_s": compile_s, **times}
        return idata
    if settings.name in JAX_SAMPLERS:
        use_jax()
    return pm.sample(nuts_sampler=settings.name, random_seed=settings.seed, model=model,
                     compute_convergence_checks=False, **kw)


def run_fit(obs: pd.DataFrame, scenario: Scenario, settings: SamplerSettings,
            use_cache: bool = True, progressbar: bool = False, cache_dir: Path | None = None,
            light: bool = False) -> FitResult:
    """Fit (or load from cache) and return the InferenceData with provenance in attrs.

    ``light``: a fit loaded from the cache comes as ``cache.DrawGroups`` (xarray only, no ArviZ
    import), for callers that only read draws (``tgap report``)."""
    from analysis.model.coverage import check_coverage
    from analysis.model.evidence import build_evidence

    check_coverage(obs, scenario)  # ScenarioError before any model is built
    attrs = fit_attrs(scenario, observations_hash(obs), settings)
    key = fit_key(attrs)
    evidence = build_evidence(obs, scenario)
    cache_path = Path(cache_dir or CACHE_DIR / "fits") / key / "idata.nc"
    if use_cache:
        cache.sweep(cache_path.parent.parent)  # temp files of fits killed while saving
    if use_cache and cache_path.exists():
        t0 = time.perf_counter()
        idata, problem = cache.load(cache_path, light)  # sha256-verified; None when it must not be used
        if idata is not None:
            check_attrs(dict(idata.attrs), attrs, cache_path)
            return FitResult(idata, evidence, scenario, settings, key, True,
                             {"load_s": round(time.perf_counter() - t0, 2)}, cache_path)
        cache.report(cache_path, problem)
    idata, timings = _fit_fresh(evidence, scenario, settings, progressbar)
    idata.attrs.update(attrs | {"fit_key": key, "code_version": code_version()})
    cache.strip_volatile(idata)  # created_at in every group: identical fits, identical bytes
    if use_cache:
        cache.save(idata, cache_path)
    return FitResult(idata, evidence, scenario, settings, key, False, timings,
                     cache_path if use_cache else None)


def _fit_fresh(evidence, scenario: Scenario, settings: SamplerSettings, progressbar: bool):
    import pymc as pm

    with _LOCK:
        t0 = time.perf_counter()
        entry, inputs, fresh = _cached_model(evidence, scenario)
        model = entry["model"]
        t1 = time.perf_counter()
        idata = _sample(entry, inputs, settings, progressbar)
        t2 = time.perf_counter()
        with model, status("log-likelihood and predictive draws"):
            pm.compute_log_likelihood(idata, progressbar=False)
            prior = pm.sample_prior_predictive(draws=settings.prior_draws, random_seed=settings.seed)
            idata.extend(prior)
            # var_names explicit: without it PyMC 5.28 appends the observed variables to
            # model.observed_RVs again whenever idata has observed_data (it compares names with
            # variables), and the shared model's log density can no longer be built
            pm.sample_posterior_predictive(idata, var_names=[v.name for v in model.observed_RVs],
                                           random_seed=settings.seed, extend_inferencedata=True,
                                           progressbar=False)
        t3 = time.perf_counter()
    for group in ("posterior", "sample_stats"):
        # timing attrs differ run to run; keep them out of the data so files are reproducible (ArviZ's
        # provenance - arviz_version, inference_library, inference_library_version - stays beside tgap's)
        for k in ("created_at", "sampling_time"):
            getattr(idata, group).attrs.pop(k, None) if hasattr(idata, group) else None
    timings = {"build_s": round(t1 - t0, 2), "sample_s": round(t2 - t1, 2),
               **entry.pop("timings", {}), "predictive_s": round(t3 - t2, 2), "model_reused": not fresh}
    return idata, timings


def sample_with_inputs(evidence, scenario: Scenario, settings: SamplerSettings, edit=None):
    """Posterior draws of the model of (evidence, scenario) with its inputs changed by ``edit``
    (inputs dict -> inputs dict, e.g. row weights set to 0) - the compiled model is reused, so a
    series of refits (leave-one-origin-out) compiles once. No predictive draws, no cache."""
    with _LOCK:
        entry, inputs, _ = _cached_model(evidence, scenario)
        if edit is not None:
            import pymc as pm

            inputs = edit(dict(inputs))
            with entry["model"]:
                pm.set_data(inputs)
        return _sample(entry, inputs, settings, progressbar=False)


def check_attrs(found: dict, expected: dict, path: Path) -> None:
    diff = [k for k in expected if str(found.get(k)) != str(expected[k])]
    if diff:
        raise CacheMismatch(f"cached fit {path} does not match this request; differing attrs: "
                            + ", ".join(diff) + " (use --no-cache to refit)")
