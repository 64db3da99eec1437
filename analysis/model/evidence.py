"""Turn the tidy observations into likelihood rows, following the scenario's rules.

Every observation either becomes one likelihood row (what latent quantity it measures, over
which years, through which bias/noise class, as a point, an interval or a bound) or is
excluded with a stated reason. Both tables are kept so reports can show what was used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.model import claims, reviewer, units
from analysis.scenarios import Scenario

# latent quantities a row can measure (rows of the model's quantity matrix)
QUANTITIES = ["volume", "deceased_volume", "living", "executions", "donors_reported",
              "donor_organs_reported", "prisoner_organs"]
# evidence groups follow the origin's kind (claims.GROUP_OF_ORIGIN_KIND), not the outlet's
INF = units.INF  # stands for +-infinity on the log / logit scale (keeps gradients finite)
SHARE_EPS = 5e-7  # a share reported as 0 or 1 says only that it is within this of 0 or 1


@dataclass
class Evidence:
    years: np.ndarray
    rows: pd.DataFrame  # one per likelihood row
    excluded: pd.DataFrame  # obs_id, family, series, year, reason
    # share statements tested against the counts (evidence.shares.role = "tested"): described like
    # share rows (quantity, denominator, mode, lo, hi on the logit scale) but outside the likelihood
    tested: pd.DataFrame = field(default_factory=pd.DataFrame)
    # row overrides the scenario applied (reviewer.apply_overrides): obs_id, column, data, scenario, reason
    overrides: pd.DataFrame = field(default_factory=pd.DataFrame)
    # declared sources whose size the scenario gives directly (reviewer.fixed_supply)
    fixed_supply: dict = field(default_factory=dict)


def _end_year(obs: pd.DataFrame, scenario: Scenario) -> int:
    """years.end, where "latest" = the last year with a single-year observation."""
    end = scenario.get("years.end")
    if end == "latest":
        single = obs[obs["year"] == obs["year_end"]]
        return int(single["year"].max())
    return int(end)


def _target(row) -> tuple[str | None, str | None, str, str]:
    """(target class, quantity, unit reading, reason-if-unmapped) for a count row (units.py)."""
    return units.measured_quantity(row.family, row.unit, row.donor_type)


def _share_parts(row, scenario: Scenario) -> tuple[str | None, str | None, str]:
    """(numerator, denominator, reason-if-unmapped) quantities of a share statement."""
    series, denom = str(row.series).lower(), str(row.denominator).lower()
    if any(w in series for w in ("executed", "prisoner", "death_row")):
        num = "prisoner_organs"
        if row.year_end > scenario.get("declared.prisoner_source_until"):
            return None, None, "prisoner share after declared.prisoner_source_until"
    elif "living" in series:
        num = "living"
    elif "citizen" in series:  # organs from the voluntary donation system, as reported
        num = "donor_organs_reported"
    elif any(w in series for w in ("deceased", "cadaver")):
        num = "deceased_volume"
    else:
        return None, None, f"share series {row.series!r} not mapped to a latent quantity"
    if re.search(r"kidney|liver|heart|lung|recipient|donors\b|registry|cltr", denom):
        return None, None, f"share of {row.denominator!r}: organ-, registry- or donor-count denominator not modelled"
    if any(w in denom for w in ("cadaver", "deceased")):
        den = "deceased_volume"
    elif any(w in denom for w in ("organ", "transplant", "graft", "operation", "surger", "donation")):
        den = "volume"
    else:
        return None, None, f"share denominator {row.denominator!r} not recognised"
    if num == den:
        return None, None, "share of a quantity in itself"
    return num, den, ""


def _redundant(obs: pd.DataFrame) -> dict[str, str]:
    """Rows implied by other rows of the same source (parts vs totals, duplicates across files)."""
    out: dict[str, str] = {}
    counts = obs[obs["unit"] != "share"]
    # 1) the same figure for the same quantity in two files: keep the first (living_and_share first)
    key = ["source_id", "year", "year_end", "unit", "organ", "donor_type", "value", "low", "high"]
    ordered = counts.assign(_o=counts["family"].map({"living_and_share": 0, "donation": 1}).fillna(2))
    ordered = ordered.sort_values(["_o", "obs_id"], kind="mergesort")
    for obs_id in ordered.loc[ordered.duplicated(key, keep="first"), "obs_id"]:
        out[obs_id] = "same figure recorded twice for this source"
    vol = counts[(counts["family"] == "volumes") & ~counts["obs_id"].isin(out)]
    for (_, _, _, _), g in vol.groupby(["source_id", "year", "year_end", "unit"]):
        has_total = ((g["organ"] == "all") & (g["donor_type"] == "all")).any()
        if has_total:  # 2) a source-year total makes its organ parts redundant
            for obs_id in g.loc[g["organ"] != "all", "obs_id"]:
                out[obs_id] = "organ part of a total given by the same source for the same year"
            continue
        for _, og in g.groupby("organ"):  # 3) deceased + living given: their sum is redundant
            if {"deceased", "living"} <= set(og["donor_type"]):
                for obs_id in og.loc[og["donor_type"] == "all", "obs_id"]:
                    out[obs_id] = "sum of deceased and living parts given by the same source"
    return out


def minimum_as_count(row, rules: dict) -> bool:
    """Whether ``evidence.rules.minimums_as_counts`` reads this row as a point count: a recorded
    minimum (kind ``lower_bound``) for its whole period; a partial-year one stays a bound of its
    year (the partial-year rule), whatever its qualifier ("at least 1,079" is then 1,079)."""
    return (bool(rules.get("minimums_as_counts")) and row.kind == "lower_bound"
            and "partial_year" not in str(row.flag).split(";"))


def _bounds(row, rules: dict, transform) -> tuple[str, float, float, float]:
    """(mode, lo, hi, extra_sd) on the transformed scale. mode: point | interval | bound."""
    v, lo, hi = row.value, row.low, row.high
    extra = rules["approx_extra_sd"] if row.qualifier == "approx" else 0.0
    # a count for part of a year is a lower bound of the year's count; a share for part of a year
    # is still a share (its qualifier decides), so the partial-year rule applies to counts only
    partial = "partial_year" in str(row.flag).split(";") and row.unit != "share"
    if minimum_as_count(row, rules):  # evidence.rules.minimums_as_counts: the count itself
        x = transform(v if pd.notna(v) else lo)
        return "point", x, x, extra
    bound_kind = row.kind in ("lower_bound", "upper_bound") or (
        row.kind == "capacity" and rules["capacity_as"] == "upper_bound") or partial
    if bound_kind:
        if row.kind == "upper_bound" or row.kind == "capacity":
            x = hi if pd.notna(hi) else v
            return "bound", -INF, transform(x), 0.0
        x = lo if pd.notna(lo) else v
        return "bound", transform(x), INF, 0.0
    if pd.notna(lo) and pd.notna(hi):
        if rules["range_as_interval"]:
            return "interval", transform(lo), transform(hi), extra
        mid = 0.5 * (transform(lo) + transform(hi))
        return "point", mid, mid, float(np.hypot(extra, (transform(hi) - transform(lo)) / 3.29))
    if pd.isna(v):
        if pd.notna(lo):
            return "interval", transform(lo), INF, extra
        return "interval", -INF, transform(hi), extra
    x = transform(v)
    if row.unit == "share" and v >= 1 - SHARE_EPS:  # "100%": censored, not a point at a clip
        if row.qualifier == "under":  # "under 100%" says only that the share is below 1
            return "interval", -INF, transform(1 - SHARE_EPS), extra
        return "interval", transform(1 - SHARE_EPS), INF, extra
    if row.unit == "share" and v <= SHARE_EPS:
        if row.qualifier == "over":  # "over 0%": only that the share is above 0
            return "interval", transform(SHARE_EPS), INF, extra
        return "interval", -INF, transform(SHARE_EPS), extra
    if row.qualifier == "over":
        return "interval", x, INF, extra
    if row.qualifier == "under":
        return "interval", -INF, x, extra
    return "point", x, x, extra


def _logit(p: float) -> float:
    p = min(max(p, SHARE_EPS), 1 - SHARE_EPS)
    return float(np.log(p / (1 - p)))


def build_evidence(obs: pd.DataFrame, scenario: Scenario, only: list[str] | None = None) -> Evidence:
    """Select and describe the likelihood rows for this scenario.

    ``only``: use exactly these obs_ids, in this order, skipping the value-based de-duplication
    (for simulated data that must keep a template's structure).
    """
    rules = scenario.get("evidence.rules")
    flags_cfg = scenario.data.get("flags", {})
    start = int(scenario.get("years.start"))
    obs = obs.copy()
    if "origin_kind" not in obs.columns:
        raise ValueError("observations have no origin/origin_kind columns: run `tgap ingest` again")
    for col in ("qualifier", "organ", "donor_type", "flag", "denominator", "source_kind", "origin",
                "origin_kind"):
        obs[col] = obs[col].fillna("").astype(str)
    obs.loc[obs["organ"] == "", "organ"] = "all"
    obs.loc[obs["donor_type"] == "", "donor_type"] = "all"
    obs.loc[obs["qualifier"] == "", "qualifier"] = "exact"
    reviewer.check_names(obs, scenario)
    from analysis.data.rules import FAMILIES

    obs, overrides = reviewer.apply_overrides(obs, scenario, {f: u for f, (_, u) in FAMILIES.items()})
    excluded: dict[str, str] = {}

    def exclude(ids, reason):
        for i in ids:
            excluded.setdefault(i, reason)

    for r in obs.itertuples():
        row_flags = [f for f in r.flag.split(";") if f]
        bad = [f for f in row_flags if f in rules["exclude_flags"]
               or not flags_cfg.get(f, {}).get("include", True)]
        if bad:
            exclude([r.obs_id], f"flag {bad[0]} excluded by the scenario")
        elif (why := reviewer.row_exclusion(r, rules)) is not None:
            exclude([r.obs_id], why)
        elif r.source_kind in rules["exclude_source_kinds"]:
            exclude([r.obs_id], f"source kind {r.source_kind} excluded by the scenario")
        elif r.kind == "capacity" and rules["capacity_as"] == "exclude":
            exclude([r.obs_id], "capacity figures excluded by the scenario")
        elif "partial_year" in row_flags and rules["partial_year_as"] == "exclude":
            exclude([r.obs_id], "partial-year figures excluded by the scenario")
        elif r.kind == "capacity" and rules["capacity_as"] == "upper_bound" and r.qualifier == "over":
            exclude([r.obs_id], "a capacity 'over' a figure bounds no volume from above")
        elif "partial_year" in row_flags and r.unit != "share" and r.qualifier == "under":
            exclude([r.obs_id], "a partial-year count 'under' a figure bounds no full-year count")
    live = obs[~obs["obs_id"].isin(excluded)]
    end = _end_year(live, scenario)
    years = np.arange(start, end + 1)
    for r in live.itertuples():
        if r.year < start or r.year_end > end:
            exclude([r.obs_id], f"years {r.year}-{r.year_end} outside the model range {start}-{end}")
    live = obs[~obs["obs_id"].isin(excluded)]
    if only is not None:
        exclude(sorted(set(live["obs_id"]) - set(only)), "not in the template's rows")
    else:
        for obs_id, reason in _redundant(live).items():
            exclude([obs_id], reason)
    live = obs[~obs["obs_id"].isin(excluded)]

    records, tested = [], []
    donation_start = scenario.get("declared.donation_start")
    for r in live.itertuples():
        group = claims.evidence_group(r.origin_kind)
        scale = float(np.prod([flags_cfg.get(f, {}).get("noise_scale", 1.0)
                               for f in r.flag.split(";") if f] or [1.0]))
        base = dict(obs_id=r.obs_id, family=r.family, series=r.series, source_id=r.source_id,
                    year=int(r.year), year_end=int(r.year_end), kind=r.kind, group=group,
                    cumulative=r.kind == "cumulative" or "cumulative" in r.flag.split(";"), noise_scale=scale, organ=r.organ,
                    donor_type=r.donor_type, origin=r.origin, origin_kind=r.origin_kind,
                    source_kind=r.source_kind, flag=r.flag, reading=claims.reading(r.kind, r.flag),
                    qualifier=r.qualifier, biased=r.kind not in rules["unbiased_bound_kinds"])
        if minimum_as_count(r, rules):  # a count of its class: its bias, and the reading of a level
            base |= dict(biased=True, reading="level")
        if r.unit == "share":
            role = scenario.get("evidence.shares.role")
            if role == "exclude":
                exclude([r.obs_id], "share statements excluded by the scenario (evidence.shares.role)")
                continue
            num, den, why = _share_parts(r, scenario)
            if num is None:
                exclude([r.obs_id], why)
                continue
            mode, lo, hi, extra = _bounds(r, rules, _logit)
            rec = base | dict(likelihood="share", target="shares", quantity=num, denominator=den,
                              mode=mode, lo=lo, hi=hi, extra_sd=extra, part_pool="all")
            if role == "tested":  # a claim about composition: tested against the counts, not used
                tested.append(rec)
                continue
            records.append(rec)
            continue
        target, quantity, unit_reading, why = _target(r)
        if target is None:
            exclude([r.obs_id], why)
            continue
        if not scenario.get(f"evidence.{target}.{group}.include"):
            exclude([r.obs_id], f"evidence.{target}.{group} excluded by the scenario")
            continue
        if quantity.startswith("donor") and r.year_end < donation_start:
            exclude([r.obs_id], f"before declared.donation_start ({donation_start})")
            continue
        log = lambda x: float(np.log(max(x, 1e-9)))  # noqa: E731
        mode, lo, hi, extra = _bounds(r, rules, log)
        if unit_reading == units.DONATED and rules["organs_donated_as"] != "as_transplanted":
            bound = units.donated_as_bound(r, log) if rules["organs_donated_as"] == "upper_bound" else None
            if bound is None:
                exclude([r.obs_id], "organs donated: " + (
                    "excluded by the scenario" if rules["organs_donated_as"] == "exclude" else
                    "only a lower bound on organs donated, which does not bound organs transplanted"))
                continue
            mode, lo, hi, extra = bound
            base["reading"] = claims.reading(r.kind, r.flag, upper_bound=True)
        if r.organ != "all":
            extra = float(np.hypot(extra, rules["part_extra_sd"]))
        records.append(base | dict(likelihood="count", target=target, quantity=quantity,
                                   denominator="", mode=mode, lo=lo, hi=hi, extra_sd=extra,
                                   part_pool="living" if quantity == "living" else "all"))
    rows = pd.DataFrame.from_records(records)
    if rules["collapse_repeats"] and only is None:  # one claim, one vote (claims.py)
        for obs_id, reason in claims.collapse_relays(rows).items():
            exclude([obs_id], reason)
    if not rows.empty:
        rows = rows[~rows["obs_id"].isin(excluded)].reset_index(drop=True)
        rows["value"] = rows["obs_id"].map(obs.set_index("obs_id")["value"])
        if only is not None:
            rows = rows.set_index("obs_id").loc[[i for i in only if i in set(rows["obs_id"])]].reset_index()
    tested_df = pd.DataFrame.from_records(tested)
    if not tested_df.empty:
        if rules["collapse_repeats"] and only is None:  # a tested claim is tested once, too
            relays = claims.collapse_relays(tested_df)
            for obs_id, reason in relays.items():
                exclude([obs_id], reason)
            tested_df = tested_df[~tested_df["obs_id"].isin(relays)].reset_index(drop=True)
        tested_df["value"] = tested_df["obs_id"].map(obs.set_index("obs_id")["value"])
    # a series' or origin's own bias / noise (evidence.series_overrides, origin_overrides)
    by_id = obs.set_index("obs_id")
    rows = reviewer.error_overrides(rows, scenario, excluded, by_id["series"].astype(str).to_dict(),
                                    by_id["origin"].astype(str).to_dict())
    ex = obs[obs["obs_id"].isin(excluded)][["obs_id", "family", "series", "source_id", "year"]].copy()
    ex["reason"] = ex["obs_id"].map(excluded)
    return Evidence(years=years, rows=rows, excluded=ex.reset_index(drop=True), tested=tested_df,
                    overrides=overrides, fixed_supply=reviewer.fixed_supply(obs, scenario, years))
