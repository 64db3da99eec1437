"""What every analyst notebook does first: find the project, load the checked observations, and
(for the fit notebooks) the scenario, its sampler settings and the fit - one function each, so the
notebooks call the package instead of repeating the set-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def project_root(data_dir: str | Path) -> Path:
    """The checkout the notebook runs in: the working directory, or its parent when the kernel was
    started in notebooks/."""
    cwd = Path.cwd()
    return cwd if (cwd / data_dir).exists() else cwd.parent


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
    """Fit the scenario on the data directory (or load the cached fit), with its summary."""
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
