"""Tables, charts and manifest of a sensitivity run, written all-or-nothing; the report's HTML
section read back from them.

Files in the output directory (``reports/sensitivity/<scenario>/`` by default):
  sensitivity.csv          one row per setting and period: the varied values -> cumulative gap
                           (mean, median, q05, q95, P(gap > 0)), diagnostics gate, status, error
  sensitivity_by_year.csv  gap by year (median, q05, q95) per setting (small multiples)
  tornado.csv              one-at-a-time swing of each period's median gap per varied key
  psense.csv               power-scaling prior/likelihood sensitivity of the base fit
  sensitivity.json         what was run: base scenario, varied keys, design, sampler, wall time
  breakeven.csv, breakeven_evaluations.csv, breakeven.json   (tgap breakeven)
  tornado.png, small_multiples.png, spec_curve.png, breakeven.png
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import commit_files, read_csv, temp_path_beside
from analysis.io import csv_text as _csv_text

PERIOD_COLUMNS = ["gap_mean", "gap_median", "gap_q05", "gap_q95", "p_gap_positive", "unexplained_median",
                  "unexplained_q05", "unexplained_q95"]


def sweep_table(points: list, results: list[dict], keys: list[str], periods: list[str]) -> pd.DataFrame:
    """One row per (setting, period); failed settings keep their rows with the error."""
    rows = []
    for p, res in zip(points, results):
        head = {"point": p.index, "design": p.design, "label": p.label} | {k: p.values[k] for k in keys}
        tail = {"status": res["status"], "error": res.get("error", ""), "fit_key": res.get("fit_key", ""),
                "from_cache": res.get("from_cache", False), "seconds": res.get("seconds")}
        if res["status"] == "ok":
            d = res["diagnostics"]
            diag = {"diagnostics_passed": d["passed"], "max_rhat": d["max_rhat"],
                    "min_ess_bulk": d["min_ess_bulk"], "min_ess_tail": d["min_ess_tail"],
                    "divergences": d["divergences"]}
            for r in res["by_period"].to_dict("records"):
                rows.append(head | {"period": r["period"]} | {c: r[c] for c in PERIOD_COLUMNS} | diag | tail)
        else:
            for period in periods:
                rows.append(head | {"period": period} | dict.fromkeys(PERIOD_COLUMNS, np.nan)
                            | {"diagnostics_passed": None} | tail)
    return pd.DataFrame(rows)


def by_year_table(points: list, results: list[dict]) -> pd.DataFrame:
    frames = []
    for p, res in zip(points, results):
        if res["status"] == "ok":
            f = res["by_year"].copy()
            f.insert(0, "label", p.label)
            f.insert(0, "point", p.index)
            frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["point", "label", "year", "gap_mean", "gap_median", "gap_q05", "gap_q95"])


COUNT_PREFIXES = ("gap", "low_gap", "high_gap", "base_gap", "swing", "min_ess")
COUNT_SUFFIXES = ("_per_year_at_root", "_per_year")


def csv_text(frame: pd.DataFrame, exact: tuple[str, ...] = ()) -> str:
    """Stable CSV: organ counts to 0.1, other numbers to 6 decimals, ``exact`` columns (the
    varied scenario values) as they are."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f" and col not in exact:
            count = col.startswith(COUNT_PREFIXES) or col.endswith(COUNT_SUFFIXES)
            out[col] = out[col].round(1 if count else 6)
    return _csv_text(out)


def png_bytes(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    plt.close(fig)
    return buf.getvalue()


def write_all(out_dir: Path, texts: dict[str, str], binaries: dict[str, bytes]) -> list[Path]:
    """Stage every file beside its target, then rename all into place (nothing half-written)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for name, text in texts.items():
            tmp = temp_path_beside(out_dir / name)
            staged.append((tmp, out_dir / name))
            tmp.write_text(text, encoding="utf-8", newline="")
        for name, data in binaries.items():
            tmp = temp_path_beside(out_dir / name)
            staged.append((tmp, out_dir / name))
            tmp.write_bytes(data)
        commit_files(staged)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [t for _, t in staged]


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def json_text(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"


# ---- the report's HTML section --------------------------------------------------------------

def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(alt)}" style="max-width:100%" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(alt)}</figcaption></figure>')


def _table(frame: pd.DataFrame, cols: list[str], formats: dict | None = None) -> str:
    f = frame[[c for c in cols if c in frame.columns]].copy()
    for col, fmt in (formats or {}).items():
        if col in f.columns:
            f[col] = f[col].map(lambda v, fmt=fmt: "" if pd.isna(v) else fmt(v))
    from analysis import style

    rows = [[("" if pd.isna(v) else str(v), isinstance(v, (int, float)) and not isinstance(v, bool))
             for v in r] for r in f.itertuples(index=False)]
    return style.html_table(list(f.columns), rows, cls="tgap-table")


def _count(v) -> str:
    return f"{v:,.0f}"


def report_section(out_dir) -> str:
    """An HTML fragment (``<section id="sensitivity">``) with the sweep, break-even and
    power-scaling results found in ``out_dir``; figures embedded as base64 PNG.

    Raises FileNotFoundError when ``out_dir`` holds neither ``sensitivity.csv`` nor
    ``breakeven.csv`` (run ``tgap sensitivity`` / ``tgap breakeven`` first).
    """
    out_dir = Path(out_dir)
    sweep, be = out_dir / "sensitivity.csv", out_dir / "breakeven.csv"
    if not sweep.exists() and not be.exists():
        raise FileNotFoundError(f"{out_dir}: no sensitivity.csv or breakeven.csv (run tgap sensitivity "
                                f"or tgap breakeven with --out {out_dir})")
    parts = ['<section id="sensitivity">', "<h2>Sensitivity to the assumptions</h2>"]
    if sweep.exists():
        meta = json.loads((out_dir / "sensitivity.json").read_text()) if (out_dir / "sensitivity.json").exists() else {}
        t = read_csv(sweep)
        scenario = meta.get("base_scenario", {}).get("name", "?")
        n_pts = t["point"].nunique()
        n_fail = t.loc[t["status"] != "ok", "point"].nunique()
        keys = meta.get("keys", [])
        parts.append(
            f"<p>Organs not explained by declared sources under variants of scenario "
            f"<code>{html.escape(scenario)}</code>: {n_pts} settings of {len(keys)} assumption(s) "
            f"({html.escape(', '.join(keys))}); design {html.escape(str(meta.get('design', '?')))}; "
            f"{n_fail} failed. Each setting is a full refit; numbers are posterior medians and 90% "
            f"intervals of the gap summed over each period.</p>")
        ok = t[t["status"] == "ok"]
        if len(ok):
            summ = ok.groupby("period", sort=False).agg(
                settings=("point", "nunique"), lowest_median=("gap_median", "min"),
                highest_median=("gap_median", "max"),
                share_positive=("gap_median", lambda s: float((s > 0).mean())),
                gate_passed=("diagnostics_passed", lambda s: int(s.astype(str).eq("True").sum()))).reset_index()
            parts.append("<h3>Range over all settings</h3>")
            parts.append(_table(summ, list(summ.columns), {"lowest_median": _count, "highest_median": _count,
                                                            "share_positive": lambda v: f"{v:.2f}"}))
        for name, alt in [("tornado.png", "One-at-a-time swings of each period's median gap"),
                          ("spec_curve.png", "Specification curve: every setting sorted by its median gap"),
                          ("small_multiples.png", "Gap by year, per setting")]:
            if (out_dir / name).exists():
                parts.append(_img(out_dir / name, alt))
        cols = ["label", "period", "gap_median", "gap_q05", "gap_q95", "p_gap_positive", "diagnostics_passed",
                "status", "error"]
        parts.append("<details><summary>All settings</summary>")
        parts.append(_table(t, cols, {"gap_median": _count, "gap_q05": _count, "gap_q95": _count,
                                      "p_gap_positive": lambda v: f"{v:.2f}"}))
        parts.append("</details>")
    ps = out_dir / "psense.csv"
    if ps.exists():
        p = read_csv(ps, keep_default_na=False, na_values=[""])
        parts.append("<h3>Prior and likelihood sensitivity of the base fit (power-scaling)</h3>")
        parts.append("<p>Change of each posterior quantity when the prior (all priors, or one block) or the "
                     "likelihood is raised to a power near 1, by importance sampling, without refitting "
                     "(Kallioinen et al. 2023; ArviZ <code>psens</code>). Values of 0.05 or more mean the "
                     "quantity moves noticeably; a large prior value with a small likelihood value means the "
                     "data say little about it beyond the prior.</p>")
        num = [c for c in p.columns if c.startswith(("prior", "likelihood"))]
        parts.append(_table(p, ["quantity", *num, "diagnosis"], dict.fromkeys(num, lambda v: f"{v:.3f}")))
    if be.exists():
        b = read_csv(be)
        meta = json.loads((out_dir / "breakeven.json").read_text()) if (out_dir / "breakeven.json").exists() else {}
        parts.append("<h3>Break-even values</h3>")
        parts.append(f"<p>For each period and assumption: the value at which the posterior median of the "
                     f"period's unexplained gap is zero, every other assumption at scenario "
                     f"<code>{html.escape(str(meta.get('base_scenario', {}).get('name', '?')))}</code>, found by a "
                     f"root search over refits. \"no root in bracket\" means the median gap keeps its sign over "
                     f"the whole searched range.</p>")
        if (out_dir / "breakeven.png").exists():
            parts.append(_img(out_dir / "breakeven.png", "Break-even values beside published ranges"))
        cols = ["quantity", "period", "status", "breakeven", "executions_per_year_at_root",
                "volume_per_year_at_root", "published_low", "published_high", "prior_low", "prior_high",
                "refits", "note"]
        parts.append(_table(b, cols, {"breakeven": lambda v: f"{v:.3g}", "executions_per_year_at_root": _count,
                                      "volume_per_year_at_root": _count, "published_low": lambda v: f"{v:,.4g}",
                                      "published_high": lambda v: f"{v:,.4g}", "prior_low": lambda v: f"{v:.3g}",
                                      "prior_high": lambda v: f"{v:.3g}"}))
    parts.append("</section>")
    return "\n".join(parts)
