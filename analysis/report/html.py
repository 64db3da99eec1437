"""``index.html``: one self-contained page (figures embedded as data URIs, no external requests).

``render(page)`` turns a ``Page`` (built by ``analysis.report.run``) into HTML. Every text that
comes from data is escaped; links are only made from ``http(s)`` URLs and relative paths.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.report import statements
from analysis.report.forensics_section import NOT_EVIDENCE, ForensicsSection
from analysis.report.statements import RunStatus

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","Source Han Sans SC",
"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:0;color:#1a1a1a;
background:#fff;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:0 1.2rem 3rem}
header{background:#0b3d5c;color:#fff;padding:1.2rem}
header h1{margin:0 auto;max-width:1180px;font-size:1.45rem}
header p{margin:.3rem auto 0;max-width:1180px;font-size:.85rem;opacity:.9}
nav{position:sticky;top:0;background:#f3f5f7;border-bottom:1px solid #d8dde2;padding:.4rem 1.2rem;
font-size:.85rem;z-index:2}
nav a{margin-right:.9rem;color:#0b3d5c}
h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0}
th,td{border:1px solid #d0d5da;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.headline td,table.headline th{font-size:.95rem;padding:.4rem .7rem}
figure{margin:1.2rem 0;border:1px solid #e3e6e9;padding:.6rem;background:#fcfcfd}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.82rem;color:#333;margin-top:.4rem}
.status{display:inline-block;padding:.15rem .5rem;border-radius:3px;font-weight:600;font-size:.85rem}
.pass{background:#d9f0e3;color:#0b5d33}.fail{background:#fbe3d6;color:#8a3200}
.note{background:#fff8e1;border-left:4px solid #E69F00;padding:.5rem .8rem;font-size:.88rem}
.muted{color:#555;font-size:.82rem}
.lede{font-size:1.12rem;font-weight:500;margin:.8rem 0}
.runmark{background:#8a3200;color:#fff;padding:.5rem 1.2rem;font-weight:700;letter-spacing:.03em}
.interactive{margin:1.2rem 0;border:1px solid #e3e6e9;padding:.6rem}
details{margin:.6rem 0}summary{cursor:pointer;color:#0b3d5c}
pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:.75rem;max-height:40rem}
"""


@dataclass
class FigureRef:
    key: str
    title: str
    caption: str
    png: Path          # file to embed
    links: dict[str, str] = field(default_factory=dict)  # label -> relative href


@dataclass
class Page:
    scenario: str
    scenario_hash: str
    description: str
    manifest: dict
    headline: pd.DataFrame                       # gap_by_period
    diagnostics: dict                            # the gate's summary
    figures: dict[str, list[FigureRef]]          # section id -> figures
    assumptions: list[str]
    scenario_settings: pd.DataFrame              # key, value, baseline, differs
    flags: pd.DataFrame
    excluded_reasons: pd.DataFrame
    sources: pd.DataFrame
    diagnostics_table: pd.DataFrame
    predictive_by_series: pd.DataFrame
    tables: list[tuple[str, str]]                # (relative href, description)
    forensics: ForensicsSection | None = None
    forensics_href: str | None = None
    sensitivity_html: str | None = None          # analysis.sensitivity.report_section, if run
    replication_html: str | None = None          # analysis.sensitivity.replicate.report_fragment, if run
    headline_sentence: str = ""                  # statements.headline_sentence
    status: RunStatus = field(default_factory=lambda: RunStatus(quick=False, gate_passed=True))
    calibration: str | None = None               # statements.calibration_statement
    interactive: list[tuple[str, str, str]] = field(default_factory=list)  # (key, title, plotly div)
    composition: pd.DataFrame | None = None      # composition_test.csv
    origin_weights: pd.DataFrame | None = None   # claims.origin_weights
    criticism_html: str = ""                     # criticism_section.html


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def esc(value) -> str:
    return html.escape("" if _missing(value) else str(value))


def fmt_int(v) -> str:
    return "" if pd.isna(v) else f"{v:,.0f}".replace("-", "−")


def fmt_num(v, digits: int = 3) -> str:
    if _missing(v):
        return ""
    if isinstance(v, (bool,)):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.{digits}g}"
        return f"{v:,.{digits}f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def fmt_col(col: str, v) -> str:
    """A number in column ``col`` by the report's one formatting rule (analysis.report.datapackage):
    the column's stated decimals, thousands separators, a true minus; other columns as fmt_num."""
    from analysis.report.datapackage import rule

    dec = rule(col)[2]
    if dec is None or _missing(v) or not isinstance(v, (int, float)):
        return fmt_num(v)
    return f"{v:,.{dec}f}".replace("-", "−")


def link(href: str | None, text: str) -> str:
    if not href:
        return esc(text)
    href = str(href)
    if not (href.startswith(("http://", "https://")) or ":" not in href.split("/")[0]):
        return esc(text)
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")


def table(frame: pd.DataFrame, cols: list[str] | None = None, headers: dict[str, str] | None = None,
          formats: dict | None = None, table_id: str | None = None, cls: str | None = None,
          raw: set[str] | frozenset = frozenset()) -> str:
    """An HTML table (analysis.style.html_table, autoescaped); ``formats`` col -> callable(value) -> str;
    ``raw`` columns are trusted HTML. Numbers follow the one formatting rule (``fmt_col``),
    booleans read yes/no."""
    from markupsafe import Markup

    from analysis import style

    cols = cols or list(frame.columns)
    headers = headers or {}
    formats = formats or {}
    rows = []
    for row in frame[cols].itertuples(index=False):
        cells = []
        for c, v in zip(cols, row):
            if hasattr(v, "item") and not isinstance(v, str):  # numpy scalar -> Python scalar
                v = v.item()
            f = formats.get(c)
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            if c in raw:
                cells.append((Markup("" if _missing(v) else str(v)), False))
            elif f:
                cells.append((f(v), numeric))
            elif isinstance(v, bool):
                cells.append(("yes" if v else "no", False))
            elif numeric:
                cells.append((fmt_col(c, v), True))
            else:
                cells.append(("" if _missing(v) else str(v), False))
        rows.append(cells)
    return style.html_table([headers.get(c, c) for c in cols], rows, table_id=table_id, cls=cls)


def figure(ref: FigureRef) -> str:
    links = " · ".join(link(h, label) for label, h in ref.links.items())
    return (f'<figure id="fig-{esc(ref.key)}"><img src="{data_uri(ref.png)}" alt="{esc(ref.title)}">'
            f"<figcaption><strong>{esc(ref.title)}.</strong> {esc(ref.caption)}"
            f'{" <span class=muted>(" + links + ")</span>" if links else ""}</figcaption></figure>')


def _headline(page: Page) -> str:
    h = page.headline.copy()
    h["interval_90"] = [f"{fmt_int(a)} to {fmt_int(b)}" for a, b in zip(h["gap_q05"], h["gap_q95"])]
    h["interval_50"] = [f"{fmt_int(a)} to {fmt_int(b)}" for a, b in zip(h["gap_q25"], h["gap_q75"])]
    cols = ["period", "gap_median", "interval_90", "interval_50", "p_gap_positive"]
    headers = {"period": "period", "gap_median": "median", "interval_90": "90% interval",
               "interval_50": "50% interval", "p_gap_positive": "P(gap > 0)"}
    formats = {"gap_median": fmt_int, "p_gap_positive": lambda v: f"{v:.2f}"}
    u = statements.UNEXPLAINED
    if statements.columns_for(h) is u:  # the per-draw sum of max(gap, 0) beside the signed gap
        h["unexplained_90"] = [f"{fmt_int(a)} to {fmt_int(b)}" for a, b in zip(h[u["q05"]], h[u["q95"]])]
        cols += [u["median"], "unexplained_90", u["p"]]
        headers |= {u["median"]: "unexplained, median", "unexplained_90": "unexplained, 90% interval",
                    u["p"]: "P(any unexplained)"}
        formats |= {u["median"]: fmt_int, u["p"]: lambda v: f"{v:.2f}"}
    tab = table(h, cols, headers=headers, formats=formats, table_id="headline-table", cls="headline")
    d = page.diagnostics
    ok = d.get("passed")
    failed = ", ".join(k for k, v in d.get("checks", {}).items() if not v)
    status = ('<span class="status pass">diagnostics gate passed</span>' if ok else
              f'<span class="status fail">diagnostics gate FAILED ({esc(failed)})</span>')
    sampler = page.manifest.get("sampler", {})
    fit_line = (f"{esc(sampler.get('name'))}, {esc(sampler.get('chains'))} chains × {esc(sampler.get('tune'))} "
                f"tune + {esc(sampler.get('draws'))} draws, seed {esc(sampler.get('seed'))}; max R-hat "
                f"{esc(d.get('max_rhat'))}, min ESS bulk {esc(d.get('min_ess_bulk'))} / tail "
                f"{esc(d.get('min_ess_tail'))}, {esc(d.get('divergences'))} divergences")
    mark = (f'<p class="note" id="run-status"><strong>{esc(page.status.label)}.</strong> '
            f"{esc(page.status.sentence)}</p>" if page.status.marked else "")
    calib = (f'<p class=muted id="calibration">{esc(page.calibration)} See docs/model.md, "Recovery on '
             'simulated data".</p>' if page.calibration else
             '<p class=muted id="calibration">No calibration results (benchmarks/results/sbc.json) were '
             "found for this report.</p>")
    return (f'<section id="headline"><h2>Headline</h2>{mark}'
            f'<p class="lede" id="headline-sentence">'
            + (f"<strong>[{esc(page.status.label)}]</strong> " if page.status.marked else "")
            + f"{esc(page.headline_sentence)}</p>"
            f"<p>Organs not explained by declared sources under scenario <strong>{esc(page.scenario)}"
            "</strong>, summed over each period: posterior median, 90% and 50% intervals, and the "
            "posterior probability that the gap is positive. A negative gap means that, under this "
            "scenario's assumptions, the declared sources could have supplied more organs than were "
            f"transplanted.</p>{tab}<p>{status} <span class=muted>{fit_line}</span></p>"
            "<p class=muted>The estimate measures how many organs the declared sources leave unexplained "
            "under the scenario's assumptions; it does not identify where organs came from.</p>"
            f"{calib}</section>")


def _interactive(page: Page) -> str:
    if not page.interactive:
        return ""
    parts = "".join(f'<div class="interactive" id="interactive-{esc(k)}"><h3>{esc(t)}</h3>{div}</div>'
                    for k, t, div in page.interactive)
    return ('<h3>Interactive charts</h3><p class=muted>Hover for the year, the median and the 90% interval '
            "(and the source of each published figure); click a legend entry to hide or show a series. "
            f"The static charts below are the same numbers for print.</p>{parts}")


def _figures(page: Page, key: str) -> str:
    return "".join(figure(f) for f in page.figures.get(key, []))


def _assumptions(page: Page) -> str:
    items = "".join(f"<li>{esc(a)}</li>" for a in page.assumptions)
    s = page.scenario_settings
    diff = s[s["differs"]] if len(s) else s
    diff_html = (table(diff, ["key", "value", "baseline"], table_id="scenario-differences")
                 if len(diff) else "<p>This scenario sets every key as the baseline does.</p>")
    return (f'<section id="assumptions"><h2>Assumptions</h2><p>{esc(page.description)}</p>'
            f"<p class=muted>Scenario hash <code>{esc(page.scenario_hash)}</code>; every assumption below is "
            f"a key of the scenario file (docs/model.md explains each).</p><ol>{items}</ol>"
            f"<h3>What this scenario changes from the baseline</h3>{diff_html}"
            f"<details><summary>All {len(s)} scenario settings</summary>"
            f"{table(s, ['key', 'value', 'differs'], formats={'differs': lambda v: 'changed' if v else ''})}"
            "</details></section>")


def _sources(page: Page) -> str:
    src = page.sources.copy()
    src["title_link"] = [link(u, t) for u, t in zip(src["url"], src["title"])]
    src["archive"] = [link(a, "archive") if a else "" for a in src["archive_url"]]
    tab = table(src, ["source_id", "title_link", "author", "published", "kind", "affiliation",
                      "observations", "in_model", "archive"],
                headers={"title_link": "title", "in_model": "rows in the model"},
                raw={"title_link", "archive"}, table_id="sources-table")
    return (f'<section id="sources"><h2>Sources</h2><p>{len(src)} sources in data/raw/sources.csv; '
            "every figure in the data cites one of them with a locator and a verbatim quote. "
            "“rows in the model”: observations of the source that enter the likelihood under this "
            f"scenario.</p><details open><summary>Source list</summary>{tab}</details></section>")


def _quality(page: Page) -> str:
    flags = table(page.flags, table_id="flags-table") if len(page.flags) else "<p>No flagged rows.</p>"
    reasons = table(page.excluded_reasons) if len(page.excluded_reasons) else ""
    weights = ""
    if page.origin_weights is not None and len(page.origin_weights):
        weights = ("<h3>Weight of each origin</h3><p>Rows with the same origin (the producer of the figure), "
                   "quantity and years are one claim: one of them enters the model, the relays are "
                   "collapsed (docs/data.md, \u201cOne claim, one vote\u201d).</p>"
                   + table(page.origin_weights, table_id="origin-weights",
                           headers={"claims": "claims in the model", "rows": "rows in the data",
                                    "relays_collapsed": "relays collapsed"}))
    return ('<section id="data-quality"><h2>Data quality</h2><p>Flags set by the curators on rows of '
            "data/raw (docs/data.md), how many rows carry each, how many enter the model, and how the "
            f"scenario treats them.</p>{flags}{weights}<h3>Observations not entering the model, by reason</h3>"
            f"{reasons}</section>")


def _diagnostics(page: Page) -> str:
    t = page.diagnostics_table
    bad = t[~t["passes"]] if len(t) else t
    bad_html = (f"<p>{len(bad)} quantities miss a limit:</p>" + table(bad) if len(bad)
                else "<p>Every quantity in the table meets the limits.</p>")
    return (f'<section id="diagnostics"><h2>Diagnostics</h2>{bad_html}{_figures(page, "diagnostics")}'
            f"<details><summary>R-hat / ESS table ({len(t)} quantities)</summary>"
            f"{table(t, table_id='diagnostics-table')}</details></section>")


def _predictive(page: Page) -> str:
    t = page.predictive_by_series
    return ('<section id="predictive"><h2>Observed series against the posterior predictive</h2>'
            "<p>Each published figure that enters the model, against the 90% interval the fitted model "
            f"predicts for it.</p>{_figures(page, 'predictive')}"
            f"<details><summary>By series ({len(t)} series)</summary>"
            f"{table(t, table_id='predictive-by-series')}</details></section>")


def _forensics(page: Page) -> str:
    f = page.forensics
    head = '<section id="forensics"><h2>Forensic checks of the official series</h2>'
    msgs = "".join(f'<p class="note">{esc(m)}</p>' for m in (f.messages if f else []))
    if f is None:
        return head + '<p class="note">Forensic checks were not run for this report.</p></section>'
    if not f.available:
        return head + msgs + "</section>"
    godt = ", ".join(f"{esc(k)} (sha256 {esc(v[:12])}…)" for k, v in f.godt_files.items()) or "none"
    series = ", ".join(f"{esc(k)} ({esc(v)})" for k, v in f.target_series.items()) or "none"
    summ = f.summary.copy()
    if len(summ):
        summ = summ[summ["model"].isin(["quadratic", "quadratic_origin"])].copy()
        for col in ("rank", "n_countries"):
            summ[col] = pd.to_numeric(summ[col], errors="coerce").round().astype("Int64")
    out = [head, f"<p>{esc(NOT_EVIDENCE)}</p>", msgs,
           f"<p class=muted>GODT exports: {godt}. Target series: {series}. "
           f"{link(page.forensics_href, 'Forensic output files')}.</p>",
           "<h3>Quadratic fits and their rank among GODT countries</h3>",
           table(summ, table_id="forensics-summary") if len(summ) else "<p>No series had enough points.</p>",
           "<h3>Flags raised</h3>", table(f.flag_counts) if len(f.flag_counts) else "<p>No flags.</p>"]
    if len(f.flagged):
        out.append("<details><summary>Flagged rows (excluding source disagreements)</summary>"
                   + table(f.flagged) + "</details>")
    for png, caption in f.charts:
        out.append(figure(FigureRef(png.stem, FORENSIC_TITLES.get(png.stem, png.stem.replace("_", " ")),
                                    caption, png, {"PNG": f"figures/{png.name}"})))
    out.append("</section>")
    return "".join(out)


FORENSIC_TITLES = {"forensics_fits": "Curve fits of the official series",
                   "forensics_benchmark": "Fit quality against GODT countries",
                   "forensics_ratios": "Ratios against GODT countries"}


def _tables(page: Page) -> str:
    items = "".join(f"<li>{link(h, h)} — {esc(d)}</li>" for h, d in page.tables)
    return f'<section id="tables"><h2>Tables (CSV)</h2><ul>{items}</ul></section>'


def _manifest(page: Page) -> str:
    text = json.dumps(page.manifest, indent=2, sort_keys=True, default=str)
    return (f'<section id="manifest"><h2>Manifest</h2><p class=muted>Also in manifest.json beside this '
            f"page.</p><details><summary>manifest.json</summary><pre>{esc(text)}</pre></details></section>")


NAV = [("headline", "Headline"), ("charts", "Charts"), ("composition", "Share statements tested"),
       ("assumptions", "Assumptions"),
       ("predictive", "Predictive checks"), ("criticism", "Model criticism"), ("diagnostics", "Diagnostics"), ("data-quality", "Data quality"),
       ("sources", "Sources"), ("sensitivity", "Sensitivity"), ("forensics", "Forensics"), ("tables", "Tables"),
       ("manifest", "Manifest")]


def _sensitivity(page: Page) -> str:
    section = _sensitivity_only(page)
    if page.replication_html:  # tgap replicate: inside this section, before its end
        section = section[: section.rindex("</section>")] + page.replication_html + "</section>"
    return section


def _sensitivity_only(page: Page) -> str:
    if page.sensitivity_html:
        return page.sensitivity_html
    return ('<section id="sensitivity"><h2>Sensitivity to the assumptions</h2><p>No sweep or break-even '
            f"results for scenario {esc(page.scenario)} yet: run <code>tgap sensitivity --scenario "
            f"{esc(page.scenario)} --vary KEY=V1,V2 ...</code> and/or <code>tgap breakeven --scenario "
            f"{esc(page.scenario)}</code> (results in <code>reports/sensitivity/{esc(page.scenario)}/</code>), "
            "then <code>tgap report</code> again.</p></section>")


COMPOSITION_COLUMNS = {
    "obs_id": "statement", "year": "from", "year_end": "to", "stated_share": "stated share",
    "qualifier": "qualifier", "numerator": "share of", "model_share_median": "share implied by the counts (median)",
    "max_possible_share_median": "largest share the executions could supply at the ceiling",
    "implied_organs_per_executed_median": "organs per executed person the statement implies (median)",
    "p_implied_exceeds_ceiling": "P(implied > ceiling)",
}


def _composition(page: Page) -> str:
    t = page.composition
    if t is None or not len(t):
        return ""
    return ('<section id="composition"><h2>Official share statements tested against the counts</h2>'
            "<p>Each official statement of where organs came from, compared with what the counts "
            "(volume, executions, donors, living donors) allow. Such statements are tested, not used as "
            "evidence of the size of a source (docs/model.md). P(implied &gt; ceiling) is the posterior "
            "probability that the statement needs more organs per executed person than the ceiling "
            "allows.</p>"
            + table(t[[c for c in COMPOSITION_COLUMNS if c in t.columns]], headers=COMPOSITION_COLUMNS,
                    table_id="composition-table")
            + "</section>")


def render(page: Page) -> str:
    m = page.manifest
    title = f"Organs not explained by declared sources — scenario {page.scenario}"
    if page.status.marked:
        title = f"[{page.status.label}] {title}"
    meta = (f"tgap {esc(m.get('code_version'))} · created {esc(m.get('created_utc'))} · scenario hash "
            f"{esc(page.scenario_hash[:12])} · fit key {esc(m.get('fit_key'))}"
            f"{' (fit loaded from cache)' if m.get('from_cache') else ''}")
    nav = "".join(f'<a href="#{k}">{esc(v)}</a>' for k, v in NAV)
    body = [
        _headline(page),
        f'<section id="charts"><h2>Charts</h2>{_interactive(page)}{_figures(page, "charts")}</section>',
        _composition(page), _assumptions(page), _predictive(page), page.criticism_html, _diagnostics(page),
        _quality(page),
        _sources(page),
        _sensitivity(page), _forensics(page), _tables(page), _manifest(page),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{esc(title)}</title><style>{CSS}</style></head><body>'
            f"<header><h1>{esc(title)}</h1><p>{meta}</p></header>"
            + (f'<div class="runmark" id="run-mark">{esc(page.status.label)}: not for citation '
               '(see Headline)</div>'
               if page.status.marked else "")
            + f"<nav>{nav}</nav><main>"
            + "".join(body)
            + "<footer class=muted><p>Generated by <code>tgap report</code>. Numbers are posterior summaries "
            "of a model whose every assumption is listed above; a different scenario gives different "
            "numbers.</p></footer></main></body></html>\n")
