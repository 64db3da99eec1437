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
# # 05 — Forensic checks of the official series
# Published claims that China's official organ-donation figures look manufactured, tested on the
# data tgap holds (docs/forensics.md): curve fits of the deceased-donor series, the same fits on
# every country in the WHO-ONT GODT tables, internal ratios, and consistency between sources.
# The checks report numbers and flags; they do not decide whether any data were fabricated. The
# scenario does not enter these checks (they use no model); it is a parameter only so that every
# notebook runs with the same parameters.

# %% tags=["parameters"]
data_dir = "data/raw"
scenario = "baseline"
quick = False
godt_dir = ""  # directory of GODT exports ("" = ../shared/data/godt beside the checkout)
out_dir = ""   # where the forensic outputs go ("" = a temporary directory)

# %%
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from analysis.forensics.run import official_donor_series, run_forensics, summary
from analysis.report.forensics_section import NOT_EVIDENCE, load_section
from analysis.report.session import load_observations, project_root

root = project_root(data_dir)
_, obs = load_observations(data_dir)
godt = Path(godt_dir) if godt_dir else root.parent / "shared" / "data" / "godt"
godt_paths = sorted(godt.glob("*.csv")) if godt.is_dir() else []
out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="tgap-forensics-"))
print(f"{len(obs)} observations; GODT exports: {', '.join(p.name for p in godt_paths) or 'none found in ' + str(godt)}")
if not godt_paths:
    print("GODT exports not found: the multi-country benchmark and the GODT ratio checks are skipped; "
          "only checks on the observations run.")

# %%
result = run_forensics(obs, godt_paths, out, charts=True)
section = load_section(out, godt_dir=godt, godt_found=bool(godt_paths))
print(NOT_EVIDENCE)
print(f"{len(result)} result rows written to {out}/forensics.csv")

# %% [markdown]
# ## The official deceased-donor series
# One value per year, chosen by source kind (registry, then official statement, ...); see
# `official_donor_series` for the rule.

# %%
official_donor_series(obs)

# %% [markdown]
# ## Fits and their rank among GODT countries
# 1 − R² of each fit; rank and percentile among the GODT countries' fits over comparable windows
# (percentile 0 = closer to a perfect fit than every country); orders of magnitude between the
# median country's 1 − R² and the series'.

# %%
fits = summary(result)
fits[fits["model"].isin(["quadratic", "quadratic_origin"])].round(4) if len(fits) else fits

# %% [markdown]
# ## Flags raised

# %%
section.flag_counts

# %%
section.flagged.head(15 if quick else 40)

# %% [markdown]
# ## Charts

# %%
for png, caption in section.charts:
    print(caption)
    display(Image(filename=str(png)))
if not section.charts:
    print("no charts (no series with enough points)")

# %%
pd.Series(section.messages, dtype=str)
