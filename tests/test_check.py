"""tgap check / tgap ingest on good and bad raw data: exact messages, exit codes, no half-writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data import rules
from analysis.data.check import load_raw
from analysis.data.quotes import check_quote, chinese_numbers, digit_numbers

runner = CliRunner()


def rows_of(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    rows = rows_of(path)
    rows[line - 1][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def check_lines(data_dir: Path) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["check", "--data-dir", str(data_dir)])
    return result.exit_code, [line for line in result.stdout.splitlines() if line]


def test_clean_data_passes(raw_dir):
    code, lines = check_lines(raw_dir)
    assert code == 0
    assert lines == ["ok: 6 observations in 4 families, 2 sources"]


def _mutate_missing_file(d):
    (d / "executions.csv").unlink()


def _mutate_header(d):
    text = (d / "volumes.csv").read_text(encoding="utf-8")
    (d / "volumes.csv").write_text(text.replace(",value,", ",valeu,", 1), encoding="utf-8")


def _mutate_duplicate(d):
    rows = rows_of(d / "executions.csv")
    with open(d / "executions.csv", "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(rows[1])


def _mutate_non_utf8(d):
    raw = (d / "executions.csv").read_bytes()
    (d / "executions.csv").write_bytes(raw.replace(b"an estimated", b"an estim\xe9ted"))


def _mutate_empty_header(d):
    (d / "donation.csv").write_text("", encoding="utf-8")


def _mutate_drop_origin(d):
    rows = rows_of(d / "donation.csv")
    i = rows[0].index("origin")
    with open(d / "donation.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([r[:i] + r[i + 1:] for r in rows])


def _mutate_no_origins(d):
    (d / "origins.csv").unlink()


BAD_INPUTS = {
    "missing file": (_mutate_missing_file, None,
                     ["executions.csv:0:-: file-missing: executions.csv not found in {dir}"]),
    "wrong header": (_mutate_header, None,
                     ["volumes.csv:1:valeu: header: unknown column 'valeu'",
                      "volumes.csv:1:value: header: required column missing from header"]),
    "empty file": (_mutate_empty_header, None,
                   ["donation.csv:1:-: header: file is empty; expected header " + ",".join(rules.OBS_COLUMNS)]),
    "non-numeric value": (("volumes.csv", 2, "value", "20k"), None,
                          ["volumes.csv:2:value: type: '20k' is not a number"]),
    "negative count": (("executions.csv", 2, "value", "-2400"), None,
                       ["executions.csv:2:value: non-negative: -2400 < 0",
                        "executions.csv:2:quote: quote-contains-figure: value figure -2400 not found in quote as digits"]),
    "share above one": (("living_and_share.csv", 2, "value", "12.03"), None,
                        ["living_and_share.csv:2:value: share-in-0-1: 12.03 > 1"]),
    "low above high": (("volumes.csv", 3, "low", "160000"), None,
                       ["volumes.csv:3:high: low<=high: low=160000 > high=100000",
                        "volumes.csv:3:quote: quote-contains-figure: low figure 160000 not found in quote as digits"]),
    "unknown source": (("executions.csv", 2, "source_id", "S-NOPE"), None,
                       ["executions.csv:2:source_id: source-exists: 'S-NOPE' is not a source_id in sources.csv"]),
    "duplicate row": (_mutate_duplicate, None,
                      ["executions.csv:2:obs_id: unique: 'exe-1' appears more than once",
                       "executions.csv:2:obs_id: unique-key: another row has the same key (source_id=S-NGO, series=dui_hua_estimate, year=2013, unit=executions, kind=estimate)",
                       "executions.csv:3:obs_id: unique: 'exe-1' appears more than once",
                       "executions.csv:3:obs_id: unique-key: another row has the same key (source_id=S-NGO, series=dui_hua_estimate, year=2013, unit=executions, kind=estimate)"]),
    "year out of range": (("donation.csv", 2, "year", "2099"), None,
                          ["donation.csv:2:year: year-range: 2099 outside 1980-2030"]),
    "empty quote": (("executions.csv", 2, "quote", ""), None,
                    ["executions.csv:2:quote: required: empty"]),
    "quote without figure": (("executions.csv", 2, "quote", "an estimated 2,300 people were executed"), None,
                             ["executions.csv:2:quote: quote-contains-figure: value figure 2400 not found in quote as digits"]),
    "non-UTF-8 bytes": (_mutate_non_utf8, None,
                        ["executions.csv:2:quote: utf-8: invalid byte 0xe9 at byte 91 of the line"]),
    "unit not allowed in file": (("executions.csv", 2, "unit", "donors"), None,
                                 ["executions.csv:2:unit: allowed-values: 'donors' not one of executions"]),
    "year_end before year": (("donation.csv", 3, "year_end", "2009"), None,
                             ["donation.csv:3:year_end: year<=year_end: year_end=2009 < year=2010"]),
    "share without denominator": (("living_and_share.csv", 2, "denominator", ""), None,
                                  ["living_and_share.csv:2:denominator: denominator-required: share row without a denominator"]),
    "missing origin": (("volumes.csv", 2, "origin", ""), None,
                       ["volumes.csv:2:origin: required: empty"]),
    "unknown origin": (("executions.csv", 2, "origin", "duihua"), None,
                       ["executions.csv:2:origin: origin-exists: 'duihua' is not an id in origins.csv"]),
    "origin column missing": (_mutate_drop_origin, None,
                              ["donation.csv:1:origin: header: required column missing from header"]),
    "missing origins file": (_mutate_no_origins, None,
                             ["origins.csv:0:-: file-missing: origins.csv not found in {dir}"]),
    "bad origin kind": (("origins.csv", 3, "kind", "human_rights"), None,
                        ["origins.csv:3:kind: allowed-values: 'human_rights' not one of " + ", ".join(rules.ORIGIN_KINDS)]),
    "duplicate origin id": (("origins.csv", 4, "id", "dui_hua"), None,
                            ["origins.csv:3:id: unique: 'dui_hua' appears more than once",
                             "origins.csv:4:id: unique: 'dui_hua' appears more than once",
                             "volumes.csv:3:origin: origin-exists: 'kgm2016' is not an id in origins.csv"]),
    "bad source kind": (("sources.csv", 3, "kind", "blog"), None,
                        ["sources.csv:3:kind: allowed-values: 'blog' not one of " + ", ".join(rules.SOURCE_KINDS)]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_matrix(raw_dir, tmp_path, case):
    mutate, _, expected = BAD_INPUTS[case]
    out = tmp_path / "derived"
    first = runner.invoke(app, ["ingest", "--data-dir", str(raw_dir), "--out", str(out)])
    assert first.exit_code == 0, first.stdout
    before = snapshot(out)

    if callable(mutate):
        mutate(raw_dir)
    else:
        set_cell(raw_dir / mutate[0], *mutate[1:])

    code, lines = check_lines(raw_dir)
    assert code == 1
    assert sorted(lines) == sorted(e.format(dir=raw_dir) for e in expected)

    result = runner.invoke(app, ["ingest", "--data-dir", str(raw_dir), "--out", str(out)])
    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if line] == lines
    assert snapshot(out) == before  # byte-for-byte unchanged, no temp files left


def test_every_problem_is_reported_not_only_the_first(raw_dir):
    set_cell(raw_dir / "volumes.csv", 2, "value", "x")
    set_cell(raw_dir / "executions.csv", 2, "year", "1900")
    set_cell(raw_dir / "donation.csv", 2, "source_id", "S-NONE")
    code, lines = check_lines(raw_dir)
    assert code == 1
    assert [line.split(": ")[0] for line in lines] == [
        "donation.csv:2:source_id", "executions.csv:2:year", "volumes.csv:2:value",
    ]


def test_ingest_writes_tidy_table_and_manifest(raw_dir, tmp_path):
    out = tmp_path / "derived"
    result = runner.invoke(app, ["ingest", "--data-dir", str(raw_dir), "--out", str(out)])
    assert result.exit_code == 0, result.stdout
    obs = pd.read_csv(out / "observations.csv")
    assert len(obs) == 6
    for col in ["family", "series", "year", "year_end", "value", "low", "high", "unit", "kind",
                "source_id", "source_kind", "origin", "origin_kind"]:
        assert col in obs.columns
    row = obs.set_index("obs_id").loc["don-2"]
    assert (row["year"], row["year_end"], row["qualifier"], row["source_kind"]) == (
        2010, 2018, "over", "official_statement")
    assert tuple(obs.set_index("obs_id").loc["vol-2", ["origin", "origin_kind"]]) == ("kgm2016", "advocacy")
    assert obs.set_index("obs_id").loc["vol-1", "year_end"] == 2018  # blank year_end = year
    assert obs.set_index("obs_id").loc["vol-2", "organ"] == "all"  # blank organ = all
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows_per_family"] == {"donation": 2, "executions": 1, "living_and_share": 1, "volumes": 2}
    assert set(manifest["raw_files_sha256"]) == {"sources.csv", "origins.csv", "volumes.csv", "executions.csv",
                                                 "donation.csv", "living_and_share.csv"}
    import hashlib
    assert manifest["raw_files_sha256"]["volumes.csv"] == hashlib.sha256(
        (raw_dir / "volumes.csv").read_bytes()).hexdigest()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_ingest_is_deterministic(raw_dir, tmp_path):
    for name in ("a", "b"):
        assert runner.invoke(app, ["ingest", "--data-dir", str(raw_dir), "--out", str(tmp_path / name)]).exit_code == 0
    assert (tmp_path / "a/observations.csv").read_bytes() == (tmp_path / "b/observations.csv").read_bytes()


@pytest.mark.parametrize(
    "figure, quote, form, unit, ok",
    [
        (20201, "完成器官移植手术20201例", "digits", "transplants", True),
        (20201, "20,201 transplant surgeries", "digits", "transplants", True),
        (20201, "20 201 surgeries", "digits", "transplants", True),
        (0.8797, "87.97%来源于公民逝世后捐献", "digits", "share", True),
        (0.88, "About 88 percent of all organs", "digits", "share", True),
        (88, "About 0.88 of all organs", "digits", "transplants", False),
        (90000, "已实施各种器官移植的数量9万余例", "chinese", "transplants", True),
        (18000, "1.8万余", "chinese", "donors", True),
        (10000, "一万例", "chinese", "transplants", True),
        (3500, "三千五百", "chinese", "transplants", True),
        (9000, "9万余例", "chinese", "transplants", False),
        (300, "a few hundred in 2000", "words", "transplants", True),
        (300, "300 in 2000", "words", "transplants", False),
        (300, "in 2000", "words", "transplants", False),
        (2400, "2,300 people", "digits", "executions", False),
    ],
)
def test_quote_forms(figure, quote, form, unit, ok):
    assert (check_quote(figure, quote, form, unit) is None) is ok


def test_number_readers():
    assert digit_numbers("20,201 and 6302 and 4.53") >= {20201.0, 6302.0, 4.53}
    assert chinese_numbers("3.3万余例, 9.9万余个") >= {33000.0, 99000.0}


def test_load_raw_types_and_defaults(raw_dir):
    raw = load_raw(raw_dir)
    assert raw.ok
    vol = raw.families["volumes"].set_index("obs_id")
    assert vol.loc["vol-2", "low"] == 60000.0 and pd.isna(vol.loc["vol-2", "value"])
    assert str(vol["year"].dtype) == "Int64"


@pytest.mark.parametrize(
    "figure, quote, form, ok",
    [
        (12000, "器官捐献超过1万2000例", "chinese", True),
        (34500, "捐献器官3万4500个", "chinese", True),
        (10000, "完成器官移植1萬例以上", "chinese", True),
        (5492, "sono state 5.492 le esecuzioni", "digits", True),
        (4.53, "PMP 4.53", "digits", True),
        (12000, "器官捐献超过1万3000例", "chinese", False),
    ],
)
def test_quote_forms_mixed_and_traditional(figure, quote, form, ok):
    assert (check_quote(figure, quote, form, "donors") is None) is ok
