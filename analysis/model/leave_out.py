"""Leave-one-origin-out: how far the period headline moves without each large producer of figures.

Each refit gives the rows of one origin (its producer, data/raw/origins.csv; or all rows of one
evidence group) weight 0 in the likelihood (``count_weight``) and samples again - the compiled model
is reused, so the whole table costs one compilation. Relays of a producer's figure carry the
producer's origin, so they leave with it (one claim, one vote). Classes left without rows keep their
prior.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.model.inputs import design
from analysis.model.summarize import flat_draws, periods_resolved

COLUMNS = ["left_out", "rows_left_out", "period", "unexplained_median", "unexplained_q05",
           "unexplained_q95", "gap_median", "p_gap_positive", "shift_unexplained_median",
           "divergences"]


def default_groups(evidence, n_origins: int = 4) -> list[str]:
    """The n origins with most rows in the likelihood, then each evidence group with rows
    (``group:official``, ``group:international``, ``group:independent``)."""
    rows = design(evidence, "count")["rows"]
    top = rows["origin"].value_counts().head(n_origins).index.tolist()
    groups = [f"group:{g}" for g in ("official", "international", "independent") if (rows["group"] == g).any()]
    return top + groups


def left_out_mask(evidence, what: str) -> np.ndarray:
    """Count rows left out by ``what``: an origin id, or ``group:NAME``. Unknown names: ValueError."""
    rows = design(evidence, "count")["rows"]
    if what.startswith("group:"):
        mask = (rows["group"] == what.split(":", 1)[1]).to_numpy()
        allowed = sorted({f"group:{g}" for g in rows["group"]})
    else:
        mask = (rows["origin"] == what).to_numpy()
        allowed = sorted(set(rows["origin"]))
    if not mask.any():
        raise ValueError(f"{what!r} has no rows in the likelihood; allowed: {', '.join(allowed)}")
    return mask


def _period_rows(idata, periods, label: str, n_left: int, base: dict | None) -> list[dict]:
    gap = idata.posterior["gap"]
    out = []
    for a, b in periods:
        sel = gap.sel(year=slice(a, b))
        signed = flat_draws(sel.sum("year").expand_dims(p=[0]), "p")[0]
        unexpl = flat_draws(sel.clip(min=0).sum("year").expand_dims(p=[0]), "p")[0]
        med = float(np.median(unexpl))
        period = f"{a}-{b}"
        out.append({"left_out": label, "rows_left_out": n_left, "period": period,
                    "unexplained_median": round(med), "unexplained_q05": round(float(np.quantile(unexpl, 0.05))),
                    "unexplained_q95": round(float(np.quantile(unexpl, 0.95))),
                    "gap_median": round(float(np.median(signed))),
                    "p_gap_positive": round(float((signed > 0).mean()), 4),
                    "shift_unexplained_median": round(med) - round(base[period]) if base else 0,
                    "divergences": int(idata.sample_stats["diverging"].sum())})
    return out


def leave_origins_out(evidence, scenario, settings, groups: list[str] | None = None,
                      on_step=None) -> pd.DataFrame:
    """One refit with every row and one per entry of ``groups`` (default ``default_groups``), all
    with ``settings``; the period table (organs not explained and signed gap) of each."""
    from analysis.model.fit import sample_with_inputs

    periods = periods_resolved(scenario.get("years.periods"), evidence.years)
    groups = default_groups(evidence) if groups is None else groups
    masks = {g: left_out_mask(evidence, g) for g in groups}  # every name checked before any fit
    full = sample_with_inputs(evidence, scenario, settings)
    rows = _period_rows(full, periods, "(none)", 0, None)
    base = {r["period"]: r["unexplained_median"] for r in rows}
    for i, g in enumerate(groups):
        if on_step:
            on_step(i, len(groups), g)

        def edit(inputs, m=masks[g]):
            inputs["count_weight"] = np.where(m, 0.0, 1.0)
            return inputs

        rows += _period_rows(sample_with_inputs(evidence, scenario, settings, edit), periods, g,
                             int(masks[g].sum()), base)
    return pd.DataFrame(rows, columns=COLUMNS)


def cached_leave_out(result, groups: list[str] | None = None, on_step=None) -> tuple[pd.DataFrame, bool]:
    """``leave_origins_out`` for a fit (FitResult) with the scenario's quick sampler settings and
    the fit's seed and sampler. Kept beside the cached fit (``<fit dir>/leave_out-<hash>.csv``,
    hash of the groups and settings; the fit key already covers data, scenario and code) and read
    from there next time; (table, from cache?)."""
    import json
    from pathlib import Path

    from analysis.io import read_csv, sha256_text, write_csv
    from analysis.model import fit

    settings = fit.SamplerSettings.from_scenario(result.scenario, quick=True, seed=result.settings.seed,
                                                 name=result.settings.name)
    groups = default_groups(result.evidence) if groups is None else groups
    tag = sha256_text(json.dumps({"groups": groups, "settings": settings.as_dict()}, sort_keys=True))[:12]
    path = Path(result.path).parent / f"leave_out-{tag}.csv" if result.path is not None else None
    if path is not None and path.is_file():
        try:
            table = read_csv(path)
            if list(table.columns) == COLUMNS:
                return table, True
        except (OSError, ValueError):
            pass  # unreadable: computed again below
    table = leave_origins_out(result.evidence, result.scenario, settings, groups, on_step)
    if path is not None:
        write_csv(table, path)
    return table, False
