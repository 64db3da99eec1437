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
# # 02 — Model fit
# Fit the discrepancy model for one scenario (docs/model.md): prior predictive check of the
# observable series, the fit and its diagnostics, posterior predictive check per series, and the
# gap by year. Everything the model assumes is in the scenario file; this notebook only calls the
# package.

# %% tags=["parameters"]
data_dir = "data/raw"
scenario = "baseline"
quick = False
cache_dir = ""  # fit cache directory ("" = the default, .cache/fits)
leave_out = True  # refit without each large origin (quick draws; cached beside the fit)

# %%
from analysis.report import fit_plots
from analysis.report.session import load_fit

fit = load_fit(data_dir, scenario, quick, cache_dir)
sc, result, summary, ev = fit.scenario, fit.result, fit.summary, fit.result.evidence
print(fit.describe())
print(f"{len(ev.rows)} likelihood rows used, {len(ev.excluded)} observations excluded; timings {result.timings}")
ev.excluded["reason"].str.replace(r"\d{4}-\d{4}", "<years>", regex=True).value_counts().head(10)

# %% [markdown]
# ## Prior predictive check
# What the scenario's priors alone say each published figure should look like.

# %%
prior_tab = fit_plots.predictive_table(result.idata, ev, "prior_predictive")
fit_plots.plot_predictive(prior_tab, f"Prior predictive, scenario {sc.name}");

# %% [markdown]
# ## Diagnostics (gate: R-hat <= 1.01, bulk and tail ESS >= 400, no divergences)

# %%
d = summary["diagnostics"]
print({k: d[k] for k in ["max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "passed"]})

# %% [markdown]
# ## Posterior predictive check per series

# %%
post_tab = fit_plots.predictive_table(result.idata, ev, "posterior_predictive")
fit_plots.plot_predictive(post_tab, f"Posterior predictive, scenario {sc.name}");
post_tab.groupby("target")["inside_90"].mean().round(2)

# %% [markdown]
# ## The gap by year

# %%
gby = summary["gap_by_year"]
fit_plots.plot_volume_supply(gby, sc.name)
fit_plots.plot_gap(gby, sc.name);

# %%
print(f"organs not explained by declared sources under scenario {sc.name} (median, 90% interval):")
summary["gap_by_period"].round(3)

# %% [markdown]
# ## Model criticism: which claims the fit leans on and fits worst
# PSIS leave-one-out per claim (analysis/model/criticism.py): one-sided bounds are left out (a
# satisfied bound has a log-likelihood near 0 whatever the fit, and no PIT). Pareto k > 0.7 marks
# a claim the posterior leans on alone; a LOO-PIT near 0 or 1 a figure the rest of the evidence
# cannot reproduce. The in-sample "inside 90%" table above cannot show either.

# %%
from analysis.model import criticism
from analysis.report.criticism_section import plot_criticism

loo = summary["loo"]
print(criticism.summary(loo))
plot_criticism(loo, sc.name)

# %%
criticism.influential(loo)

# %%
criticism.worst_fitting(loo)

# %% [markdown]
# ## Leave one origin out
# Refit without every figure of each of the largest producers (relays included) and of each
# evidence group: how far the period headline moves (quick draws; one compiled model; cached per
# fit, shared with `tgap report`). Set the parameter `leave_out = False` to skip.

# %%
if leave_out:
    from analysis.model.leave_out import cached_leave_out

    table, _ = cached_leave_out(result)
    display(table.round(2))  # noqa: F821 (Jupyter)
