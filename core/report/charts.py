"""The report's charts: matplotlib figures as inline SVG (no JavaScript, no fonts to fetch).

Every function returns one ``<svg>`` element as text, with ids unique on the page and a
``<title>`` tooltip on each mark that has something to say. Text stays text (the browser draws it
with the page's sans-serif font), so a chart is small and searchable.
"""
from __future__ import annotations

import colorsys
import functools
import html
import io
import itertools
import math
import re
from typing import Any, Callable, Sequence

import matplotlib
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle, Wedge
from matplotlib.ticker import PercentFormatter

INK, MUTED, GRID, ACCENT = "#1f2937", "#6b7280", "#e5e7eb", "#0f766e"
PALETTE = ["#0f766e", "#2563eb", "#d97706", "#7c3aed", "#db2777", "#059669", "#dc2626", "#0891b2",
           "#65a30d", "#9333ea", "#ea580c", "#4f46e5"]
DIVERGING = LinearSegmentedColormap.from_list("microseg-div", ["#2563eb", "#f8fafc", "#d97706"])
SEQUENTIAL = LinearSegmentedColormap.from_list("microseg-seq", ["#f0fdfa", "#0f766e"])
STYLE = {
    "svg.fonttype": "none", "svg.hashsalt": "microseg",
    "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 10, "text.color": INK, "axes.labelcolor": INK, "axes.edgecolor": GRID,
    "xtick.color": MUTED, "ytick.color": MUTED, "axes.spines.top": False, "axes.spines.right": False,
    "axes.titlesize": 11, "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.titlecolor": INK,
    "legend.frameon": False, "figure.dpi": 72,
}

_counter = itertools.count(1)


def styled(fn: Callable[..., str]) -> Callable[..., str]:
    """Run a chart function inside the report's matplotlib style (no global state changed)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)
    return wrapper


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def tint(hex_color: str, amount: float) -> str:
    """``hex_color`` lightened toward white by ``amount`` (0 = unchanged, 1 = white)."""
    h, lightness, s = colorsys.rgb_to_hls(*to_rgb(hex_color))
    return to_hex(colorsys.hls_to_rgb(h, lightness + (1 - lightness) * amount, s * (1 - 0.3 * amount)))


def short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def to_svg(fig: Figure, tips: dict[str, str] | None = None) -> str:
    """The figure as one ``<svg>`` element: ids made unique on the page, tooltips attached."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.08, transparent=True,
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    prefix = f"c{next(_counter)}-"
    for gid, text in (tips or {}).items():
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{html.escape(text)}</title>', 1)
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(url\(#|href="#)([^")]+)', lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    return svg.replace("<svg ", '<svg class="chart" role="img" ', 1)


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height))


def _axes(fig: Figure, **kwargs: Any) -> Any:
    ax = fig.add_subplot(**kwargs)
    ax.tick_params(length=0)
    return ax


@styled
def bars(labels: Sequence[str], values: Sequence[float], *, title: str = "", hue: str = ACCENT,
         unit: str = "customers", tips: Sequence[str] | None = None, width: float = 6.4,
         in_order: bool = False) -> str:
    """Horizontal bars, largest first (``in_order``: as given, top to bottom), each with its value
    written at its end."""
    order = list(range(len(values))) if in_order else sorted(range(len(values)), key=lambda i: -values[i])
    fig = _figure(width, 0.5 + 0.3 * len(order) + (0.3 if title else 0))
    ax = _axes(fig)
    y = np.arange(len(order))[::-1]
    vmax = max(values) if len(values) else 1
    found: dict[str, str] = {}
    for pos, i in zip(y, order):
        bar = ax.barh(pos, values[i], color=hue, height=0.68)[0]
        gid = f"bar{i}"
        bar.set_gid(gid)
        found[gid] = (tips[i] if tips else f"{labels[i]}: {values[i]:,.0f} {unit}")
        ax.text(values[i] + vmax * 0.01, pos, f"{values[i]:,.0f}", va="center", ha="left", fontsize=9, color=INK)
    ax.set_yticks(y, [short(labels[i]) for i in order], fontsize=9, color=INK)
    ax.set_xlim(0, vmax * 1.14)
    ax.xaxis.set_visible(False)
    ax.spines[["bottom", "left"]].set_visible(False)
    if title:
        ax.set_title(title)
    return to_svg(fig, found)


@styled
def sunburst(nodes: Sequence[tuple[tuple[str, ...], float]], *, title: str = "") -> str:
    """Rings from the centre out, one per level of the hierarchy; a node's angle is its own size
    plus its descendants'. ``nodes`` are (path, size) pairs, a path being the labels from the top."""
    own = {tuple(path): float(size) for path, size in nodes}
    total: dict[tuple[str, ...], float] = {}
    for path, size in own.items():
        for depth in range(1, len(path) + 1):
            total[path[:depth]] = total.get(path[:depth], 0.0) + size
    grand = sum(v for p, v in total.items() if len(p) == 1) or 1.0
    depth_max = max((len(p) for p in total), default=1)
    fig = _figure(10.0, 7.4)
    ax = _axes(fig)
    ax.set_aspect("equal")
    ax.axis("off")
    hole = 0.24
    ring = (1.0 - hole) / depth_max
    tips: dict[str, str] = {}
    top = sorted((p for p in total if len(p) == 1), key=lambda p: -total[p])
    hue_of = {p: color(i) for i, p in enumerate(top)}
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for p in sorted(total, key=lambda p: -total[p]):
        children.setdefault(p[:-1], []).append(p)
    stack: list[tuple[tuple[str, ...], float]] = []
    at = 0.0
    for p in children.get((), []):
        stack.append((p, at))
        at += 360.0 * total[p] / grand
    n = 0
    while stack:
        path, start = stack.pop()
        depth = len(path)
        sweep = 360.0 * total[path] / grand
        face = hue_of[path[:1]] if depth == 1 else tint(hue_of[path[:1]], min(0.72, 0.3 * (depth - 1)))
        outer = hole + ring * depth
        n += 1
        w = Wedge((0, 0), outer, 90 - start - sweep, 90 - start, width=ring, facecolor=face, edgecolor="white",
                  linewidth=1.4 if depth == 1 else 0.35)
        w.set_gid(f"w{n}")
        ax.add_patch(w)
        tips[f"w{n}"] = f"{' × '.join(path)}: {total[path]:,.0f} customers ({total[path] / grand:.1%})"
        if sweep >= (10 if depth == 1 else 7):
            mid = math.radians(90 - start - sweep / 2)
            radius = outer - ring / 2
            angle = math.degrees(mid) % 360
            if 90 < angle < 270:
                angle -= 180
            ax.text(radius * math.cos(mid), radius * math.sin(mid), short(path[-1], 13), ha="center", va="center",
                    rotation=angle, rotation_mode="anchor", fontsize=7.5,
                    color="white" if depth == 1 else INK, fontweight="bold" if depth == 1 else "normal")
        at = start
        for child in children.get(path, []):
            stack.append((child, at))
            at += 360.0 * total[child] / grand
    ax.text(0, 0, f"{grand:,.0f}\ncustomers", ha="center", va="center", fontsize=10, color=INK, fontweight="bold")
    ax.set_xlim(-1.02, 1.02)
    ax.set_ylim(-1.02, 1.02)
    handles = [Patch(facecolor=hue_of[p]) for p in top]
    ax.legend(handles, [f"{short(p[0], 26)}  {total[p]:,.0f}" for p in top], loc="center left",
              bbox_to_anchor=(1.0, 0.5), fontsize=8.5, handlelength=1, handleheight=1)
    if title:
        ax.set_title(title)
    return to_svg(fig, tips)


def _cells(ax: Any, faces: np.ndarray, texts: list[list[str]], dark: np.ndarray, tips: list[list[str]],
           rows: Sequence[str], cols: Sequence[str], prefix: str) -> dict[str, str]:
    """A grid of rectangles (vector, one per cell: no raster image), each written out and with a tooltip."""
    found: dict[str, str] = {}
    for i, j in itertools.product(range(len(rows)), range(len(cols))):
        rect = Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=faces[i, j], edgecolor="white", linewidth=1.5)
        rect.set_gid(f"{prefix}{i}_{j}")
        ax.add_patch(rect)
        found[f"{prefix}{i}_{j}"] = tips[i][j]
        ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=8.5, color="white" if dark[i, j] else INK)
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xticks(range(len(cols)), [short(c, 22) for c in cols], rotation=30 if max(map(len, cols), default=0) > 9
                  else 0, ha="right" if max(map(len, cols), default=0) > 9 else "center", fontsize=8.5)
    ax.set_yticks(range(len(rows)), [short(r, 36) for r in rows], fontsize=8.5, color=INK)
    ax.spines[:].set_visible(False)
    return found


@styled
def heatmap(rows: Sequence[str], cols: Sequence[str], values: np.ndarray, *, title: str = "",
            limit: float = 1.0, fmt: str = "{:+.2f}") -> str:
    """A diverging heatmap (0 = white), each cell written out; values beyond ±``limit`` saturate."""
    values = np.asarray(values, dtype=float)
    fig = _figure(max(4.8, 2.4 + 0.62 * len(cols)), 1.5 + 0.42 * len(rows))
    ax = _axes(fig)
    scaled = (np.clip(np.nan_to_num(values), -limit, limit) + limit) / (2 * limit)
    faces = np.array([[to_hex(DIVERGING(v)) for v in row] for row in scaled], dtype=object)
    texts = [[fmt.format(v) if np.isfinite(v) else "–" for v in row] for row in values]
    tips = [[f"{rows[i]} · {cols[j]}: {texts[i][j]}" for j in range(len(cols))] for i in range(len(rows))]
    found = _cells(ax, faces, texts, np.abs(scaled - 0.5) > 0.42, tips, rows, cols, "h")
    if title:
        ax.set_title(title)
    return to_svg(fig, found)


@styled
def table_grid(rows: Sequence[str], cols: Sequence[str], cells: Sequence[Sequence[Any]], *, title: str = "",
               row_title: str = "", col_title: str = "", shares: bool = False) -> str:
    """A grid of counts: numeric cells shaded by value (or by their share of the row), text cells
    such as ``"< k"`` grey; every cell written out."""
    nums = np.array([[float(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else np.nan
                      for c in row] for row in cells], dtype=float)
    shade = nums.copy()
    if shares:
        totals = np.nansum(nums, axis=1, keepdims=True)
        shade = np.divide(nums, totals, out=np.full_like(nums, np.nan), where=totals > 0)
    top = np.nanmax(shade) if np.isfinite(shade).any() else 1.0
    level = np.nan_to_num(shade / (top or 1.0))
    faces = np.array([[to_hex(SEQUENTIAL(v)) if np.isfinite(shade[i, j]) else "#f3f4f6"
                       for j, v in enumerate(row)] for i, row in enumerate(level)], dtype=object)
    texts = [[f"{c:,.0f}" if np.isfinite(nums[i, j]) else str(c) for j, c in enumerate(row)]
             for i, row in enumerate(cells)]
    tips = [[f"{rows[i]} → {cols[j]}: {texts[i][j]}" for j in range(len(cols))] for i in range(len(rows))]
    fig = _figure(max(4.2, 2.4 + 0.95 * len(cols)), 1.4 + 0.42 * len(rows))
    ax = _axes(fig)
    found = _cells(ax, faces, texts, np.isfinite(shade) & (level > 0.55), tips, rows, cols, "g")
    if row_title:
        ax.set_ylabel(row_title)
    if col_title:
        ax.set_xlabel(col_title)
    if title:
        ax.set_title(title)
    return to_svg(fig, found)


@styled
def lines(series: Sequence[dict[str, Any]], *, title: str = "", xlabel: str = "", ylabel: str = "",
          diagonal: bool = False, percent_x: bool = False, percent_y: bool = False, width: float = 4.2,
          height: float = 3.4) -> str:
    """Line chart; each series ``{"name", "x", "y", "dashed"?, "color"?, "markers"?}``."""
    fig = _figure(width, height)
    ax = _axes(fig)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    if diagonal:
        ax.plot([0, 1], [0, 1], color=MUTED, linestyle=":", linewidth=1, label="random")
    found: dict[str, str] = {}
    for i, s in enumerate(series):
        (line,) = ax.plot(s["x"], s["y"], color=s.get("color", color(i)), linestyle="--" if s.get("dashed") else "-",
                          linewidth=2 if not s.get("dashed") else 1.2, marker="o" if s.get("markers") else None,
                          markersize=3.5, label=s["name"])
        line.set_gid(f"l{i}")
        found[f"l{i}"] = s["name"]
    if percent_x:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if percent_y:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(series) + diagonal > 1:
        ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    return to_svg(fig, found)


@styled
def columns(labels: Sequence[str], groups: dict[str, Sequence[float | None]], *, title: str = "",
            ylabel: str = "", xlabel: str = "", reference: float | None = None, reference_label: str = "",
            percent: bool = False, width: float = 4.2, height: float = 3.4) -> str:
    """Vertical bars, one group per label (``groups``: series name → value per label), each
    value written on its bar; an optional horizontal reference line."""
    fig = _figure(width, height)
    ax = _axes(fig)
    ax.grid(True, axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    x = np.arange(len(labels))
    w = 0.8 / max(1, len(groups))
    found: dict[str, str] = {}
    top = max([v for vs in groups.values() for v in vs if v is not None] + [reference or 0, 1e-9])
    for g, (name, vals) in enumerate(groups.items()):
        for i, v in enumerate(vals):
            if v is None:
                continue
            bar = ax.bar(x[i] - 0.4 + w * (g + 0.5), v, width=w * 0.92, color=color(g))[0]
            bar.set_gid(f"c{g}_{i}")
            text = f"{v:.1%}" if percent else f"{v:.2f}"
            found[f"c{g}_{i}"] = f"{labels[i]} · {name}: {text}"
            ax.text(x[i] - 0.4 + w * (g + 0.5), v + top * 0.015, text, ha="center", va="bottom",
                    fontsize=7.5 if len(labels) * len(groups) <= 8 else 6.5)
    if reference is not None:
        ax.axhline(reference, color=MUTED, linestyle=":", linewidth=1.2)
        if reference_label:
            ax.text(len(labels) - 0.5, reference, f" {reference_label}", va="bottom", ha="right", fontsize=7.5,
                    color=MUTED)
    ax.set_xticks(x, [short(lbl, 14) for lbl in labels], fontsize=8 if len(labels) > 6 else 8.5)
    ax.set_ylim(0, top * (1.32 if len(groups) > 1 else 1.15))
    ax.set_xlabel(xlabel)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(ylabel)
    if len(groups) > 1:
        ax.legend([Patch(color=color(g)) for g in range(len(groups))], list(groups), fontsize=8, ncol=len(groups),
                  loc="upper left")
    if title:
        ax.set_title(title)
    return to_svg(fig, found)
