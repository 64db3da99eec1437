"""Shared fixtures: a small valid raw-data directory written fresh for each test."""

from __future__ import annotations

import csv
import functools
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from analysis.data import rules  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

SOURCES = [
    ["S-OFF", "Official statement", "Xinhua", "2019-10-09", "http://example.org/a", "", "official_statement", "", ""],
    ["S-NGO", "NGO estimate", "Dui Hua", "2018", "http://example.org/b", "", "ngo_report", "", ""],
]
ORIGINS = [
    ["nhc", "National Health Commission", "official", "Government of China", ""],
    ["dui_hua", "Dui Hua Foundation", "ngo", "", ""],
    ["kgm2016", "Kilgour, Gutmann and Matas (2016 update)", "advocacy", "ETAC (advocacy)", ""],
]
ORIGIN_OF_SOURCE = {"S-OFF": "nhc", "S-NGO": "dui_hua"}


def obs(obs_id, series, year, value, unit, kind, source, quote, **kw):
    row = dict.fromkeys(rules.OBS_COLUMNS, "")
    row.update(obs_id=obs_id, series=series, year=str(year), value=str(value), unit=unit, kind=kind,
               source_id=source, origin=ORIGIN_OF_SOURCE.get(source, ""), locator="para 1", quote=quote)
    row.update({k: str(v) for k, v in kw.items()})
    return [row[c] for c in rules.OBS_COLUMNS]


FAMILY_ROWS = {
    "volumes": [
        obs("vol-1", "official_total", 2018, 20201, "transplants", "reported", "S-OFF",
            "完成器官移植手术20201例"),
        obs("vol-2", "kgm_update", 2016, "", "transplants", "capacity", "S-NGO",
            "60,000 to 100,000 organs are transplanted each year", low=60000, high=100000,
            origin="kgm2016"),
    ],
    "executions": [
        obs("exe-1", "dui_hua_estimate", 2013, 2400, "executions", "estimate", "S-NGO",
            "an estimated 2,400 people were executed in 2013"),
    ],
    "donation": [
        obs("don-1", "official_donors", 2018, 6302, "donors", "reported", "S-OFF",
            "2018年共完成公民逝世后器官捐献6302例", donor_type="deceased"),
        obs("don-2", "official_cum", 2010, 18000, "donors", "cumulative", "S-OFF",
            "1.8万余例", year_end=2018, qualifier="over", quote_form="chinese"),
    ],
    "living_and_share": [
        obs("liv-1", "share_living_related", 2018, 0.1203, "share", "reported", "S-OFF",
            "12.03%来源于亲属间活体捐献", denominator="transplant operations"),
    ],
}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_raw(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    write_csv(data_dir / rules.SOURCES_FILE, rules.SOURCE_COLUMNS, SOURCES)
    write_csv(data_dir / rules.ORIGINS_FILE, rules.ORIGIN_COLUMNS, ORIGINS)
    for family, (name, _) in rules.FAMILIES.items():
        write_csv(data_dir / name, rules.OBS_COLUMNS, FAMILY_ROWS[family])
    return data_dir


_TAKES_QUICK_REPORT = re.compile(r"def \w+\([^)]*\bquick_report\b")


@functools.cache
def _uses_quick_report(path: str) -> bool:
    """Whether a test or fixture in the file takes ``quick_report`` as an argument."""
    return bool(_TAKES_QUICK_REPORT.search(Path(path).read_text(encoding="utf-8")))


def suite_scope(rootpath: Path, nodeid: str) -> str:
    """The xdist work unit of a test: "quick_report" for the files sharing that fixture, else its
    file (an id's "::" or "@" inside a parametrization does not split it)."""
    path = nodeid.split("::", 1)[0]
    return "quick_report" if _uses_quick_report(str(rootpath / path)) else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist (``make test`` runs ``-n 2``): each test file runs in one worker, in file order
    (several files rely on a model compiled by an earlier test of the file), and every file that
    uses the session's ``quick_report`` runs in the same worker, so that fixture (a cold compile, a
    quick fit and its refits) is built once, not once per worker. (A scheduler, not
    ``--dist loadgroup``: xdist 3.8's group marks have no effect under pytest 9.2.)"""
    from xdist.scheduler import LoadScopeScheduling

    class FileGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return suite_scope(config.rootpath, nodeid)

    config.option.loadscopereorder = False  # keep the order pytest_collection_modifyitems gives
    return FileGroups(config, log)


def pytest_collection_modifyitems(config, items):
    """In an xdist worker: the quick_report files first, then files with slow tests, then the rest
    (stable: file order within each), so the long groups start early and short files fill in."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank: dict[Path, int] = {}
    for item in items:
        r = 0 if _uses_quick_report(str(item.path)) else 1 if item.get_closest_marker("slow") else 2
        rank[item.path] = min(rank.get(item.path, 2), r)
    items[:] = sorted(items, key=lambda item: rank[item.path])


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    return write_raw(tmp_path / "raw")


@pytest.fixture(scope="session")
def quick_report(tmp_path_factory):
    """`tgap report --quick` on the shipped data, fitted once per test session.

    The fit cache, ingested data, report and forensic outputs all live in a temp directory; the fit
    cache is shared by every test that asks for this fixture (and notebook 03, via its
    ``cache_dir`` parameter). Yields a namespace: base, out, forensics, cache, args, result (the
    CliRunner result of the first run), seconds (its wall time).
    """
    import time
    from types import SimpleNamespace

    from typer.testing import CliRunner

    import analysis.model.fit as fit
    from analysis.cli import app
    from analysis.report import chart_cache

    base = tmp_path_factory.mktemp("quick_report")
    mp = pytest.MonkeyPatch()
    mp.setattr(fit, "CACHE_DIR", base / "cache")
    mp.setattr(chart_cache, "DIR", base / "cache" / "charts")  # the session's charts, not the project's
    # the fit key hashes the package's code: freeze it for the session, so that edits made to the
    # checkout while the tests run do not turn the cached-run tests into refits
    code = fit.code_hash()
    mp.setattr(fit, "code_hash", lambda: code)
    # no --forensics-out: the forensic outputs go inside the report folder (self-contained)
    args = ["report", "--quick", "--derived", str(base / "derived"), "--out", str(base / "report")]
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, args)
    seconds = time.perf_counter() - t0
    try:
        yield SimpleNamespace(base=base, out=base / "report", forensics=base / "report" / "forensics",
                              cache=base / "cache" / "fits", args=args, result=result, seconds=seconds)
    finally:
        mp.undo()
