"""What a cached report reuses besides charts: the fit read with xarray alone
(analysis.model.cache.DrawGroups, no ArviZ import) and the fit's tables kept beside the cached fit
(analysis.report.memo). Tiny inputs; no fitting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.model import cache
from analysis.report import memo
from tests.test_cache import tiny_idata

ROOT = Path(__file__).resolve().parents[1]


def test_light_load_gives_the_same_groups_and_attrs_as_arviz(tmp_path):
    path = tmp_path / "k" / "idata.nc"
    cache.save(tiny_idata(3), path)
    full, p1 = cache.load(path)
    light, p2 = cache.load(path, light=True)
    assert p1 is None and p2 is None
    assert isinstance(light, cache.DrawGroups)
    assert sorted(light.groups()) == sorted(full.groups())
    for g in full.groups():
        assert getattr(light, g).identical(getattr(full, g)), g
        assert light[g].identical(getattr(full, g)) and g in light
    assert dict(light.attrs) == dict(full.attrs) and light.attrs["fit_key"] == "k"
    assert getattr(light, "prior_predictive", None) is None  # absent group: AttributeError, as in ArviZ
    # anything else is ArviZ's, on an InferenceData made on first use
    assert light.to_inference_data().posterior["gap"].shape == (2, 50, 3)
    assert callable(light.to_netcdf)


def test_light_load_refuses_a_damaged_entry(tmp_path):
    path = tmp_path / "k" / "idata.nc"
    cache.save(tiny_idata(), path)
    path.write_bytes(path.read_bytes()[:500])
    idata, problem = cache.load(path, light=True)
    assert idata is None and problem.startswith("size ")


def test_light_load_imports_neither_arviz_nor_pymc(tmp_path):
    path = tmp_path / "k" / "idata.nc"
    cache.save(tiny_idata(), path)
    code = ("import sys\nfrom analysis.model import cache\n"
            f"idata, problem = cache.load({str(path)!r}, light=True)\n"
            "assert problem is None, problem\n"
            "print(idata.posterior['gap'].shape, sorted(m for m in ('arviz', 'pymc', 'pytensor', 'nutpie', "
            "'jax', 'matplotlib') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(2, 50, 3) []"


def _result(tmp_path, key="fitkey1"):
    fit_dir = tmp_path / "fits" / key
    fit_dir.mkdir(parents=True, exist_ok=True)
    (fit_dir / "idata.nc").write_bytes(b"stand-in")
    return SimpleNamespace(key=key, path=fit_dir / "idata.nc", idata=object(), evidence=object(),
                           scenario=object(), from_cache=True)


CALLS = []


def table_of(idata, periods):
    CALLS.append(periods)
    return pd.DataFrame({"period": [f"{a}-{b}" for a, b in periods], "x": np.arange(len(periods)) + 0.5})


def test_memo_computes_once_per_fit_and_inputs(tmp_path):
    CALLS.clear()
    r = _result(tmp_path)
    first, hit1 = memo.cached(r, table_of, r.idata, [(2000, 2005)])
    again, hit2 = memo.cached(r, table_of, r.idata, [(2000, 2005)])
    assert (hit1, hit2) == (False, True) and len(CALLS) == 1
    pd.testing.assert_frame_equal(first, again)
    entries = sorted(p.name for p in r.path.parent.glob("report-table_of-*"))
    assert len(entries) == 2 and entries[0].endswith(".json") and entries[1].endswith(".pkl")
    assert memo.cached(r, table_of, r.idata, [(2000, 2006)])[1] is False  # another argument
    other = _result(tmp_path, "fitkey2")
    assert memo.cached(other, table_of, other.idata, [(2000, 2005)])[1] is False  # another fit
    assert len(CALLS) == 3


@pytest.mark.parametrize("damage", ["truncate", "flip", "bad_json", "no_json", "not_pickle"])
def test_memo_damaged_entry_is_recomputed(tmp_path, damage):
    CALLS.clear()
    r = _result(tmp_path)
    value, _ = memo.cached(r, table_of, r.idata, [(2000, 2005)])
    (pkl,) = r.path.parent.glob("report-table_of-*.pkl")
    meta = pkl.with_suffix(".json")
    if damage == "truncate":
        pkl.write_bytes(pkl.read_bytes()[:20])
    elif damage == "flip":
        data = bytearray(pkl.read_bytes())
        data[len(data) // 2] ^= 0xFF
        pkl.write_bytes(bytes(data))
    elif damage == "bad_json":
        meta.write_text("[", encoding="utf-8")
    elif damage == "no_json":
        meta.unlink()
    else:  # checksum matches, content is not a pickle
        pkl.write_bytes(b"garbage")
        meta.write_text(json.dumps({"bytes": 7, "sha256": __import__("hashlib").sha256(b"garbage").hexdigest()}),
                        encoding="utf-8")
    again, hit = memo.cached(r, table_of, r.idata, [(2000, 2005)])
    assert hit is False and len(CALLS) == 2
    pd.testing.assert_frame_equal(value, again)
    assert memo.cached(r, table_of, r.idata, [(2000, 2005)])[1] is True  # rewritten


def test_memo_without_a_cached_fit_always_computes(tmp_path):
    CALLS.clear()
    r = _result(tmp_path)
    r.path = None  # --no-cache
    assert memo.cached(r, table_of, r.idata, [(2000, 2005)])[1] is False
    assert memo.cached(r, table_of, r.idata, [(2000, 2005)])[1] is False
    assert len(CALLS) == 2
