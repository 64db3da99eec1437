"""Interactive versions of the main charts for index.html (plotly, JavaScript embedded in the page
so it works offline). Hover shows the year, the median and the 90% interval, and for published
figures their source; clicking a legend entry hides or shows a series. The static PNG/SVG charts
stay for print.

``html_divs`` returns (key, title, HTML) per chart; the first carries plotly.js inline
(``include_plotlyjs=True``), the others reuse it.
"""

from __future__ import annotations

import pandas as pd

from analysis import style

CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png"}}


def _layout(fig, title: str, ytitle: str, status_label: str = "") -> None:
    full = f"{title}<br><sup>{status_label}</sup>" if status_label else title
    fig.update_layout(title=full, template="simple_white", hovermode="x unified", height=460,
                      margin={"l": 70, "r": 20, "t": 70, "b": 50}, legend={"orientation": "h", "y": -0.18},
                      yaxis={"title": ytitle, "tickformat": ",d", "separatethousands": True},
                      xaxis={"title": "year", "dtick": 2, "tickformat": "d"},
                      font={"family": "system-ui, sans-serif", "size": 12})
    if status_label:
        fig.add_annotation(text=status_label, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                           font={"size": 40, "color": "rgba(138,50,0,0.13)"}, textangle=-20)


def _band(fig, go, x, lo, hi, colour: str, name: str, opacity: float = 0.25) -> None:
    x, lo, hi = (pd.Series(v).tolist() for v in (x, lo, hi))
    fig.add_trace(go.Scatter(x=x + x[::-1], y=hi + lo[::-1], fill="toself",
                             fillcolor=colour, opacity=opacity, line={"width": 0}, hoverinfo="skip",
                             name=name, legendgroup=name))


def gap_by_year(gby: pd.DataFrame, scenario: str, status_label: str = ""):
    """Yearly gap: median line with 50% and 90% bands; hover: year, median, 90% interval, P(gap > 0)."""
    import plotly.graph_objects as go

    g = gby.sort_values("year")
    fig = go.Figure()
    _band(fig, go, g["year"], g["gap_q05"], g["gap_q95"], style.GAP_BAND_COLOUR, "90% interval", 0.3)
    _band(fig, go, g["year"], g["gap_q25"], g["gap_q75"], style.GAP_BAND_COLOUR, "50% interval", 0.6)
    # plain lists, not numpy arrays: plotly would encode those as base64 typed arrays, and the page's
    # data (read by tests and by readers' tools) should be plain numbers
    custom = g[["gap_q05", "gap_q95", "p_gap_positive"]].to_numpy().tolist()
    fig.add_trace(go.Scatter(
        x=g["year"].astype(int).tolist(), y=g["gap_median"].tolist(), mode="lines+markers", name="median", customdata=custom,
        line={"color": style.GAP_COLOUR, "width": 2.5}, marker={"size": 5},
        hovertemplate=("year %{x}<br>median %{y:,.0f}<br>90% interval %{customdata[0]:,.0f} to "
                       "%{customdata[1]:,.0f}<br>P(gap > 0) %{customdata[2]:.2f}<extra>gap</extra>")))
    fig.add_hline(y=0, line={"color": "black", "width": 1})
    _layout(fig, f"Organs not explained by declared sources per year, scenario {scenario}", "organs per year",
            status_label)
    return fig


def volume_vs_declared(declared: pd.DataFrame, observations: pd.DataFrame | None, scenario: str,
                       publishers: dict[str, str] | None = None, status_label: str = ""):
    """Transplant volume (median, 90% band), declared supply (median, 90% band), published volume
    figures with their source on hover."""
    import plotly.graph_objects as go

    t = declared.sort_values("year")
    fig = go.Figure()
    for what, colour, name in [("volume", style.VOLUME_COLOUR, "transplant volume"),
                               ("supply", style.DECLARED_COLOURS["donors"], "declared supply (all three sources)")]:
        _band(fig, go, t["year"], t[f"{what}_q05"], t[f"{what}_q95"], colour, f"{name}, 90% interval", 0.2)
        fig.add_trace(go.Scatter(
            x=t["year"].astype(int).tolist(), y=t[f"{what}_median"].tolist(), mode="lines",
            name=f"{name}, median", customdata=t[[f"{what}_q05", f"{what}_q95"]].to_numpy().tolist(), line={"color": colour, "width": 2.5},
            hovertemplate=(f"{name}<br>year %{{x}}<br>median %{{y:,.0f}}<br>90% interval "
                           "%{customdata[0]:,.0f} to %{customdata[1]:,.0f}<extra></extra>")))
    if observations is not None and len(observations):
        o = observations[observations["year"].astype(int).between(int(t["year"].min()), int(t["year"].max()))].copy()
        o["y"] = o["value"].where(o["value"].notna(), (o["low"] + o["high"]) / 2) if "low" in o else o["value"]
        pubs = publishers or {}
        o["who"] = [pubs.get(s) or s for s in o["source_id"]]
        for kind, part in o.groupby("source_kind"):
            fig.add_trace(go.Scatter(
                x=part["year"].astype(int).tolist(), y=part["y"].astype(float).tolist(), mode="markers", name=f"published: {str(kind).replace('_', ' ')}",
                marker={"color": style.SOURCE_KIND_COLOURS.get(kind, "grey"), "size": 8,
                        "line": {"color": "black", "width": 0.5}},
                customdata=part[["who", "source_id", "kind"]].astype(str).to_numpy().tolist(),
                hovertemplate=("%{customdata[0]} (%{customdata[1]}), %{customdata[2]}<br>year %{x}<br>"
                               "figure %{y:,.0f}<extra></extra>")))
    _layout(fig, f"Transplant volume vs declared sources, scenario {scenario}", "organs per year", status_label)
    fig.update_layout(hovermode="closest")
    return fig


def html_divs(figures: list[tuple[str, str, object]]) -> list[tuple[str, str, str]]:
    """(key, title, HTML div) per (key, title, plotly figure); plotly.js inline in the first only."""
    out = []
    for i, (key, title, fig) in enumerate(figures):
        div = fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"plotly-{key}", config=CONFIG)
        out.append((key, title, div))
    return out


def report_divs(declared: pd.DataFrame, observations: pd.DataFrame | None, gby: pd.DataFrame, scenario: str,
                publishers: dict[str, str] | None, status_label: str) -> list[tuple[str, str, str]]:
    """The report's interactive charts (volume vs declared sources, gap by year) as ``html_divs``."""
    return html_divs([
        ("main", "Transplant volume vs declared sources",
         volume_vs_declared(declared, observations, scenario, publishers, status_label)),
        ("gap_by_year", "Gap by year", gap_by_year(gby, scenario, status_label)),
    ])
