"""Crash trials for `tgap ingest` (not a test: writes benchmarks/results/crash_ingest.json).

    python benchmarks/crash_ingest.py [--trials 20] [--seed 18]

(`tgap fit` and `tgap report`: benchmarks/crash_trials.py, whose kill helper this script uses.)

Two raw generations A (the shipped data/raw) and B (A with one notes cell changed) are ingested
alternately into one output folder; each trial starts `tgap ingest` on the other generation in a
fresh process and sends SIGKILL after a seeded random delay. Even trials: a delay spread over the
measured length of an uninterrupted ingest; odd trials: the child is slowed by 0.2 s between the
rename of observations.csv and the writing of manifest.json (an injected sleep, so that kills
land in that window) and killed 0-0.25 s after it reports reaching it (an uninterrupted ingest, timed from the moment the child has finished its imports). After each kill it records:

- mixed: the folder holds observations.csv of one generation beside manifest.json of the other
  *and* the readers' check (``analysis.data.ingest.stale``) would use it: must be 0;
- corrupt: observations.csv that pandas cannot read while ``stale`` says it is usable: must be 0;
- detected: the kill left a pair the readers refuse (re-ingested at the next run);
- leftovers_after_next_run: temp files left after the next, uninterrupted ingest: must be 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from crash_trials import kill_at  # noqa: E402  (the one kill helper of the crash benchmarks)

WINDOW = ("import analysis.data.ingest as m; _w = m.atomic_write_json\n"
          "def _slow(path, obj):\n"
          "    print('between', flush=True); time.sleep(0.2); _w(path, obj)\n"
          "m.atomic_write_json = _slow\n")


def _ingest_cmd(raw: Path, out: Path, window: bool = False) -> list[str]:
    code = ("import sys, time\n" + (WINDOW if window else "") + "from analysis.data.ingest import ingest; from pathlib import Path; "
            "print('ready', flush=True); t = time.perf_counter(); "
            "ingest(Path(sys.argv[1]), Path(sys.argv[2])); print(time.perf_counter() - t, flush=True)")
    return [sys.executable, "-c", code, str(raw), str(out)]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _generation(out: Path, hashes: dict[str, str]) -> dict:
    import pandas as pd

    from analysis.data.ingest import read_manifest, stale
    from analysis.io import sha256_file

    obs = out / "observations.csv"
    manifest = read_manifest(out)
    obs_gen = next((g for g, h in hashes.items() if obs.is_file() and sha256_file(obs) == h), None)
    man_gen = next((g for g, h in hashes.items() if manifest.get("observations_sha256") == h), None)
    trusted = {g: not stale(ROOT / "data" / "raw" if g == "A" else out.parent / "rawB", out) for g in hashes}
    readable = True
    try:
        pd.read_csv(obs) if obs.is_file() else None
    except Exception:  # noqa: BLE001
        readable = False
    return {"obs": obs_gen, "manifest": man_gen, "trusted_as": [g for g, ok in trusted.items() if ok],
            "readable": readable}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    from analysis.data.ingest import ingest
    from analysis.io import sha256_file

    tmp = Path(tempfile.mkdtemp(prefix="tgap-crash-"))
    raw_a = ROOT / "data" / "raw"
    raw_b = tmp / "rawB"
    shutil.copytree(raw_a, raw_b)
    with open(raw_b / "executions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[1][rows[0].index("notes")] += " (generation B)"
    with open(raw_b / "executions.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    out = tmp / "derived"
    hashes = {}
    for g, raw in (("B", raw_b), ("A", raw_a)):
        ingest(raw, out)
        hashes[g] = sha256_file(out / "observations.csv")
    assert hashes["A"] != hashes["B"], "the two generations must differ"
    runs = [subprocess.run(_ingest_cmd(raw, out), env=_env(), check=True, capture_output=True, text=True)
            for raw in (raw_b, raw_a)]
    full_s = sum(float(r.stdout.split()[-1]) for r in runs) / 2  # ingest itself, after imports

    trials, current = [], "A"
    for i in range(args.trials):
        target = "B" if current == "A" else "A"
        window = i % 2 == 1  # odd trials: killed between the two renames, or while writing the manifest
        delay = rng.uniform(0.0, 0.25) if window else rng.uniform(0.0, 1.2) * full_s
        proc = subprocess.Popen(_ingest_cmd(raw_b if target == "B" else raw_a, out, window), env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        # "ready": imports done, the ingest starts now; "between": observations.csv renamed,
        # manifest.json not yet
        _, killed = kill_at(proc, ["ready"] + (["between"] if window else []), delay)
        state = _generation(out, hashes)
        leftovers_after_kill = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
        mixed = state["obs"] != state["manifest"] and bool(state["trusted_as"])
        corrupt = not state["readable"] and bool(state["trusted_as"])
        # the next run, uninterrupted
        subprocess.run(_ingest_cmd(raw_b if target == "B" else raw_a, out), env=_env(), check=True)
        after = _generation(out, hashes)
        leftovers = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
        trials.append({
            "trial": i, "mode": "between_renames" if window else "random", "delay_s": round(delay, 3), "killed": killed, "target": target, **state,
            "mixed_and_trusted": mixed, "corrupt_and_trusted": corrupt,
            "detected": not state["trusted_as"],
            "leftovers_after_kill": leftovers_after_kill, "leftovers_after_next_run": leftovers,
            "next_run_ok": after["obs"] == after["manifest"] == target and after["trusted_as"] == [target],
        })
        current = target
    shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "benchmark": "crash_ingest", "date": time.strftime("%Y-%m-%d"), "seed": args.seed,
        "trials": len(trials), "killed": sum(t["killed"] for t in trials),
        "uninterrupted_ingest_s": round(full_s, 2),
        "mixed_and_trusted": sum(t["mixed_and_trusted"] for t in trials),
        "corrupt_and_trusted": sum(t["corrupt_and_trusted"] for t in trials),
        "kills_leaving_a_refused_pair": sum(t["detected"] for t in trials),
        "kills_leaving_leftovers": sum(bool(t["leftovers_after_kill"]) for t in trials),
        "leftovers_after_next_run": sum(len(t["leftovers_after_next_run"]) for t in trials),
        "next_run_ok": sum(t["next_run_ok"] for t in trials),
        "platform": platform.platform(), "python": platform.python_version(),
        "per_trial": trials,
    }
    dest = ROOT / "benchmarks" / "results" / "crash_ingest.json"
    dest.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "per_trial"}, indent=2))


if __name__ == "__main__":
    main()
