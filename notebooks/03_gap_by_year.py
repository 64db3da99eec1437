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
# # 03 — The gap by year
# How many transplanted organs the declared sources (executed prisoners while acknowledged,
# voluntary deceased donors, living donors) do not explain, year by year and summed over periods,
# under one scenario (docs/model.md). The numbers are posterior summaries: a median with 50% and
# 90% intervals and the probability that the gap is positive. They measure what the declared
# sources leave unexplained under the scenario's assumptions; they do not say where organs came
# from. The same charts are in `tgap report` (analysis/report/charts.py).

# %% tags=["parameters"]
data_dir = "data/raw"
scenario = "baseline"
quick = False
cache_dir = ""  # fit cache directory ("" = the default, .cache/fits)

# %%
import pandas as pd

from analysis import style
from analysis.report import charts
from analysis.report.session import load_fit

fit = load_fit(data_dir, scenario, quick, cache_dir)
obs, sc, result, summary = fit.obs, fit.scenario, fit.result, fit.summary
print(fit.describe())

# %% [markdown]
# ## Volume against the declared sources
# Stacked: each declared source (posterior medians of the running sums; whiskers: 90% intervals).
# Blue: the transplant volume (median, 90% band). Hatched: the part of the volume above the
# declared supply. Points: the published single-year volume figures by source kind; hollow ones do
# not enter the model under this scenario.

# %%
declared = charts.declared_sources_table(result.idata)
style.show(charts.plot_main(declared, sc.name, charts.volume_observations(obs, result.evidence)))

# %% [markdown]
# ## Gap by year
# Gap = volume − declared supply. Negative: the declared sources could have supplied more organs
# than were transplanted under this scenario.

# %%
gby = summary["gap_by_year"]
style.show(charts.plot_gap_by_year(gby, sc.name))

# %%
table = gby[["year", "gap_median", "gap_q05", "gap_q25", "gap_q75", "gap_q95", "p_gap_positive"]].copy()
table.round({"gap_median": 0, "gap_q05": 0, "gap_q25": 0, "gap_q75": 0, "gap_q95": 0, "p_gap_positive": 2})

# %% [markdown]
# ## Summed over periods

# %%
cumulative = charts.cumulative_gap_table(result.idata, summary["periods"])
style.show(charts.plot_periods(summary["gap_by_period"], cumulative, sc.name))

# %%
from analysis.cli_support import period_lines

print("\n".join(period_lines(summary["gap_by_period"], sc.name)))

# %% [markdown]
# ## Years where the gap is most and least certain

# %%
ranked = gby.assign(width_90=gby["gap_q95"] - gby["gap_q05"])[["year", "gap_median", "width_90",
                                                                 "p_gap_positive"]]
pd.concat([ranked.nsmallest(3, "width_90").assign(which="narrowest 90% interval"),
           ranked.nlargest(3, "width_90").assign(which="widest 90% interval")]).round(2)

# %% [markdown]
# ## Checking the arithmetic
# Executions needed to supply the volume that voluntary and living donors do not cover, at the
# ceiling on organs per executed person (the most generous reading) and at the posterior yield,
# beside the estimated executions and the published estimates (docs/model.md, "Outputs").

# %%
from analysis.report.arithmetic_charts import plot_capacity_gap, plot_executions_required

req = summary["executions_required"]
style.show(plot_executions_required(req, sc.name))

# %%
req[req["prisoners_declared"]][["year", "executions_median", "published_min", "published_max", "recorded_minimum",
                                "required_at_ceiling_median", "required_at_yield_median",
                                "p_required_at_yield_exceeds_estimated"]].round(2)

# %% [markdown]
# Organs the declared sources could not have supplied even at their maximum:

# %%
style.show(plot_capacity_gap(summary["capacity_gap_by_year"], sc.name))

# %% [markdown]
# ## Official statements of source shares, tested against the counts
# Implied organs per executed person = stated share × volume / executions; the probability that it
# exceeds the ceiling is the probability that the statement is arithmetically impossible.

# %%
summary["composition_test"][["obs_id", "year", "year_end", "stated_share", "qualifier", "model_share_median",
                             "max_possible_share_median", "implied_organs_per_executed_median",
                             "p_implied_exceeds_ceiling"]].round(3)
