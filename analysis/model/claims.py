"""Who said it, and how many times: evidence classes by origin, and one claim one vote.

A figure's *origin* is its producer (data/raw/origins.csv); its *source* is only where it was
read. Evidence classes follow the origin's kind, so a relay (a newspaper quoting the health
ministry, GODT republishing China's figures) is official evidence, not independent evidence.

One claim, one vote: likelihood rows with the same origin, the same measured quantity (after the
unit mapping of units.py), organ, donor type, years and reading (level, total, minimum, maximum,
capacity) are one claim. One row is kept, the most precise reading; the others are excluded as
relays, so a claim repeated by n outlets weighs what it weighs once.
"""

from __future__ import annotations

import pandas as pd

# origin kind (origins.csv) -> evidence group (the scenario's evidence.<target>.<group> classes)
GROUP_OF_ORIGIN_KIND = {
    "official": "official", "registry": "official",
    "international": "international",  # only figures GODT/WHO produce themselves
    "ngo": "independent", "academic": "independent", "advocacy": "independent", "media": "independent",
}
# source kinds in which a producer of each origin kind publishes its own figures
PRIMARY_SOURCE_KINDS = {
    "official": {"official_statement", "official_registry"}, "registry": {"official_registry"},
    "international": {"international_registry"}, "ngo": {"ngo_report"}, "advocacy": {"ngo_report"},
    "academic": {"peer_reviewed"}, "media": {"news"},
}
SOURCE_PREFERENCE = ["official_registry", "international_registry", "official_statement",
                     "peer_reviewed", "ngo_report", "dataset", "news"]
READING_OF_KIND = {"reported": "level", "estimate": "level", "cumulative": "total",
                   "lower_bound": "minimum", "upper_bound": "maximum", "capacity": "capacity"}
INF_CUT = 999.0  # |lo|, |hi| at or beyond this stand for infinity (evidence.INF = 1e3)
CLAIM_KEY = ["origin", "target", "quantity", "denominator", "organ", "donor_type", "year", "year_end",
             "reading"]


def evidence_group(origin_kind: str) -> str:
    """The evidence group of an origin kind; an unknown kind is an error, never a default."""
    try:
        return GROUP_OF_ORIGIN_KIND[origin_kind]
    except KeyError:
        raise ValueError(f"origin kind {origin_kind!r} has no evidence group "
                         f"(one of {', '.join(GROUP_OF_ORIGIN_KIND)})") from None


def reading(kind: str, flags: str = "", upper_bound: bool = False) -> str:
    """What a row says about its quantity: a level, a total, a minimum, a maximum, a capacity or
    a projection. A partial-year count is a minimum of its period (as evidence._bounds reads it);
    a projection ("expected to exceed ...") is a different claim from a count of what happened;
    ``upper_bound``: the unit made the row a maximum (organs donated, see units.py)."""
    flag_list = [f for f in str(flags).split(";") if f]
    if upper_bound:
        return "maximum"
    if "projection" in flag_list:
        return "projection"
    if "partial_year" in flag_list and kind not in ("upper_bound", "capacity"):
        return "minimum"
    return READING_OF_KIND[kind]


def _precision(r) -> tuple:
    """Sort key, most precise reading first: a point over a two-sided interval over a one-sided
    interval over a bound; among one-sided readings the tightest (the largest minimum, the
    smallest maximum: it implies the others); then a primary source (not flagged secondary, the
    producer's own kind of publication, the source preference); then less extra sd; then obs_id."""
    lo_open, hi_open = r.lo <= -INF_CUT, r.hi >= INF_CUT
    mode = {"point": 0, "interval": 2 if (lo_open or hi_open) else 1, "bound": 3}[r.mode]
    tight = -r.lo if hi_open and not lo_open else (r.hi if lo_open and not hi_open else 0.0)
    secondary = "secondary" in str(r.flag).split(";")
    primary = r.source_kind in PRIMARY_SOURCE_KINDS.get(r.origin_kind, set())
    pref = SOURCE_PREFERENCE.index(r.source_kind) if r.source_kind in SOURCE_PREFERENCE else 99
    return (mode, round(float(tight), 9), secondary, not primary, pref, round(float(r.extra_sd), 9), r.obs_id)


def collapse_relays(rows: pd.DataFrame) -> dict[str, str]:
    """obs_id -> reason for every likelihood row that repeats a claim kept in another row."""
    out: dict[str, str] = {}
    if rows.empty:
        return out
    ranked = sorted(rows.itertuples(index=False), key=_precision)
    kept: dict[tuple, str] = {}
    for r in ranked:
        key = tuple(getattr(r, c) for c in CLAIM_KEY)
        if key in kept:
            out[r.obs_id] = f"relay of claim {kept[key]} (same origin, quantity, years)"
        else:
            kept[key] = r.obs_id
    return out


def origin_weights(evidence, obs: pd.DataFrame) -> pd.DataFrame:
    """Weight of each origin in an Evidence (``obs``: the observations it was built from): origin,
    kind, claims (likelihood rows of the origin), rows (its observations in the data), relays
    collapsed (its rows excluded as relays of one of its claims)."""
    rows, excluded = evidence.rows, evidence.excluded
    origin_of = obs.set_index("obs_id")["origin"]
    kind_of = obs.drop_duplicates("origin").set_index("origin")["origin_kind"]
    relay = excluded[excluded["reason"].str.startswith("relay of claim ")]
    table = pd.DataFrame({
        "claims": rows["obs_id"].map(origin_of).value_counts() if not rows.empty else pd.Series(dtype=int),
        "rows": obs["origin"].value_counts(),
        "relays_collapsed": relay["obs_id"].map(origin_of).value_counts(),
    }).fillna(0).astype(int)
    table.index.name = "origin"
    table = table.reset_index()
    table.insert(1, "kind", table["origin"].map(kind_of))
    return table.sort_values(["claims", "rows", "origin"], ascending=[False, False, True]).reset_index(drop=True)
