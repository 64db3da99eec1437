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
# # 01 — Data overview
# Every cited figure in `data/raw/`, by family and year. Colour = who speaks (source kind);
# marker = what kind of figure (reported, estimate, capacity, bound). Ranges are vertical bars,
# multi-year figures horizontal segments. Nothing here is modelled: these are the claims as
# published, each traceable to its source, locator and quote.

# %% tags=["parameters"]
data_dir = "data/raw"
scenario = "baseline"
quick = False

# %%
import os

import matplotlib.pyplot as plt

from analysis.report import overview
from analysis.report.session import load_observations

raw, obs = load_observations(data_dir)
print(f"{len(obs)} observations from {obs['source_id'].nunique()} sources")
obs.groupby(["family", "kind"]).size().unstack(fill_value=0)

# %% [markdown]
# ## Every series by year

# %%
fig, axes = plt.subplots(2, 2, figsize=(12, 8))
for ax, family in zip(axes.flat, overview.FAMILY_TITLES):
    overview.plot_family(obs, family, ax=ax)
fig.tight_layout()

# %% [markdown]
# ## Coverage: which years have which series

# %%
overview.plot_coverage(obs, year_min=1990, max_series=40 if quick else 80);

# %% [markdown]
# ## Sources

# %%
overview.sources_table(obs, raw.sources).head(20 if quick else 200)

# %% [markdown]
# ## Conflicting figures
# Two sources giving different figures for the same quantity and year(s). Both rows are kept;
# the model weighs them through their source kind's bias and noise.

# %%
conflicts = overview.conflicting_pairs(obs)
print(f"{len(conflicts)} conflicting pairs")
conflicts.sort_values("rel_diff", ascending=False).head(30)

# %% [markdown]
# ## Who produced the figures: the weight of each origin
# A figure's origin is its producer (`data/raw/origins.csv`), the source only where it was read.
# Rows with the same origin, quantity, organ, donor type, years and reading are one claim: one
# row enters the model, the others are relays (analysis/model/claims.py). claims = likelihood
# rows of the origin in this scenario; rows = its observations in the data; relays collapsed =
# its rows excluded as relays of one of its claims.

# %%
from analysis.model.claims import origin_weights
from analysis.model.evidence import build_evidence
from analysis.scenarios import load_scenario

evidence = build_evidence(obs, load_scenario(os.environ.get("TGAP_SCENARIO", scenario)))
origin_weights(evidence, obs)

# %%
import importlib.metadata as md

print({p: md.version(p) for p in ["pandas", "numpy", "matplotlib", "pandera"]}, os.environ.get("TGAP_SCENARIO", scenario))
