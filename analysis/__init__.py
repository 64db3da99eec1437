"""tgap: how many transplanted organs do declared sources explain, and how sure can one be.

Layers, imported one way only: ``analysis.data`` -> ``analysis.model`` -> ``analysis.report``.

For Python and Jupyter, two functions (imported lazily, so ``import analysis`` stays light)::

    from analysis import load_fit, load_observations
    raw, obs = load_observations()              # data/raw of the project root, validated
    fit = load_fit(scenario="baseline")         # the CLI's cached fit when one matches, else a fit
    fit.result.idata, fit.summary["gap_by_period"]

See analysis.report.session for the arguments.
"""

__version__ = "0.1.0"
__all__ = ["__version__", "load_fit", "load_observations"]

_API = {"load_fit": "analysis.report.session", "load_observations": "analysis.report.session"}


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
