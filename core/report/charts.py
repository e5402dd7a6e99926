"""The report's charts, written as inline SVG by hand (no plotting library, no JavaScript, no fonts
to fetch).

Every function returns one ``<svg>`` element as text, with ids unique on the page and a
``<title>`` tooltip on each mark that has something to say. Text stays text (the browser draws it
with the page's sans-serif font), so a chart is small and searchable. Sizes are in points at 72
per inch (the units the report's CSS scales); text widths are estimated from a sans-serif
font's advance widths, so labels are placed without measuring a font.
"""
from __future__ import annotations

import colorsys
import html
import itertools
import math
from typing import Any, Sequence

import numpy as np

INK, MUTED, GRID, ACCENT = "#1f2937", "#6b7280", "#e5e7eb", "#0f766e"
PALETTE = ["#0f766e", "#2563eb", "#d97706", "#7c3aed", "#db2777", "#059669", "#dc2626", "#0891b2",
           "#65a30d", "#9333ea", "#ea580c", "#4f46e5"]
DIVERGING = ("#2563eb", "#f8fafc", "#d97706")
SEQUENTIAL = ("#f0fdfa", "#0f766e")
FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"

_counter = itertools.count(1)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _rgb(hex_color: str) -> tuple[float, float, float]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(min(1.0, max(0.0, c)) * 255):02x}" for c in rgb)


def tint(hex_color: str, amount: float) -> str:
    """``hex_color`` lightened toward white by ``amount`` (0 = unchanged, 1 = white)."""
    h, lightness, s = colorsys.rgb_to_hls(*_rgb(hex_color))
    return _hex(colorsys.hls_to_rgb(h, lightness + (1 - lightness) * amount, s * (1 - 0.3 * amount)))


def ramp(stops: Sequence[str], value: float) -> str:
    """The colour at ``value`` (0–1) of a ramp through ``stops``, evenly spaced."""
    v = min(1.0, max(0.0, float(value))) * (len(stops) - 1)
    i = min(int(v), len(stops) - 2)
    a, b, t = _rgb(stops[i]), _rgb(stops[i + 1]), v - i
    return _hex([x + (y - x) * t for x, y in zip(a, b)])


def short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# advance widths (em) of a sans-serif font, by character class
_NARROW, _SEMI, _WIDE = set("ijl|!.,:;'`"), set("ftrI()[]{}-/ *"), set("mwMW@%")


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width of ``text`` at ``size`` points (generous: labels are placed with room to spare)."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.30
        elif ch in _SEMI:
            em += 0.40
        elif ch in _WIDE:
            em += 0.88
        elif ch.isupper():
            em += 0.70
        elif ch.isdigit():
            em += 0.64
        else:
            em += 0.58
    return em * size * (1.07 if bold else 1.0)


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


class _Svg:
    """Collects elements; :meth:`done` wraps them in one ``<svg>`` with page-unique ids."""

    def __init__(self) -> None:
        self.prefix = f"c{next(_counter)}-"
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, *, size: float = 9, fill: str = INK, anchor: str = "start",
             bold: bool = False, rotate: float = 0.0, baseline: str = "central") -> None:
        rot = f' transform="rotate({_f(rotate)} {_f(x)} {_f(y)})"' if rotate else ""
        weight = ' font-weight="bold"' if bold else ""
        dy = {"central": "0.35em", "bottom": "0", "top": "0.8em"}[baseline]
        self.parts.append(f'<text x="{_f(x)}" y="{_f(y)}" dy="{dy}" font-size="{_f(size)}" fill="{fill}" '
                          f'text-anchor="{anchor}"{weight}{rot}>{html.escape(text)}</text>')

    def mark(self, gid: str, tip: str, element: str) -> None:
        """A data mark with its tooltip."""
        self.parts.append(f'<g id="{self.prefix}{gid}"><title>{html.escape(tip)}</title>{element}</g>')

    def done(self, width: float, height: float) -> str:
        w, h = math.ceil(width), math.ceil(height)
        return (f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
                f'viewBox="0 0 {w} {h}" font-family="{FONT}">' + "".join(self.parts) + "</svg>")


def _title(svg: _Svg, title: str, x: float = 4.0) -> float:
    """Draws the chart title at the top left; returns the height it takes."""
    if not title:
        return 4.0
    svg.text(x, 11, title, size=11, bold=True, baseline="central")
    return 24.0


# ---------------------------------------------------------------------------------------- charts
def bars(labels: Sequence[str], values: Sequence[float], *, title: str = "", hue: str = ACCENT,
         unit: str = "customers", tips: Sequence[str] | None = None, width: float = 6.4,
         in_order: bool = False) -> str:
    """Horizontal bars, largest first (``in_order``: as given, top to bottom), each with its value
    written at its end."""
    order = list(range(len(values))) if in_order else sorted(range(len(values)), key=lambda i: -values[i])
    svg = _Svg()
    top = _title(svg, title)
    shown = [short(labels[i]) for i in order]
    label_w = max((text_width(s, 9) for s in shown), default=0) + 8
    value_w = max((text_width(f"{values[i]:,.0f}", 9) for i in order), default=0) + 6
    total_w = width * 72
    plot_w = max(60.0, total_w - label_w - value_w - 4)
    vmax = max(values) if len(values) else 1
    scale = plot_w / (vmax or 1)
    row = 21.6
    for pos, i in enumerate(order):
        y = top + pos * row
        length = max(0.0, values[i] * scale)
        tip = tips[i] if tips else f"{labels[i]}: {values[i]:,.0f} {unit}"
        svg.mark(f"bar{i}", tip, f'<rect x="{_f(label_w)}" y="{_f(y + row * 0.16)}" width="{_f(max(length, 0.5))}" '
                                 f'height="{_f(row * 0.68)}" fill="{hue}"/>')
        svg.text(label_w - 6, y + row / 2, shown[pos], anchor="end")
        svg.text(label_w + length + 4, y + row / 2, f"{values[i]:,.0f}")
    return svg.done(label_w + plot_w + value_w + 4, top + row * len(order) + 4)


def _sector(cx: float, cy: float, r_in: float, r_out: float, a0: float, a1: float) -> str:
    """SVG path of the ring sector between the math angles ``a0`` < ``a1`` (degrees, counter-clockwise
    from 3 o'clock)."""
    if a1 - a0 >= 359.999:                       # a full ring: two halves (an arc cannot close on itself)
        return _sector(cx, cy, r_in, r_out, a0, a0 + 180) + " " + _sector(cx, cy, r_in, r_out, a0 + 180, a1)

    def pt(r: float, a: float) -> str:
        t = math.radians(a)
        return f"{_f(cx + r * math.cos(t))} {_f(cy - r * math.sin(t))}"
    large = 1 if a1 - a0 > 180 else 0
    return (f"M{pt(r_out, a0)} A{_f(r_out)} {_f(r_out)} 0 {large} 0 {pt(r_out, a1)} "
            f"L{pt(r_in, a1)} A{_f(r_in)} {_f(r_in)} 0 {large} 1 {pt(r_in, a0)} Z")


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
    svg = _Svg()
    top_h = _title(svg, title)
    radius = 210.0
    cx, cy = radius + 6, top_h + radius + 6
    hole = 0.24
    ring = (1.0 - hole) / depth_max
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
    labels: list[tuple[float, float, str, float, bool]] = []
    n = 0
    while stack:
        path, start = stack.pop()
        depth = len(path)
        sweep = 360.0 * total[path] / grand
        face = hue_of[path[:1]] if depth == 1 else tint(hue_of[path[:1]], min(0.72, 0.3 * (depth - 1)))
        outer = hole + ring * depth
        n += 1
        d = _sector(cx, cy, (outer - ring) * radius, outer * radius, 90 - start - sweep, 90 - start)
        svg.mark(f"w{n}", f"{' × '.join(path)}: {total[path]:,.0f} customers ({total[path] / grand:.1%})",
                 f'<path d="{d}" fill="{face}" stroke="#ffffff" stroke-width="{1.4 if depth == 1 else 0.35}" '
                 f'stroke-linejoin="round"/>')
        if sweep >= (10 if depth == 1 else 7):
            mid = math.radians(90 - start - sweep / 2)
            r = (outer - ring / 2) * radius
            angle = math.degrees(mid) % 360
            if 90 < angle < 270:
                angle -= 180
            labels.append((cx + r * math.cos(mid), cy - r * math.sin(mid), short(path[-1], 13), angle, depth == 1))
        at = start
        for child in children.get(path, []):
            stack.append((child, at))
            at += 360.0 * total[child] / grand
    for x, y, text, angle, first in labels:            # on top of every wedge
        svg.text(x, y, text, size=7.5, anchor="middle", rotate=-angle, fill="#ffffff" if first else INK, bold=first)
    svg.text(cx, cy - 7, f"{grand:,.0f}", size=10, anchor="middle", bold=True)
    svg.text(cx, cy + 7, "customers", size=10, anchor="middle", bold=True)
    entries = [f"{short(p[0], 26)}  {total[p]:,.0f}" for p in top]
    lx, step = cx + radius + 22, 17.0
    ly = cy - step * len(entries) / 2
    for i, (p, entry) in enumerate(zip(top, entries)):
        y = ly + i * step
        svg.add(f'<rect x="{_f(lx)}" y="{_f(y + 2.5)}" width="10" height="10" fill="{hue_of[p]}"/>')
        svg.text(lx + 16, y + 7.5, entry, size=8.5)
    legend_w = max((text_width(e, 8.5) for e in entries), default=0) + 20
    return svg.done(lx + legend_w + 4, max(cy + radius + 6, ly + step * len(entries) + 4))


def _cells(rows: Sequence[str], cols: Sequence[str], faces: list[list[str]], texts: list[list[str]], dark: np.ndarray,
           tips: list[list[str]], prefix: str, *, title: str = "", row_title: str = "", col_title: str = "",
           cell: tuple[float, float] = (56.0, 28.0)) -> str:
    """A grid of rectangles (one per cell), each written out and with a tooltip; row labels on the
    left, column labels below."""
    svg = _Svg()
    top = _title(svg, title)
    row_labels = [short(r, 36) for r in rows]
    col_labels = [short(c, 22) for c in cols]
    slanted = max(map(len, cols), default=0) > 9
    cell_w = max(cell[0], max((text_width(t, 8.5) for line in texts for t in line), default=0) + 10)
    if not slanted:
        cell_w = max(cell_w, max((text_width(c, 8.5) for c in col_labels), default=0) + 8)
    cell_h = cell[1]
    left = (18.0 if row_title else 4.0) + max((text_width(r, 8.5) for r in row_labels), default=0) + 8
    for i, j in itertools.product(range(len(rows)), range(len(cols))):
        x, y = left + j * cell_w, top + i * cell_h
        svg.mark(f"{prefix}{i}_{j}", tips[i][j], f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(cell_w)}" '
                 f'height="{_f(cell_h)}" fill="{faces[i][j]}" stroke="#ffffff" stroke-width="1.5"/>')
        svg.text(x + cell_w / 2, y + cell_h / 2, texts[i][j], size=8.5, anchor="middle",
                 fill="#ffffff" if dark[i, j] else INK)
    for i, r in enumerate(row_labels):
        svg.text(left - 6, top + (i + 0.5) * cell_h, r, size=8.5, anchor="end")
    bottom = top + len(rows) * cell_h + 4
    if slanted:
        for j, c in enumerate(col_labels):
            svg.text(left + (j + 0.5) * cell_w + 3, bottom + 4, c, size=8.5, anchor="end", rotate=-30, fill=MUTED,
                     baseline="top")
        below = bottom + 0.5 * max((text_width(c, 8.5) for c in col_labels), default=0) + 16
        overhang = max((text_width(c, 8.5) * 0.87 - (j + 0.5) * cell_w - left
                        for j, c in enumerate(col_labels)), default=0)
        if overhang > 0:                             # slanted labels reaching past the left edge
            svg.parts.insert(0, f'<g transform="translate({_f(overhang)} 0)">')
            svg.add("</g>")
            left += overhang
    else:
        for j, c in enumerate(col_labels):
            svg.text(left + (j + 0.5) * cell_w, bottom + 2, c, size=8.5, anchor="middle", fill=MUTED, baseline="top")
        below = bottom + 16
    if col_title:
        svg.text(left + cell_w * len(cols) / 2, below + 4, col_title, size=10, anchor="middle", baseline="top")
        below += 18
    if row_title:                                    # centred on the rows, inside the chart when longer
        half = text_width(row_title, 10) / 2 + 2
        middle = max(top + cell_h * len(rows) / 2, half)
        svg.text(10, middle, row_title, size=10, anchor="middle", rotate=-90)
        below = max(below, middle + half)
    right = left + cell_w * len(cols) + 4
    return svg.done(max(right, text_width(title, 11, bold=True) + 8), below + 4)


def heatmap(rows: Sequence[str], cols: Sequence[str], values: np.ndarray, *, title: str = "",
            limit: float = 1.0, fmt: str = "{:+.2f}") -> str:
    """A diverging heatmap (0 = white), each cell written out; values beyond ±``limit`` saturate."""
    values = np.asarray(values, dtype=float)
    scaled = (np.clip(np.nan_to_num(values), -limit, limit) + limit) / (2 * limit)
    faces = [[ramp(DIVERGING, v) for v in row] for row in scaled]
    texts = [[fmt.format(v) if np.isfinite(v) else "–" for v in row] for row in values]
    tips = [[f"{rows[i]} · {cols[j]}: {texts[i][j]}" for j in range(len(cols))] for i in range(len(rows))]
    return _cells(rows, cols, faces, texts, np.abs(scaled - 0.5) > 0.42, tips, "h", title=title, cell=(40.0, 34.0))


def table_grid(rows: Sequence[str], cols: Sequence[str], cells: Sequence[Sequence[Any]], *, title: str = "",
               row_title: str = "", col_title: str = "", shares: bool = False) -> str:
    """A grid of counts: numeric cells shaded by value (or by their share of the row), text cells
    such as ``"< k"`` grey; every cell written out."""
    nums = np.array([[float(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else np.nan
                      for c in row] for row in cells], dtype=float).reshape(len(rows), len(cols))
    shade = nums.copy()
    if shares:
        totals = np.nansum(nums, axis=1, keepdims=True)
        shade = np.divide(nums, totals, out=np.full_like(nums, np.nan), where=totals > 0)
    top = np.nanmax(shade) if np.isfinite(shade).any() else 1.0
    level = np.nan_to_num(shade / (top or 1.0))
    faces = [[ramp(SEQUENTIAL, v) if np.isfinite(shade[i, j]) else "#f3f4f6" for j, v in enumerate(row)]
             for i, row in enumerate(level)]
    texts = [[f"{c:,.0f}" if np.isfinite(nums[i, j]) else str(c) for j, c in enumerate(row)]
             for i, row in enumerate(cells)]
    tips = [[f"{rows[i]} → {cols[j]}: {texts[i][j]}" for j in range(len(cols))] for i in range(len(rows))]
    return _cells(rows, cols, faces, texts, np.isfinite(shade) & (level > 0.55), tips, "g", title=title,
                  row_title=row_title, col_title=col_title)


# ------------------------------------------------------------------------------ axes (lines, columns)
def _ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 × a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def _tick_text(values: list[float], percent: bool) -> list[str]:
    if percent:
        return [f"{v:.0%}" for v in values]
    step = abs(values[1] - values[0]) if len(values) > 1 else 1.0
    decimals = 0 if step >= 1 and all(float(v).is_integer() for v in values) else \
        max(1, min(4, -math.floor(math.log10(step) + 1e-9) + (0 if round(step / 10 ** math.floor(math.log10(step)), 6)
                                                               in (1, 2, 5) else 1)))
    return [f"{v:.{decimals}f}".replace("-", "−") for v in values]


class _Axes:
    """A plot area with a left and a bottom axis, a grid, a title and axis labels."""

    def __init__(self, svg: _Svg, width: float, height: float, *, title: str, xlabel: str, ylabel: str,
                 ylim: tuple[float, float], percent_y: bool, ygrid: bool = True) -> None:
        self.svg = svg
        self.top = _title(svg, title) + 4
        self.y_ticks = [t for t in _ticks(*ylim) if ylim[0] - 1e-9 <= t <= ylim[1] + 1e-9]
        texts = _tick_text(self.y_ticks, percent_y)
        self.left = (16.0 if ylabel else 2.0) + max((text_width(t, 10) for t in texts), default=0) + 6
        self.right = width - 8
        self.bottom = height - (30.0 if xlabel else 18.0)
        self.ylim = ylim
        if ylabel:
            svg.text(8, (self.top + self.bottom) / 2, ylabel, size=10, anchor="middle", rotate=-90)
        if xlabel:
            svg.text((self.left + self.right) / 2, height - 4, xlabel, size=10, anchor="middle", baseline="bottom")
        for t, text in zip(self.y_ticks, texts):
            y = self.y(t)
            if ygrid:
                svg.add(f'<line x1="{_f(self.left)}" x2="{_f(self.right)}" y1="{_f(y)}" y2="{_f(y)}" '
                        f'stroke="{GRID}" stroke-width="0.6"/>')
            svg.text(self.left - 5, y, text, size=10, anchor="end", fill=MUTED)

    def y(self, v: float) -> float:
        lo, hi = self.ylim
        return self.bottom - (v - lo) / ((hi - lo) or 1.0) * (self.bottom - self.top)

    def frame(self) -> None:
        self.svg.add(f'<path d="M{_f(self.left)} {_f(self.top)} V{_f(self.bottom)} H{_f(self.right)}" fill="none" '
                     f'stroke="{GRID}" stroke-width="0.8"/>')


def _limits(values: Sequence[float], margin: float = 0.05) -> tuple[float, float]:
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * margin
    return lo - pad, hi + pad


def _legend(svg: _Svg, x: float, y: float, entries: Sequence[tuple[str, str]], size: float = 8) -> None:
    """Legend rows at (x, y): (swatch element at 0,0 of a 18×8 box, text)."""
    for i, (swatch, text) in enumerate(entries):
        yy = y + i * (size + 6)
        svg.add(f'<g transform="translate({_f(x)} {_f(yy)})">{swatch}</g>')
        svg.text(x + 22, yy + 4, text, size=size)


def lines(series: Sequence[dict[str, Any]], *, title: str = "", xlabel: str = "", ylabel: str = "",
          diagonal: bool = False, percent_x: bool = False, percent_y: bool = False, width: float = 4.2,
          height: float = 3.4) -> str:
    """Line chart; each series ``{"name", "x", "y", "dashed"?, "color"?, "markers"?}``."""
    xs = [float(v) for s in series for v in s["x"]] + ([0.0, 1.0] if diagonal else [])
    ys = [float(v) for s in series for v in s["y"]] + ([0.0, 1.0] if diagonal else [])
    xlim, ylim = _limits(xs), _limits(ys)
    svg = _Svg()
    w, h = width * 72, height * 72
    ax = _Axes(svg, w, h, title=title, xlabel=xlabel, ylabel=ylabel, ylim=ylim, percent_y=percent_y)

    def px(v: float) -> float:
        return ax.left + (v - xlim[0]) / ((xlim[1] - xlim[0]) or 1.0) * (ax.right - ax.left)
    x_ticks = [t for t in _ticks(*xlim) if xlim[0] - 1e-9 <= t <= xlim[1] + 1e-9]
    for t, text in zip(x_ticks, _tick_text(x_ticks, percent_x)):
        svg.add(f'<line x1="{_f(px(t))}" x2="{_f(px(t))}" y1="{_f(ax.top)}" y2="{_f(ax.bottom)}" stroke="{GRID}" '
                f'stroke-width="0.6"/>')
        svg.text(px(t), ax.bottom + 4, text, size=10, anchor="middle", fill=MUTED, baseline="top")
    ax.frame()
    entries: list[tuple[str, str]] = []
    points: list[tuple[float, float]] = []
    if diagonal:
        svg.add(f'<path d="M{_f(px(0))} {_f(ax.y(0))} L{_f(px(1))} {_f(ax.y(1))}" stroke="{MUTED}" '
                f'stroke-width="1" stroke-dasharray="1 1.65" fill="none"/>')
        entries.append((f'<path d="M0 4 H18" stroke="{MUTED}" stroke-width="1" stroke-dasharray="1 1.65"/>', "random"))
        points += [(px(t), ax.y(t)) for t in np.linspace(0, 1, 21)]
    for i, s in enumerate(series):
        hue = s.get("color", color(i))
        dashed = bool(s.get("dashed"))
        coords = [(px(float(x)), ax.y(float(y))) for x, y in zip(s["x"], s["y"])]
        style = (f'stroke="{hue}" stroke-width="{1.2 if dashed else 2}" fill="none" stroke-linejoin="round" '
                 f'stroke-linecap="round"' + (' stroke-dasharray="4.4 1.9"' if dashed else ""))
        d = "M" + " L".join(f"{_f(x)} {_f(y)}" for x, y in coords) if coords else "M0 0"
        dots = "".join(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="1.9" fill="{hue}"/>' for x, y in coords) \
            if s.get("markers") else ""
        svg.mark(f"l{i}", s["name"], f'<path d="{d}" {style}/>{dots}')
        entries.append((f'<path d="M0 4 H18" {style}/>', s["name"]))
        for (x0, y0), (x1, y1) in zip(coords, coords[1:]):
            points += [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in (0.0, 0.25, 0.5, 0.75)]
        points += coords[-1:]
    if len(entries) > 1:
        box_w = max(text_width(t, 8) for _, t in entries) + 26
        box_h = len(entries) * 14.0
        corners = [(ax.right - box_w - 4, ax.bottom - box_h - 4), (ax.left + 8, ax.top + 4),
                   (ax.right - box_w - 4, ax.top + 4), (ax.left + 8, ax.bottom - box_h - 4)]

        def crowded(corner: tuple[float, float]) -> int:
            x0, y0 = corner
            return sum(x0 - 2 <= x <= x0 + box_w + 2 and y0 - 2 <= y <= y0 + box_h + 2 for x, y in points)
        x0, y0 = min(corners, key=crowded)            # the emptiest corner, like matplotlib's "best"
        _legend(svg, x0, y0, entries)
    return svg.done(w, h)


def columns(labels: Sequence[str], groups: dict[str, Sequence[float | None]], *, title: str = "",
            ylabel: str = "", xlabel: str = "", reference: float | None = None, reference_label: str = "",
            percent: bool = False, width: float = 4.2, height: float = 3.4) -> str:
    """Vertical bars, one group per label (``groups``: series name → value per label), each
    value written on its bar; an optional horizontal reference line."""
    top_value = max([v for vs in groups.values() for v in vs if v is not None] + [reference or 0, 1e-9])
    ylim = (0.0, top_value * (1.32 if len(groups) > 1 else 1.15))
    svg = _Svg()
    w, h = width * 72, height * 72
    ax = _Axes(svg, w, h, title=title, xlabel=xlabel, ylabel=ylabel, ylim=ylim, percent_y=percent)
    n = max(1, len(labels))
    slot = (ax.right - ax.left) / n
    bar_w = 0.8 * slot / max(1, len(groups))
    small = len(labels) * len(groups) > 8
    for i, label in enumerate(labels):
        svg.text(ax.left + (i + 0.5) * slot, ax.bottom + 4, short(label, 14), size=8 if len(labels) > 6 else 8.5,
                 anchor="middle", fill=MUTED, baseline="top")
    for g, (name, vals) in enumerate(groups.items()):
        for i, v in enumerate(vals):
            if v is None:
                continue
            x = ax.left + (i + 0.1) * slot + bar_w * g
            y = ax.y(max(0.0, v))
            text = f"{v:.1%}" if percent else f"{v:.2f}"
            svg.mark(f"c{g}_{i}", f"{labels[i]} · {name}: {text}",
                     f'<rect x="{_f(x + bar_w * 0.04)}" y="{_f(y)}" width="{_f(bar_w * 0.92)}" '
                     f'height="{_f(max(0.5, ax.bottom - y))}" fill="{color(g)}"/>')
            svg.text(x + bar_w / 2, y - 2, text, size=6.5 if small else 7.5, anchor="middle", baseline="bottom")
    if reference is not None:
        y = ax.y(reference)
        svg.add(f'<line x1="{_f(ax.left)}" x2="{_f(ax.right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="{MUTED}" '
                f'stroke-width="1.2" stroke-dasharray="1.2 2"/>')
        if reference_label:
            svg.text(ax.right - 2, y - 2, reference_label, size=7.5, anchor="end", fill=MUTED, baseline="bottom")
    ax.frame()
    if len(groups) > 1:
        x = ax.left + 6
        for g, name in enumerate(groups):
            svg.add(f'<rect x="{_f(x)}" y="{_f(ax.top + 2)}" width="10" height="10" fill="{color(g)}"/>')
            svg.text(x + 14, ax.top + 7, name, size=8)
            x += text_width(name, 8) + 28
    return svg.done(w, h)
