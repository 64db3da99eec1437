"""Crash trials for `tgap fit` and `tgap report` (not a test: writes benchmarks/results/crash_<target>.json).

    python benchmarks/crash_trials.py --target fit [--trials 20] [--seed 18]
    python benchmarks/crash_trials.py --target report [--trials 20] [--seed 18]

(`tgap ingest` has its own script, benchmarks/crash_ingest.py.) Two generations A and B are two
sampler seeds of the quick baseline fit (`--quick --seed 101` / `--seed 202`) written alternately
into one output folder and one fit cache (in a temp folder, `TGAP_CACHE_DIR`). Each trial starts
the command for the other generation in a fresh process, waits until it has finished its imports
("ready"), sleeps a seeded random delay (over 0-90% of the measured length of such a run) and
sends SIGKILL. When the kill left something to repair (leftovers, a folder that is not one whole
run, a cache entry that fails verification) the same command runs again, uninterrupted ("the next
run"); otherwise the next trial's run is the next run.

Modes (``--target fit``):
- ``cold`` (1 of 20): the target's cache entry is removed first, so the run samples, saves the
  cache entry and writes the outputs; killed at a moment drawn over the measured length of such a
  run;
- ``warm`` (13 of 20): the entry is there; the run verifies and loads it and writes the outputs;
- ``cache_save`` (cold, 1 of 20): the child pauses 0.3 s between the rename of the cached idata.nc and the
  writing of its checksum (an injected sleep) and is killed 0-0.35 s after reaching it;
- ``commit`` (warm, 5 of 20): the child pauses 0.03 s before each rename of its outputs and is
  killed while renaming.
``--target report``: ``warm`` (killed over the measured length of a report from a cached fit) and
``commit`` (0.01 s before each rename of the report's files, killed while renaming).

After each kill it records, for the output folder:
- trusted: ``analysis.io.generation_problems`` is empty (manifest.json present, every file it
  lists has that sha256); readers and people are to use only such folders;
- mixed_and_trusted: a trusted folder holding files of both generations (files identified by
  their sha256 in uninterrupted runs of A and B; for reports also any figure or table not listed
  by the manifest): must be 0;
- corrupt_and_trusted: a trusted folder whose idata.nc arviz cannot open or a CSV pandas cannot
  read: must be 0;
- for the cache: entries that verify (``analysis.model.cache.verify``) but do not hold the
  generation's bytes (must be 0), entries that fail verification (refitted by the next run);
- leftovers (``.*.tmp``, ``.staging-*``) in the output folder and the cache after the kill and
  after the next run (must be 0 after);
- next_run_ok: after the next run (or the kill, when nothing needed repair) the folder is trusted
  and wholly of one generation, and that generation's cache entry verifies.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = {"A": 101, "B": 202}

# the child: heavy imports first, then "ready", then the command (optionally slowed in one window)
CHILD = r"""
import sys, time
mode, args = sys.argv[1], sys.argv[2:]
import arviz, pymc, nutpie, matplotlib  # noqa: F401  (imports before "ready")
import analysis.io as io
import analysis.model.cache as cache
import analysis.model.outputs as outputs
import analysis.report.run as run
from analysis.cli import app
if mode == "cache_save":
    _w = cache.atomic_write_json
    def _slow(path, obj):
        print("window", flush=True); time.sleep(0.3); _w(path, obj)
    cache.atomic_write_json = _slow
elif mode == "commit_fit":
    def _slow_commit(staged):
        print("window", flush=True)
        for tmp, target in staged:
            time.sleep(0.03); io.finish_file(tmp, target)
    outputs.commit_files = _slow_commit
elif mode == "commit_report":
    _f, _first = io.finish_file, [True]
    def _slow_finish(tmp, target):
        if _first[0]:
            print("window", flush=True); _first[0] = False
        time.sleep(0.01); _f(tmp, target)
    run.finish_file = _slow_finish
print("ready", flush=True)
t = time.perf_counter()
try:
    app(args, standalone_mode=False)
finally:
    print("done", time.perf_counter() - t, flush=True)
"""


def idata_seed(path: Path):
    """The sampler seed recorded in an idata.nc's attrs (None when unreadable)."""
    try:
        import h5py
        import numpy as np

        with h5py.File(path, "r") as f:
            return int(np.ravel(f.attrs["seed"])[0])
    except Exception:  # noqa: BLE001
        return None


def kill_at(proc: subprocess.Popen, markers: list[str], delay: float) -> tuple[bool, bool]:
    """Read the child's stdout until each marker line in turn ("ready", then e.g. "window"), sleep
    ``delay`` and SIGKILL it if still running; wait for it. Returns (markers reached, killed).
    The one kill helper of the crash benchmarks (also benchmarks/crash_ingest.py)."""
    reached = True
    for marker in markers:
        for line in proc.stdout:
            if line.startswith(marker):
                break
        else:
            reached = False
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return reached, killed


def hidden(paths: list[Path]) -> list[str]:
    """Temp files and staging folders (names starting with a dot) in these folders."""
    out = []
    for d in paths:
        if d.is_dir():
            out += [str(p) for p in d.iterdir() if p.name.startswith(".") and (p.name.endswith(".tmp")
                                                                             or p.name.startswith(".staging-"))]
    return sorted(out)


class Bench:
    def __init__(self, target: str, tmp: Path, compiledir: str, cache: Path | None = None):
        self.target, self.tmp = target, tmp
        self.out = tmp / "out"
        self.cache = Path(cache) if cache is not None else tmp / "cache"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "TGAP_CACHE_DIR": str(self.cache),
                    "PYTENSOR_FLAGS": compiledir, "MPLBACKEND": "Agg",
                    "NUMBA_CACHE_DIR": str(ROOT / ".cache" / "numba")}
        self.hashes: dict[str, dict[str, str]] = {}  # generation -> file -> sha256
        self.keys: dict[str, str] = {}
        self.volatile: set[str] = set()

    def args(self, gen: str) -> list[str]:
        common = ["--quick", "--seed", str(SEEDS[gen]), "--data-dir", str(ROOT / "data" / "raw"),
                  "--derived", str(self.tmp / "derived"), "--out", str(self.out)]
        if self.target == "report":
            # one GODT export folder for every run (the shipped ../shared exports when present)
            return ["report", *common, "--godt-dir", str(self.tmp / "godt")]
        return ["fit", *common]

    def spawn(self, gen: str, mode: str = "plain"):
        return subprocess.Popen([sys.executable, "-c", CHILD, mode, *self.args(gen)], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.tmp)

    def run(self, gen: str) -> tuple[float, str]:
        """One uninterrupted run: (seconds after imports, stderr)."""
        p = self.spawn(gen)
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"uninterrupted run failed ({p.returncode}):\n{out}\n{err}")
        return float(out.strip().splitlines()[-1].split()[-1]), err

    def entry(self, gen: str) -> Path:
        return self.cache / "fits" / self.keys[gen] / "idata.nc"

    def record(self, gen: str) -> None:
        from analysis.io import generation_problems, manifest_files

        assert not generation_problems(self.out), generation_problems(self.out)
        manifest = json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))
        self.hashes[gen] = manifest_files(manifest)
        self.keys[gen] = manifest["fit_key"]

    def leftovers(self) -> list[str]:
        fits = self.cache / "fits"
        dirs = [self.out, self.out / "forensics", fits] + (sorted(d for d in fits.iterdir() if d.is_dir()) if fits.is_dir() else [])
        return hidden(dirs)

    def state(self) -> dict:
        """What a reader would find now (see the module docstring)."""
        import arviz as az
        import pandas as pd

        from analysis.io import generation_problems, manifest_files, sha256_file
        from analysis.model import cache

        problems = generation_problems(self.out)
        trusted = not problems
        gens, unknown = set(), []
        on_disk = sorted(p for p in self.out.rglob("*") if p.is_file() and p.name != "manifest.json"
                         and not any(part.startswith(".") for part in p.relative_to(self.out).parts)
                         and p.relative_to(self.out).parts[0] not in ("forensics",))
        listed = {}
        if trusted:
            listed = manifest_files(json.loads((self.out / "manifest.json").read_text(encoding="utf-8")))
        unlisted = [str(p.relative_to(self.out)) for p in on_disk
                    if trusted and str(p.relative_to(self.out)) not in listed]
        for p in on_disk:
            rel, digest = str(p.relative_to(self.out)), sha256_file(p)
            if rel in self.volatile:  # differs between runs of one generation (timings in index.html)
                continue
            found = [g for g, h in self.hashes.items() if h.get(rel) == digest]
            only = [g for g in found if all(self.hashes[o].get(rel) != digest for o in self.hashes if o != g)]
            if not found and rel == "idata.nc":  # a refit that is not byte-identical: its seed says
                found = only = [g for g in self.hashes if idata_seed(p) == SEEDS[g]]
            if only:
                gens.add(only[0])
            elif not found:
                unknown.append(rel)
        # report folders: a figure/table that the manifest does not list is from another run
        mixed_files = len(gens) > 1 or (self.target == "report" and any(
            u.startswith(("figures/", "tables/")) for u in unlisted))
        corrupt = False
        if trusted:
            try:
                if (self.out / "idata.nc").is_file():
                    az.from_netcdf(self.out / "idata.nc").posterior.load()
                for csv in self.out.glob("*.csv"):
                    pd.read_csv(csv)
            except Exception:  # noqa: BLE001
                corrupt = True
        cache_state = {}
        for g in self.keys:
            e = self.entry(g)
            problem = cache.verify(e) if e.exists() else "absent"
            wrong = problem is None and sha256_file(e) != self.hashes[g].get("idata.nc") and idata_seed(e) != SEEDS[g]
            cache_state[g] = {"problem": problem, "verified_but_wrong": wrong}
        return {"trusted": trusted, "problems": problems[:3], "generations": sorted(gens),
                "unknown_files": unknown[:5], "unlisted_files": unlisted[:5],
                "mixed_on_disk": mixed_files, "mixed_and_trusted": trusted and mixed_files,
                "corrupt_and_trusted": corrupt, "cache": cache_state}


def schedule(target: str, trials: int, warm_only: bool = False) -> list[str]:
    if target == "fit" and warm_only:  # every run reuses the cached fit: kills in loading and writing
        base = ["warm", "warm", "warm", "commit"]
    elif target == "fit":  # sampling runs are long (numba compiles the model in every fresh process): 2 of 20 sample, the others reuse the cached fit
        base = ["warm", "warm", "warm", "commit", "warm", "cold", "warm", "warm", "commit", "warm",
                "warm", "commit", "warm", "warm", "warm", "cache_save", "commit", "warm", "warm", "commit"]
    else:
        base = ["warm", "warm", "commit"]
    return [base[i % len(base)] for i in range(trials)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", choices=["fit", "report"], required=True)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--cache", type=Path, default=None, help="fit cache folder (TGAP_CACHE_DIR) kept "
                    "after the run: the report trials reuse the fit trials' cached fits (default: a temp folder)")
    ap.add_argument("--godt-dir", type=Path, default=None, help="report: GODT exports for the forensic "
                    "checks (default: the one tgap report finds, ../shared/data/godt)")
    ap.add_argument("--warm-only", action="store_true", help="fit: no trial samples (each run loads "
                    "the cached fit); the cache's own kill windows are then not exercised")
    ap.add_argument("--check-refit", action="store_true", help="fit: sample generation A twice from "
                    "scratch and record which output files differ (one more sampling run)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t_start = time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix=f"tgap-crash-{args.target}-"))
    compiledir = os.environ.get("PYTENSOR_FLAGS") or f"base_compiledir={ROOT / '.cache' / 'pytensor'}"
    b = Bench(args.target, tmp, compiledir, args.cache)
    from analysis.cli_support import SHARED_GODT

    godt = args.godt_dir or SHARED_GODT
    (tmp / "godt").mkdir()
    for p in sorted(godt.glob("*.csv")) if godt.is_dir() else []:
        shutil.copyfile(p, tmp / "godt" / p.name)

    # uninterrupted runs of both generations: their files are what each generation looks like
    timing = {}
    s, _ = b.run("A")
    b.record("A")
    timing["first_run_s"] = round(s, 1)  # may include compiling the model into the shared compile cache
    s, _ = b.run("B")
    b.record("B")
    timing["second_run_s"] = timing["cold_run_s"] = round(s, 1)  # cold for fit (B sampled), not for report
    if args.target == "fit" and args.check_refit:
        # the same seed sampled again from scratch: byte-identical idata.nc? (timed as a cold run)
        shutil.rmtree(b.entry("A").parent)
        s, _ = b.run("A")
        timing["cold_run_s"] = round((timing["cold_run_s"] + s) / 2, 1)
        from analysis.io import manifest_files

        again = manifest_files(json.loads((b.out / "manifest.json").read_text(encoding="utf-8")))
        timing["refit_identical_files"] = sorted(f for f in again if again[f] == b.hashes["A"].get(f))
        timing["refit_differing_files"] = sorted(f for f in again if again[f] != b.hashes["A"].get(f))
        b.record("A")
    first = dict(b.hashes["A"])
    s, _ = b.run("A")  # from the cache now
    b.record("A")
    if args.target == "report":
        # B from the cache too: a report's first run from a cached fit also computes and caches
        # the leave-one-origin-out refits, so only a second run of each is a "warm" run
        b.run("B")
        s, _ = b.run("A")
        b.record("A")
    timing["warm_run_s"] = timing["warm_run_s_initial"] = round(s, 1)
    b.volatile = {f for f in first if first[f] != b.hashes["A"].get(f)}
    timing["files_differing_between_warm_runs"] = sorted(b.volatile)
    current = "A"
    n_report_files = len(b.hashes["A"])
    print(json.dumps(timing), flush=True)

    trials = []
    for i, mode in enumerate(schedule(args.target, args.trials, args.warm_only)):
        gen = "B" if current == "A" else "A"
        if mode in ("cold", "cache_save"):
            shutil.rmtree(b.entry(gen).parent, ignore_errors=True)
        child_mode = {"cache_save": "cache_save", "commit": f"commit_{args.target}"}.get(mode, "plain")
        if mode == "cold":
            delay = rng.uniform(0.0, 0.9) * timing["cold_run_s"]
        elif mode == "warm":
            delay = rng.uniform(0.0, 0.9) * timing["warm_run_s"]
        elif mode == "cache_save":
            delay = rng.uniform(0.0, 0.35)
        else:  # commit: while renaming
            delay = rng.uniform(0.0, 0.03 * 11) if args.target == "fit" else rng.uniform(0.0, 0.01 * n_report_files)
        t_spawn = time.perf_counter()
        proc = b.spawn(gen, child_mode)
        reached, killed = kill_at(proc, ["ready"] + (["window"] if child_mode != "plain" else []), delay)
        if mode == "warm" and not killed:
            # the run ended before the kill: later delays are drawn over the shortest warm run seen
            # (a warm run gets faster once every cache it fills is there)
            timing["warm_run_s"] = round(min(timing["warm_run_s"], time.perf_counter() - t_spawn), 1)
        state = b.state()
        left_after_kill = b.leftovers()
        bad_cache = any(c["problem"] not in (None, "absent") for c in state["cache"].values())
        # the next run, uninterrupted, whenever the kill left something to repair (leftovers, a
        # folder that is not one whole run, a bad cache entry); else the next trial's run is it
        needs_next = not state["trusted"] or bool(left_after_kill) or bad_cache
        t0 = time.perf_counter()
        err = ""
        if needs_next:
            s, err = b.run(gen)
            if mode in ("cold", "cache_save"):
                # the next run may have sampled again: identical fits across processes are not
                # byte-identical (docs/validation.md), so its files are this generation's from now on
                b.record(gen)
            after = b.state()
            on_disk = gen
        else:
            after = state
            on_disk = state["generations"][0] if len(state["generations"]) == 1 else None
        manifest_seed = json.loads((b.out / "manifest.json").read_text(encoding="utf-8")).get("seed") \
            if after["trusted"] else None
        left_after = b.leftovers()
        row = {"trial": i, "mode": mode, "target": gen, "delay_s": round(delay, 3), "reached": reached,
               "killed": killed, **state, "leftovers_after_kill": len(left_after_kill),
               "leftover_names": [Path(p).name for p in left_after_kill][:4],
               "next_run": needs_next, "next_run_s": round(time.perf_counter() - t0, 1),
               "next_run_refitted_bad_cache": "not used:" in err,
               "leftovers_after_next_run": left_after,
               "next_run_ok": on_disk is not None and after["trusted"] and manifest_seed == SEEDS[on_disk]
               and after["generations"] == [on_disk] and not after["unknown_files"]
               and after["cache"][on_disk]["problem"] is None and not after["cache"][on_disk]["verified_but_wrong"]}
        trials.append(row)
        print(json.dumps({k: row[k] for k in ("trial", "mode", "target", "delay_s", "killed", "trusted",
                                               "generations", "mixed_and_trusted", "corrupt_and_trusted",
                                               "leftovers_after_kill", "leftovers_after_next_run",
                                               "next_run_ok")}), flush=True)
        current = on_disk or gen
        write_result(args, trials, timing, godt, t_start, partial=i + 1 < args.trials)
    shutil.rmtree(tmp, ignore_errors=True)


def write_result(args, trials: list[dict], timing: dict, godt: Path, t_start: float, partial: bool) -> None:
    """benchmarks/results/crash_<target>.json, rewritten after every trial (``partial`` until done)."""
    result = {
        "benchmark": f"crash_{args.target}", "date": time.strftime("%Y-%m-%d"), "seed": args.seed,
        "command": "python benchmarks/crash_trials.py " + " ".join(sys.argv[1:]),
        "partial": partial, "warm_only": args.warm_only, "trials": len(trials), "killed": sum(t["killed"] for t in trials),
        "modes": {m: sum(t["mode"] == m for t in trials) for m in dict.fromkeys(t["mode"] for t in trials)},
        **timing,
        "godt_files": sorted(p.name for p in godt.glob("*.csv")) if args.target == "report" else None,
        "mixed_and_trusted": sum(t["mixed_and_trusted"] for t in trials),
        "corrupt_and_trusted": sum(t["corrupt_and_trusted"] for t in trials),
        "cache_verified_but_wrong": sum(any(c["verified_but_wrong"] for c in t["cache"].values()) for t in trials),
        "kills_leaving_untrusted_folder": sum(not t["trusted"] for t in trials),
        "kills_leaving_mixed_files_on_disk": sum(t["mixed_on_disk"] for t in trials),
        "kills_leaving_bad_cache_entry": sum(any(c["problem"] not in (None, "absent") for c in t["cache"].values())
                                             for t in trials),
        "next_runs_reporting_bad_cache": sum(t["next_run_refitted_bad_cache"] for t in trials),
        "kills_leaving_leftovers": sum(bool(t["leftovers_after_kill"]) for t in trials),
        "leftovers_after_next_run": sum(len(t["leftovers_after_next_run"]) for t in trials),
        "next_runs": sum(t["next_run"] for t in trials),
        "next_run_ok": sum(t["next_run_ok"] for t in trials),
        "wall_s": round(time.perf_counter() - t_start, 1),
        "platform": platform.platform(), "python": platform.python_version(),
        "per_trial": trials,
    }
    dest = args.results / f"crash_{args.target}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    if not partial:
        print(json.dumps({k: v for k, v in result.items() if k != "per_trial"}, indent=2))


if __name__ == "__main__":
    main()
