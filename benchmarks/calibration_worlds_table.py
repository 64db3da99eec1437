"""Markdown tables and one sentence per world from a calibration_worlds.json (issue 14).

    .venv/bin/python benchmarks/calibration_worlds_table.py [benchmarks/results/calibration_worlds.json ...]

docs/worlds.md and the README copy their tables and sentences from this output, so every number
there comes from the JSON that benchmarks/calibration_worlds.py wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "benchmarks" / "results" / "calibration_worlds.json"


def _n(v) -> str:
    return f"{v:,.0f}".replace("-", "−")


def _metrics(w: dict) -> dict:
    """The JSON's metrics, with the period metrics recomputed from its per-dataset period rows by
    the current analysis.validation.calibration (so a fix there needs no refit)."""
    m = dict(w["metrics"])
    if w.get("period_rows"):
        sys.path.insert(0, str(ROOT))
        import pandas as pd

        from analysis.validation.calibration import metrics

        m |= metrics(pd.DataFrame(w["period_rows"]))
    return m


def world_table(name: str, w: dict) -> str:
    m = _metrics(w)
    gap, une = m["period_gap"]["by_period"], m["period_unexplained"]["by_period"]
    lines = [f"**{name}** ({w['datasets']} datasets, seed {w['seed']}; yearly gap 90% / 50% coverage "
             f"{m['year_gap']['coverage_90']:.2f} / {m['year_gap']['coverage_50']:.2f}; "
             f"{w['divergent_datasets']} datasets with divergences; {w['fit_s_mean']:.1f} s per fit)", "",
             "| period | true signed gap (median) | tgap signed gap (median of medians) | 90% covers truth | "
             "true gap > 0 | P(gap > 0) > 0.95 | P(gap > 0) < 0.05 | not explained: truth / tgap (medians) | 90% covers truth |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, g in gap.items():
        u = une[label]
        lines.append(f"| {label} | {_n(g['truth_median'])} | {_n(g['posterior_median_median'])} | "
                     f"{g['coverage_90']:.2f} | {g['truth_positive']}/{g['datasets']} | "
                     f"{g['confident_positive']}/{g['datasets']} | {g['confident_negative']}/{g['datasets']} | "
                     f"{_n(u['truth_median'])} / {_n(u['posterior_median_median'])} | {u['coverage_90']:.2f} |")
    p = m["period_gap"]["power"]
    lines += ["", f"Confident sign errors (period sums): {m['period_gap']['confident_sign_errors']} of "
              f"{m['period_gap']['rows']}; smallest true period gap from which every bin is detected "
              f"(P > 0.95) in ≥ 80% of datasets: "
              + (_n(p["smallest_bin_detected_80"]) if p["smallest_bin_detected_80"] is not None else "none")
              + " (bins of the true gap: " + ", ".join(f"({_n(b['true_gap_from'])}, {_n(b['true_gap_to'])}]: "
                                      f"detected in {b['detected']:.2f} of {b['datasets']}"
                                      for b in p["by_true_gap"] if b["datasets"]) + ")", ""]
    return "\n".join(lines)


def sentence(name: str, w: dict, scenario: str) -> str:
    gap = _metrics(w)["period_gap"]["by_period"]
    parts = []
    for label, g in gap.items():
        parts.append(f"{label}: P > 0.95 in {g['confident_positive']} of {g['datasets']} "
                     f"(true gap > 0 in {g['truth_positive']})")
    return f"- `{name}` fitted with `{scenario}`: " + "; ".join(parts) + "."


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or [DEFAULT]
    for path in paths:
        r = json.loads(path.read_text())
        print(f"## {path.name}: scenario `{r['scenario']}`, {r['chains']} chains × {r['tune']} tune + "
              f"{r['draws']} draws, wall {r['wall_s']:,.0f} s\n\ncommand: `{r['command']}`\n")
        for name, w in r["worlds"].items():
            print(world_table(name, w))
        print("Sentences:\n")
        for name, w in r["worlds"].items():
            print(sentence(name, w, r["scenario"]))
        print()


if __name__ == "__main__":
    main()
