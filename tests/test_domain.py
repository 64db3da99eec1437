"""Domain rules of data/raw (analysis/data/domain.py, read.py file checks): values that parse but
make no sense are refused as FILE:ROW:COLUMN problems, exit 1, ingest output untouched."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data.domain import date_problem, url_problem

from .test_check import check_lines, set_cell, snapshot

runner = CliRunner()
QUOTE_INF = "volumes.csv:2:quote: quote-contains-figure: value figure inf not found in quote as digits"


def _cr_only(d):
    (d / "volumes.csv").write_bytes((d / "volumes.csv").read_bytes().replace(b"\n", b"\r"))


def _cr_in_row(d):
    raw = (d / "executions.csv").read_bytes().split(b"\n")
    raw[1] = raw[1].replace(b"an estimated", b"an\restimated")
    (d / "executions.csv").write_bytes(b"\n".join(raw))


def _header_only(d):
    text = (d / "donation.csv").read_text(encoding="utf-8")
    (d / "donation.csv").write_text(text.splitlines()[0] + "\n", encoding="utf-8")


def _directory(d):
    (d / "executions.csv").unlink()
    (d / "executions.csv").mkdir()


def _symlink_out(d):
    outside = d.parent / "elsewhere.csv"
    outside.write_bytes((d / "living_and_share.csv").read_bytes())
    (d / "living_and_share.csv").unlink()
    os.symlink(outside, d / "living_and_share.csv")


DOMAIN_CASES = {
    "inf value": (("volumes.csv", 2, "value", "inf"),
                  [QUOTE_INF, "volumes.csv:2:value: finite: 'inf' is not a finite number"]),
    "1e309 value": (("volumes.csv", 2, "value", "1e309"),
                    [QUOTE_INF, "volumes.csv:2:value: finite: '1e309' is not a finite number"]),
    "1e15 value": (("volumes.csv", 2, "value", "1e15"),
                   ["volumes.csv:2:quote: quote-contains-figure: value figure 1e+15 not found in quote as digits",
                    "volumes.csv:2:value: ceiling: 1e+15 above the yearly ceiling for transplants (1,000,000)",
                    "volumes.csv:2:value: number-form: '1e15': write numbers as plain decimals (e.g. 20201 or 0.1203)"]),
    "executions above ceiling": (("executions.csv", 2, "value", "2400000"),
                                 ["executions.csv:2:quote: quote-contains-figure: value figure 2.4e+06 not found in quote as digits",
                                  "executions.csv:2:value: ceiling: 2.4e+06 above the yearly ceiling for executions (100,000)"]),
    "year in exponent form": (("volumes.csv", 2, "year", "2.01e3"),
                              ["volumes.csv:2:year: year-form: '2.01e3' is not a four-digit year"]),
    "year_end with decimals": (("donation.csv", 3, "year_end", "2018.0"),
                               ["donation.csv:3:year_end: year-form: '2018.0' is not a four-digit year"]),
    "impossible month": (("sources.csv", 2, "published", "2019-13-45"),
                         ["sources.csv:2:published: date: '2019-13-45' is not a date (month must be in 1..12)"]),
    "impossible day": (("sources.csv", 2, "published", "2019-02-30"),
                       ["sources.csv:2:published: date: '2019-02-30' is not a date (day is out of range for month)"]),
    "formula in series": (("volumes.csv", 2, "series", "=cmd|' /C calc'!A0"),
                          ["volumes.csv:2:series: pattern: \"=cmd|' /C calc'!A0\" does not match ^[a-z0-9][a-z0-9_.-]*$"]),
    "formula in flag": (("volumes.csv", 2, "flag", "+1+cmd"),
                        ["volumes.csv:2:flag: pattern: '+1+cmd' does not match ^[a-z0-9][a-z0-9_.-]*(;[a-z0-9][a-z0-9_.-]*)*$"]),
    "javascript archive": (("sources.csv", 2, "archive_url", "javascript:alert(1)"),
                           ["sources.csv:2:archive_url: url: 'javascript:alert(1)': only http:// and https:// links are allowed"]),
    "protocol-relative archive": (("sources.csv", 2, "archive_url", "//evil.example/x"),
                                  ["sources.csv:2:archive_url: url: '//evil.example/x': only http:// and https:// links are allowed"]),
    "url without host": (("sources.csv", 2, "url", "http://"),
                         ["sources.csv:2:url: url: 'http://': no host name, or white space in the link"]),
    "NUL in notes": (("volumes.csv", 2, "notes", "a\x00b"),
                     ["volumes.csv:2:notes: control-character: U+0000 at character 2"]),
    "NUL in series": (("executions.csv", 2, "series", "dui\x00hua"),
                      ["executions.csv:2:series: control-character: U+0000 at character 4",
                       "executions.csv:2:series: pattern: 'dui\\x00hua' does not match ^[a-z0-9][a-z0-9_.-]*$"]),
    "ESC in title": (("sources.csv", 2, "title", "a\x1bb"),
                     ["sources.csv:2:title: control-character: U+001B at character 2"]),
    "line separator in quote": (("donation.csv", 2, "locator", "p\u20281"),
                                ["donation.csv:2:locator: control-character: U+2028 at character 2"]),
    "CR-only line ends": (_cr_only,
                          ["volumes.csv:1:-: newline: 3 carriage return(s) without a line feed; save the file with LF or CRLF line ends"]),
    "lone CR in a row": (_cr_in_row,
                         ["executions.csv:2:-: newline: 1 carriage return(s) without a line feed; save the file with LF or CRLF line ends"]),
    "header and no rows": (_header_only,
                           ["donation.csv:0:-: rows: no observation rows; each observation file needs at least one"]),
    "file is a directory": (_directory, ["executions.csv:0:-: file-type: a directory; expected a CSV file"]),
    "symlink leaving the data dir": (_symlink_out,
                                     ["living_and_share.csv:0:-: file-type: symbolic link to a file outside the data directory"]),
}


@pytest.mark.parametrize("case", list(DOMAIN_CASES), ids=list(DOMAIN_CASES))
def test_domain_matrix(raw_dir, tmp_path, case):
    mutate, expected = DOMAIN_CASES[case]
    out = tmp_path / "derived"
    assert runner.invoke(app, ["ingest", "--data-dir", str(raw_dir), "--out", str(out)]).exit_code == 0
    before = snapshot(out)
    if callable(mutate):
        mutate(raw_dir)
    else:
        set_cell(raw_dir / mutate[0], *mutate[1:])
    code, lines = check_lines(raw_dir)
    assert (code, sorted(lines)) == (1, sorted(expected))
    result = runner.invoke(app, ["ingest", "--data-dir", str(raw_dir), "--out", str(out)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert snapshot(out) == before


def test_symlink_inside_data_dir_is_followed(raw_dir):
    inside = raw_dir / "sub"
    inside.mkdir()
    (raw_dir / "volumes.csv").rename(inside / "volumes.csv")
    os.symlink(inside / "volumes.csv", raw_dir / "volumes.csv")
    assert check_lines(raw_dir) == (0, ["ok: 6 observations in 4 families, 2 sources"])


@pytest.mark.parametrize("cell, ok", [("2019", True), ("2019-02", True), ("2020-02-29", True),
                                      ("2019-02-29", False), ("2019-00", False), ("1850", False)])
def test_dates(cell, ok):
    assert (date_problem(cell) is None) is ok


@pytest.mark.parametrize("cell, ok", [("https://a.example/x?y=1", True), ("http://1.2.3.4/", True),
                                      ("ftp://a.example", False), ("https://a b.example", False),
                                      ("data:text/html,x", False), ("https://", False)])
def test_urls(cell, ok):
    assert (url_problem(cell, scheme_checked=False) is None) is ok


def test_ceiling_of_multi_year_rows():
    import pandas as pd

    from analysis.data import rules
    from analysis.data.domain import observation_problems

    base = dict.fromkeys(rules.OBS_COLUMNS, "")
    rows = [base | {"series": "s", "year": "2000", "year_end": "2017", "value": "2000000", "unit": "transplants", "kind": "capacity"},
            base | {"series": "s", "year": "2017", "year_end": "", "value": "2000000", "unit": "transplants", "kind": "capacity"},
            base | {"series": "s", "year": "2000", "year_end": "2017", "value": "20000000", "unit": "transplants", "kind": "estimate"}]
    frame = pd.DataFrame(rows, index=pd.Index([2, 3, 4], name="line"), dtype=object)
    assert [str(p) for p in observation_problems(frame, "volumes.csv")] == [
        "volumes.csv:3:value: ceiling: 2e+06 above the yearly ceiling for transplants (1,000,000)",
        "volumes.csv:4:value: ceiling: 2e+07 above the cumulative ceiling for transplants (10,000,000)",
    ]
