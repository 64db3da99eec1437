# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 — Sensitivity to the assumptions
# Two questions a reviewer asks: which assumptions drive the result, and what one would have to
# believe for the unexplained gap to disappear. This notebook refits the model over a small grid
# of scenario values (each setting a full fit, cached), shows the one-at-a-time swings (tornado),
# every setting's gap by year and the specification curve, the power-scaling sensitivity of the
# base fit (no refits), and one break-even search. The same runs are `tgap sensitivity` and
# `tgap breakeven` (docs/sensitivity.md); this notebook only calls the package.
#
# The numbers are organs not explained by declared sources under each variant of the scenario;
# they do not say where organs came from.
#
# Cost: every refit here uses the scenario's quick sampler settings (`sampler.quick`), so the
# notebook shows how the estimate moves, in minutes; `quick = True` trims it further (one key,
# a shorter break-even search). Publication numbers: `tgap sensitivity` / `tgap breakeven` with
# the full sampler (docs/sensitivity.md).

# %% tags=["parameters"]
data_dir = "data/raw"
scenario = "baseline"
quick = False
# fit cache directory; empty: the default .cache/fits
cache_dir = ""
# where tables and charts go; empty: reports/sensitivity/<scenario>/notebook
out_dir = ""
# KEY=V1,V2 settings to refit (as tgap sensitivity --vary); quick keeps the first only
vary = ["supply.organs_per_donor.mu=1.03,1.25", "supply.share_executed_used.alpha=2,8"]
# quantity whose break-even is searched (tgap breakeven --quantity)
breakeven_quantity = "organs_per_donor"

# %%
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from analysis.runtime import CACHE_DIR, configure

configure()
from analysis.report.session import load_observations, project_root  # noqa: E402
from analysis.scenarios import load_scenario  # noqa: E402
from analysis.sensitivity.grid import parse_vary  # noqa: E402
from analysis.sensitivity.run import run_breakeven, run_sensitivity  # noqa: E402
from analysis.sensitivity.sweep import FitJob  # noqa: E402

root = project_root(data_dir)
_, obs = load_observations(data_dir)
sc = load_scenario(scenario)
out = Path(out_dir) if out_dir else root / "reports" / "sensitivity" / sc.name / "notebook"
job = FitJob(obs=obs, base=sc, quick=True, cache_dir=str(Path(cache_dir) if cache_dir else CACHE_DIR / "fits"))
varies = [parse_vary(v) for v in (vary[:1] if quick else vary)]


def show(name: str) -> None:
    """Display a chart of the run if it was drawn (none when every setting failed)."""
    path = out / name
    display(Image(filename=str(path))) if path.exists() else print(f"{name}: not drawn")


print(f"base scenario {sc.name} ({sc.hash[:12]}); varied: {', '.join(v.key for v in varies)}; "
      f"sampler {job.settings(sc).as_dict()}")

# %% [markdown]
# ## The sweep: every setting refitted

# %%
manifest = run_sensitivity(job, varies, out)
table = manifest["table"]
print(f"{manifest['settings']} settings in {manifest['wall_seconds']} s "
      f"({manifest['fits_from_cache']} from cache, {manifest['failed']} failed)")
cols = ["label", "period", "gap_median", "gap_q05", "gap_q95", "p_gap_positive", "diagnostics_passed"]
table[cols].round({"gap_median": 0, "gap_q05": 0, "gap_q95": 0, "p_gap_positive": 2})

# %% [markdown]
# ## Which assumption moves each period's gap most (one at a time)

# %%
show("tornado.png")
manifest["tornado"].round(0)

# %% [markdown]
# ## Every setting: the gap by year, and all settings sorted by estimate

# %%
show("small_multiples.png")
show("spec_curve.png")

# %% [markdown]
# ## Prior sensitivity of the base fit without refits (power-scaling)
# Values >= 0.05: the quantity moves when that block of priors (or the likelihood) is
# power-scaled. A large prior value with a small likelihood value means the data add little to
# the prior for that quantity.

# %%
print(f"power-scaling: {manifest['psense']}")
manifest["psense_table"].round(3) if manifest["psense_table"] is not None else None

# %% [markdown]
# ## Break-even: what one would have to believe for the gap to vanish
# The value of one assumption at which a period's posterior median gap is zero, every other
# assumption at the base scenario, found by a root search over refits.

# %%
be = run_breakeven(job, [breakeven_quantity], out, max_refits=3 if quick else 6)
print(f"{be['refits']} refits in {be['wall_seconds']} s")
show("breakeven.png")
be["table"][["quantity", "period", "status", "breakeven", "published_low", "published_high", "prior_low",
             "prior_high", "note"]]

# %%
print(f"organs not explained by declared sources under variants of scenario {sc.name}: tables and "
      f"charts in {out}")
pd.read_csv(out / "sensitivity.csv").groupby("period", sort=False)["gap_median"].agg(["min", "max"]).round(0)
