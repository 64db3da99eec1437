"""What every analyst notebook does first: find the project, load the checked observations, and
(for the fit notebooks) the scenario, its sampler settings and the fit - one function each, so the
notebooks call the package instead of repeating the set-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def project_root(data_dir: str | Path = "data/raw") -> Path:
    """The checkout the notebook runs in: the first of the working directory and its parents that
    holds ``data_dir``, else the project root the command line uses (analysis.runtime), so a kernel
    started in notebooks/ finds the data and shares the CLI's fit cache (``<root>/.cache``)."""
    from analysis.runtime import find_project_root

    cwd = Path.cwd().resolve()
    for d in [cwd, *cwd.parents]:
        if (d / data_dir).exists():
            return d
    root = find_project_root()
    if root is None:
        raise FileNotFoundError(f"{data_dir} not found from {cwd} upward and no tgap checkout found; "
                                "pass data_dir as an absolute path or set TGAP_ROOT to the checkout")
    return root


def load_observations(data_dir: str | Path = "data/raw"):
    """(raw tables, tidy observations) of a data directory, validated as `tgap check` does
    (raises analysis.data.problems.DataError listing every problem)."""
    from analysis.data.check import validate
    from analysis.data.ingest import tidy_observations

    raw = validate(project_root(data_dir) / data_dir)
    return raw, tidy_observations(raw)


@dataclass
class NotebookFit:
    obs: object
    scenario: object
    settings: object
    result: object
    summary: dict

    def describe(self) -> str:
        s, d = self.settings, self.summary["diagnostics"]
        how = "loaded from cache" if self.result.from_cache else "fitted"
        return (f"scenario {self.scenario.name} ({self.scenario.hash[:12]}); {s.name}, {s.chains} chains x "
                f"{s.draws} draws; {how}\ndiagnostics gate {'passed' if d['passed'] else 'FAILED'}: "
                f"max R-hat {d['max_rhat']}, min ESS bulk {d['min_ess_bulk']}, divergences {d['divergences']}")


def load_fit(data_dir: str | Path = "data/raw", scenario: str = "baseline", quick: bool = False,
             cache_dir: str | Path = "") -> NotebookFit:
    """Fit the scenario on the data directory (or load the cached fit), with its summary.

    The cache is the command line's (``<project root>/.cache/fits``, or ``cache_dir``): a fit made
    by ``tgap fit``/``tgap report`` with the same scenario, data and settings is loaded, not redone.
    """
    from analysis.runtime import configure

    configure()
    from analysis.model.fit import SamplerSettings, run_fit
    from analysis.model.outputs import summarize_fit
    from analysis.scenarios import load_scenario

    _, obs = load_observations(data_dir)
    sc = load_scenario(scenario)
    settings = SamplerSettings.from_scenario(sc, quick=quick)
    result = run_fit(obs, sc, settings, cache_dir=Path(cache_dir) if cache_dir else None)
    return NotebookFit(obs, sc, settings, result, summarize_fit(result))
