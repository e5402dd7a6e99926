"""The HTML run report: one self-contained file, no script, no network request.

It draws only what the report document holds — the gate-checked run report and the store's
reasons and migration — so every size on the page is one the release gate let out. A method's
figures are drawn from conventional ``report()`` keys when present (``curves``, ``profiles``,
``channels``, ``grid``; see docs/plugins.md); every other figure is listed in a readable table.
"""
from __future__ import annotations

import html
from typing import Any, Callable

import numpy as np

from microseg.outputs import ReportDocument
from microseg.report import charts
from microseg.report.words import (ACTION_WORDS, KIND_WORDS, count, flatten, is_count, number, reasons, share,
                                   value_text)

#: method-report keys drawn by a dedicated section (not repeated in the figures table)
DRAWN = {"segment_sizes", "cluster_sizes", "curves", "profiles", "channels", "grid", "definitions", "top_drivers",
         "mode"}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def render_html(doc: ReportDocument) -> str:
    """The whole page."""
    page = _Page(doc)
    body = "\n".join(section() for section in page.sections())
    run = doc["run"]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="microseg {esc(doc.get('microseg_version', ''))}">
<title>microseg run {esc(run['id'])} — segmentation report</title>
<style>{STYLE}</style>
</head>
<body>
{page.header()}
<main>
{page.nav()}
{body}
</main>
<footer>{page.footer()}</footer>
</body>
</html>
"""


class _Page:
    def __init__(self, doc: ReportDocument) -> None:
        self.doc = doc
        self.report: dict[str, Any] = doc.get("report") or {}
        self.k: int = int(doc["run"]["k"])
        self.segments: list[dict[str, Any]] = list(self.report.get("segments") or [])
        self.labels = {s["key"]: s["label"] for s in self.segments if "key" in s}
        self.released = [s for s in self.segments if s.get("status") == "released"]
        self.withheld = [s for s in self.segments if s.get("status") != "released"]
        self.method_reports: dict[str, Any] = self.report.get("methods") or {}
        self.families = list(dict.fromkeys([*self.method_reports, *(s["family"] for s in self.segments)]))
        self.toc: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ page furniture
    def sections(self) -> list[Callable[[], str]]:
        return [self.overview, self.segments_by_method, self.microsegments, self.method_sections,
                self.migration, self.privacy, self.other_figures]

    def header(self) -> str:
        run = self.doc["run"]
        gate = self.report.get("gate") or {}
        kpis = [("customers in the run", count(self.report.get("customers"))),
                ("released segments", count(len(self.released))),
                ("withheld by the gate", count(len(self.withheld))),
                ("minimum segment size k", count(self.k))]
        cards = "".join(f'<div class="kpi"><b>{esc(v)}</b><span>{esc(t)}</span></div>' for t, v in kpis)
        status = "" if run.get("status") == "complete" else \
            f'<p class="warn">Status: {esc(run.get("status"))} — customers were erased after this run; run it again.</p>'
        decisions = ", ".join(f"{count(v)} {esc(k)}" for k, v in sorted(gate.items()) if not isinstance(v, dict))
        return f"""<header>
<div class="wrap">
<p class="eyebrow">microseg · segmentation report</p>
<h1>Run {esc(run['id'])} <small>as of {esc(run.get('as_of', ''))}</small></h1>
<p class="sub">Created {esc(str(run.get('created_at', ''))[:19].replace('T', ' '))} UTC · engine {esc(run.get('engine', ''))}
 · gate decisions: {decisions or '—'}</p>
{status}
<div class="kpis">{cards}</div>
</div>
</header>"""

    def nav(self) -> str:
        """Links to the sections drawn so far (call after rendering them)."""
        return "<nav>" + "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in self.toc) + "</nav>"

    def footer(self) -> str:
        run = self.doc["run"]
        return (f"<p>microseg {esc(self.doc.get('microseg_version', ''))} · config {esc(run.get('config_hash', '')[:12])}"
                f" · policy {esc(run.get('policy_hash', '')[:12])} · This file is self-contained: it loads nothing "
                "from the network and runs no script.</p>")

    def _section(self, anchor: str, title: str, content: str, intro: str = "") -> str:
        self.toc.append((anchor, title))
        intro_html = f'<p class="intro">{intro}</p>' if intro else ""
        return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{intro_html}{content}</section>'

    # ------------------------------------------------------------------ sections
    def overview(self) -> str:
        consent = (self.report.get("privacy") or {}).get("consent") or {}
        excluded = consent.get("marketing_excluded")
        dp = (self.report.get("privacy") or {}).get("dp")
        lines = [f"Everything on this page went through the release gate: every segment shown has at least "
                 f"<b>{self.k}</b> customers, and sizes below that appear only as “&lt; {self.k}”."]
        if excluded not in (None, 0):
            lines.append(f"Released sizes leave out the <b>{esc(count(excluded))}</b> customers without marketing "
                         "consent and the customers of withheld segments; method figures (model quality, the "
                         "methods’ own segment counts) are computed on every customer the methods profiled, "
                         "so they can be larger.")
        else:
            lines.append("Released sizes leave out the customers of withheld segments; method figures are computed "
                         "on every customer the methods profiled, so they can be larger.")
        if dp:
            lines.append("Released sizes carry differential-privacy noise.")
        load = self.report.get("load") or {}
        rows = flatten(load)
        data = _table(["input", "figure"], [[esc(k), esc(count(v))] for k, v in rows], numeric=(1,), css="kv") \
            if rows else ""
        return self._section("overview", "How to read this report", f'<div class="callout">{" ".join(lines)}</div>'
                             + (f'<h3>What was read</h3>{data}' if data else ""))

    def segments_by_method(self) -> str:
        parts = []
        for i, family in enumerate(f for f in self.families if f != "micro"):
            method = (self.doc.get("methods") or {}).get(family, "")
            segs = [s for s in self.released if s["family"] == family]
            if method == "score band":                    # bands read low to high, not by size
                segs.sort(key=lambda s: _band_order(s["label"]))
            drawn = [s for s in segs if is_count(s.get("size"))]
            rep = _dict(self.method_reports.get(family))
            definitions = _dict(rep.get("definitions"))
            chart = charts.bars([_shown(s["label"]) for s in drawn], [float(s["size"]) for s in drawn], hue=charts.color(i),
                                tips=[f"{_shown(s['label'])}: {count(s['size'])} customers — {s.get('description', '')}"
                                      for s in drawn], in_order=method == "score band") if drawn else '<p class="muted">No segment of this method was released.</p>'
            rows = [[esc(_shown(s["label"])), esc(count(s.get("size"))),
                     esc(s.get("description") or "") + (f'<br><code>{esc(definitions[s["label"]])}</code>'
                                                        if s["label"] in definitions else "")]
                    for s in (segs if method == "score band" else
                              sorted(segs, key=lambda s: -(s["size"] if is_count(s.get("size")) else 0)))]
            multi = ' <span class="pill">customers can be in several of these</span>' if rep.get("mode") == "multi" else ""
            plot_tag = f' data-plot="sizes-{esc(family)}"' if drawn else ""      # a drawn chart only
            held_rows = [s for s in self.withheld if s["family"] == family]
            held = [s["label"] for s in held_rows]
            if held and not segs and all(s.get("status") == "not-released" for s in held_rows):
                note = ('<p class="muted">Not in this run’s export: the config’s <code>[release] families</code> '
                        'leaves this method out (each released column costs detail in the others).</p>')
            else:
                note = (f'<p class="muted">Held back by the gate: {esc(", ".join(held))} '
                        f'(see <a href="#privacy">Privacy</a>).</p>') if held else ""
            parts.append(f'<article class="family"><h3>{esc(family)} <span class="muted">· {esc(method)}</span>{multi}</h3>'
                         f'<div class="split"><div class="plot"{plot_tag}>{chart}</div>'
                         f'<div>{_table(["segment", "customers", "description"], rows, numeric=(1,))}{note}</div></div></article>')
        return self._section("segments", "Segments by method", "".join(parts),
                             "Released segments of each method and how many customers each holds.")

    def microsegments(self) -> str:
        micro = [s for s in self.released if s["family"] == "micro"]
        if not micro:
            return ""
        nodes = [(tuple(s["key"].split(":", 1)[1].split("|")), float(s["size"])) for s in micro if is_count(s.get("size"))]
        chart = charts.sunburst(nodes) if nodes else ""
        rows = [[esc(s["label"]), esc(count(s.get("size"))), esc(s.get("description") or "")]
                for s in sorted(micro, key=lambda s: -(s["size"] if is_count(s.get("size")) else 0))]
        top, rest = rows[:25], rows[25:]
        more = (f"<details><summary>All {len(rows)} released microsegments</summary>"
                f"{_table(['microsegment', 'customers', 'description'], rest, numeric=(1,))}</details>") if rest else ""
        intro = ("Microsegments combine the methods’ labels, coarse at the centre and finer outwards. A gap in an outer "
                 "ring holds customers released only at the coarser level: their finer group was smaller than k and "
                 "was merged into its parent.")
        return self._section("microsegments", "Microsegment hierarchy",
                             f'<div class="plot wide" data-plot="microsegments">{chart}</div>'
                             f'<h3>Largest microsegments</h3>{_table(["microsegment", "customers", "description"], top, numeric=(1,))}{more}',
                             intro)

    def method_sections(self) -> str:
        out = []
        quality = self.report.get("quality") or {}
        for family in self.families:
            rep = _dict(self.method_reports.get(family))
            if not rep and family not in quality:
                continue
            blocks = [self._clusters(family, rep), self._classifier(family, rep), self._grid(family, rep),
                      self._channels(family, rep), self._qini(family, rep), self._quality(quality.get(family)),
                      self._figures(rep)]
            blocks = [b for b in blocks if b]
            if blocks:
                method = (self.doc.get("methods") or {}).get(family, "")
                out.append(f'<article class="family" id="method-{esc(family)}"><h3>{esc(family)} '
                           f'<span class="muted">· {esc(method)}</span></h3>{"".join(blocks)}</article>')
        return self._section("methods", "Method results", "".join(out),
                             "How each method was evaluated (out of time or on held-out rows) and what it found.") if out else ""

    def _clusters(self, family: str, rep: dict[str, Any]) -> str:
        profiles = _dict(rep.get("profiles"))
        released = {s["label"]: s for s in self.released if s["family"] == family}
        shown = [name for name in profiles if name in released and profiles[name].get("deviations")]
        if not shown:
            return ""
        features = list(profiles[shown[0]]["deviations"])
        values = np.array([[profiles[n]["deviations"].get(f, np.nan) for f in features] for n in shown], dtype=float)
        chart = charts.heatmap(shown, [_nice(f) for f in features], values, limit=1.0)
        rows = [[esc(n), esc(count(released[n].get("size"))), esc(profiles[n].get("description", ""))] for n in shown]
        hidden = len([n for n in profiles if n not in released])
        note = f'<p class="muted">{hidden} cluster(s) withheld by the gate are not profiled here.</p>' if hidden else ""
        return (f'<h4>Cluster profiles</h4><p class="intro">Each cell: how far the cluster’s average lies from '
                f'all customers’, in units of the typical spread (orange above, blue below).</p>'
                f'<div class="plot wide" data-plot="profiles-{esc(family)}">{chart}</div>'
                f'{_table(["cluster", "customers", "in plain words"], rows, numeric=(1,))}{note}')

    def _classifier(self, family: str, rep: dict[str, Any]) -> str:
        curves = _dict(rep.get("curves"))
        plots = []
        roc = _points(curves.get("roc"), ("fpr", "tpr"), anchors=True)
        if len(roc) > 2:
            auc = _find(rep, "roc_auc")
            plots.append(("roc", charts.lines([{"name": f"model (AUC {number(auc)})" if auc is not None else "model",
                                                "x": [p["fpr"] for p in roc], "y": [p["tpr"] for p in roc]}],
                                              title="ROC curve", xlabel="false positive rate",
                                              ylabel="true positive rate", diagonal=True)))
        lift = _points(curves.get("lift"), ("top_share", "lift", "cumulative_gain"))
        if lift:
            plots.append(("lift", charts.columns([f"{p['top_share']:.0%}" for p in lift], {"lift": [p["lift"] for p in lift]},
                                                 title="Lift by score decile", ylabel="× the average rate",
                                                 xlabel="customers with the highest scores first",
                                                 reference=1.0, reference_label="average")))
            plots.append(("gain", charts.lines([{"name": "model", "x": [0] + [p["top_share"] for p in lift],
                                                 "y": [0] + [p["cumulative_gain"] for p in lift], "markers": True}],
                                               title="Cumulative gain", xlabel="share of customers targeted",
                                               ylabel="share of positives found", diagonal=True, percent_x=True,
                                               percent_y=True)))
        calibration = _points(curves.get("calibration"), ("predicted", "observed"))
        if calibration:
            plots.append(("calibration", charts.lines(
                [{"name": "model", "x": [p["predicted"] for p in calibration],
                  "y": [p["observed"] for p in calibration], "markers": True}],
                title="Calibration", xlabel="predicted probability", ylabel="observed rate", diagonal=True)))
        if not plots:
            return ""
        cells = "".join(f'<div class="plot" data-plot="{name}-{esc(family)}">{svg}</div>' for name, svg in plots)
        return f'<h4>Model evaluation</h4><div class="grid">{cells}</div>'

    def _grid(self, family: str, rep: dict[str, Any]) -> str:
        grid = _dict(rep.get("grid"))
        if not grid.get("rows") or not grid.get("columns") or "{row}" not in str(grid.get("label", "")):
            return ""
        by_label = {s["label"]: s for s in self.segments if s["family"] == family}
        cells = []
        for r in grid["rows"]:
            line = []
            for c in grid["columns"]:
                s = by_label.get(str(grid["label"]).format(row=r, column=c))
                if s is None:
                    line.append("none")
                elif s.get("status") == "released":
                    line.append(s.get("size"))
                else:
                    line.append("withheld")
            cells.append(line)
        chart = charts.table_grid([str(r) for r in grid["rows"]], [str(c) for c in grid["columns"]], cells,
                                  row_title=str(grid.get("row_title", "")), col_title=str(grid.get("column_title", "")))
        return (f'<h4>Risk × value</h4><p class="intro">Released customers per cell; “withheld” cells were '
                f'held back by the gate.</p><div class="plot" data-plot="grid-{esc(family)}">{chart}</div>')

    def _channels(self, family: str, rep: dict[str, Any]) -> str:
        channels = _dict(rep.get("channels"))
        names = [c for c, v in channels.items() if isinstance(v, dict) and isinstance(v.get("response_rate"), float)]
        if not names:
            return ""
        groups: dict[str, list[float | None]] = {"contacted": [channels[c]["response_rate"] for c in names]}
        if any(isinstance(channels[c].get("control_rate"), float) for c in names):
            groups["control group"] = [channels[c].get("control_rate") for c in names]
        chart = charts.columns(names, groups, title="Response rate by channel", percent=True, ylabel="responded")
        rows = [[esc(c), esc(count(channels[c].get("contacts"))), esc(count(channels[c].get("responses"))),
                 esc(share(channels[c].get("response_rate"))), esc(share(channels[c].get("control_rate")))]
                for c in names]
        return (f'<h4>Campaign response by channel</h4><div class="split"><div class="plot" '
                f'data-plot="channels-{esc(family)}">{chart}</div>'
                f'{_table(["channel", "contacts", "responses", "response rate", "control group rate"], rows, numeric=(1, 2, 3, 4))}</div>')

    def _qini(self, family: str, rep: dict[str, Any]) -> str:
        points = _points((_dict(rep.get("curves"))).get("qini"), ("share", "incremental"), anchors=True)
        if len(points) < 3:
            return ""
        end = points[-1]["incremental"]
        chart = charts.lines([{"name": "model", "x": [p["share"] for p in points], "y": [p["incremental"] for p in points]},
                              {"name": "random targeting", "x": [0, points[-1]["share"]], "y": [0, end], "dashed": True,
                               "color": charts.MUTED}],
                             title="Qini curve (held-out contacts)", xlabel="share targeted, highest uplift first",
                             ylabel="extra responses vs no contact", percent_x=True, width=5.2)
        return (f'<h4>Uplift</h4><p class="intro">Above the dashed line the model finds customers whom contacting '
                f'changes; the higher the bulge, the better.</p><div class="plot" data-plot="qini-{esc(family)}">{chart}</div>')

    def _quality(self, q: dict[str, Any] | None) -> str:
        if not isinstance(q, dict):
            return ""
        verdict = "passes" if q.get("passes") else "does not pass"
        css = "ok" if q.get("passes") else "warn"
        rows = [[esc(_nice(key)), esc(number(q.get(key)))] for key in
                ("metric", "value", "interval", "baseline", "baseline_interval") if key in q]
        return (f'<h4>Model quality gate</h4><p class="{css}">The model {verdict} the quality gate'
                f'{": " + esc(q["reason"]) if q.get("reason") else ""}.</p>{_table(["figure", "value"], rows, numeric=(1,))}')

    def _figures(self, rep: dict[str, Any]) -> str:
        rows = [[esc(k), esc(value_text(v))] for k, v in flatten({k: v for k, v in rep.items() if k not in DRAWN})]
        drivers = _dict(rep.get("top_drivers"))
        rows += [[esc(f"main drivers · {label}"), esc(", ".join(map(str, d)))] for label, d in drivers.items()
                 if any(s["label"] == label and s.get("status") == "released" for s in self.segments)]
        if not rows:
            return ""
        return f'<h4>Figures</h4>{_table(["figure", "value"], rows, css="kv")}'

    def migration(self) -> str:
        mig = self.doc.get("migration")
        prev = self.doc.get("previous_run")
        if not prev or not mig:
            return ""
        intro = (f"Customers matched by their stored key between run {esc(prev['id'])} (as of {esc(prev.get('as_of', ''))}) "
                 f"and this run — the same configuration. Cells below k show “&lt; {self.k}”; “hidden” cells are held "
                 "back so that no small count can be worked out from the totals.")
        if mig.get("note"):
            intro += f" {esc(mig['note'])}."
        parts = []
        for family, table in (mig.get("families") or {}).items():
            chart = charts.table_grid(table["rows"], table["columns"], table["counts"], shares=True,
                                      row_title=f"run {prev['id']}", col_title=f"run {self.doc['run']['id']}")
            stayed = table.get("same_segment")
            parts.append(f'<article class="family"><h3>{esc(family)}</h3><p class="muted">Stayed in the same segment: '
                         f'{esc(count(stayed))}</p><div class="plot wide" data-plot="migration-{esc(family)}">{chart}</div></article>')
        matched = mig.get("matched")
        head = f'<p>Customers released in both runs: <b>{esc(count(matched))}</b></p>'
        return self._section("migration", f"Since run {prev['id']}", head + "".join(parts), intro)

    def privacy(self) -> str:
        priv = self.report.get("privacy") or {}
        actions = priv.get("actions") or {}
        found = [c for c in priv.get("columns") or [] if c.get("kind") != "none"]
        rows = [[esc(f'{c["table"]}.{c.get("column")}' if c.get("table") else c.get("column")),
                 esc(KIND_WORDS.get(c.get("kind"), c.get("kind"))),
                 esc(_nice(str(c.get("entity") or "—")).upper() if c.get("entity") else "—"),
                 esc(ACTION_WORDS.get(actions.get(c.get("column"), c.get("action")), actions.get(c.get("column"), c.get("action"))))]
                for c in found]
        columns_html = _table(["column", "what it is", "detected as", "what was done"], rows) if rows else \
            '<p class="muted">No column was found to hold personal data.</p>'
        consent = priv.get("consent") or {}
        consent_rows = [[esc(_consent_words(k)), esc(count(v))] for k, v in consent.items()]
        consent_html = _table(["consent", "customers"], consent_rows, numeric=(1,)) if consent_rows else \
            '<p class="muted">No consent columns were configured.</p>'
        fams = [f for f in self.families if any(s["family"] == f for s in self.segments)]
        gate_rows = [[esc(f)] + [esc(count(sum(1 for s in self.segments if s["family"] == f and s.get("status") == st)))
                                 for st in ("released", "merged", "withheld")] for f in fams]
        gate_html = _table(["method", "released", "merged into a parent", "not released"], gate_rows,
                           numeric=(1, 2, 3)) + self._loss()
        methods_withheld = [s for s in self.withheld if s["family"] != "micro"]
        micro_withheld = [s for s in self.withheld if s["family"] == "micro"]
        withheld_html = self._withheld_table(methods_withheld) if methods_withheld else \
            '<p class="muted">Every segment of every method was released.</p>'
        if micro_withheld:
            merged = sum(1 for s in micro_withheld if s.get("status") == "merged")
            withheld_html += (f"<details><summary>{len(micro_withheld)} microsegments held back ({merged} merged into "
                              f"a coarser microsegment)</summary>{self._withheld_table(micro_withheld)}</details>")
        return self._section("privacy", "Privacy", f"""
<h3>Personal data found and what was done</h3>{columns_html}
<h3>Consent</h3>{consent_html}
<h3>Release gate</h3>{gate_html}
<h3>Segments held back</h3>{withheld_html}""",
                             "What the scan found in the inputs, who was left out for lack of consent, and what the "
                             f"release gate (every combination of released values held by at least k = {self.k} "
                             "customers) held back and why.")

    def _withheld_table(self, segments: list[dict[str, Any]]) -> str:
        ordered = sorted(segments, key=lambda s: (s["family"], s["label"]))
        rows = [[esc(s["family"]), esc(s["label"]), esc(count(s.get("size"))), esc(s.get("status", "")), esc(why)]
                for s, why in zip(ordered, reasons(ordered, self.labels, self.k))]
        return _table(["method", "segment", "customers", "decision", "why"], rows, numeric=(2,))

    def _loss(self) -> str:
        """What the gate cost per method (``loss``): the share of released customers whose value
        of each method was coarsened, withheld or held at an earlier run's value, and the scope."""
        loss = self.report.get("loss") or (self.report.get("gate_loss") or {})
        if not isinstance(loss, dict) or not loss:
            return ""
        per_column = _dict(loss.get("per_column"))
        rows = [[esc(family), esc(share(f.get("coarsened_share"))), esc(share(f.get("withheld_share"))),
                 esc(share(f.get("held_share")))] for family, f in per_column.items() if isinstance(f, dict)]
        scope = _dict(loss.get("scope"))
        earlier = scope.get("earlier_runs") or []
        lines = [f"Released customers: <b>{esc(count(loss.get('released_customers')))}</b>; with at least one value "
                 f"coarsened: <b>{esc(share(loss.get('coarsened_share')))}</b>; rounds of the gate: "
                 f"{esc(number(loss.get('rounds')))}."]
        if scope.get("scope"):
            lines.append(f"Release scope: {esc(scope['scope'])}"
                         + (f" (earlier runs checked: {esc(', '.join(map(str, earlier)))})." if earlier else
                            " (no earlier run in scope)."))
        return ('<h4>What the gate cost, per method</h4><p class="intro">Share of released customers whose value of '
                'the method left coarser than the method gave it (“*” = not released for them; “held” = kept at the '
                'value an earlier run in scope released).</p>'
                + _table(["method", "coarsened", "not released", "held at an earlier value"], rows, numeric=(1, 2, 3))
                + "".join(f'<p class="muted">{line}</p>' for line in lines))

    def other_figures(self) -> str:
        known = {"customers", "k", "segments", "gate", "methods", "privacy", "load", "run_id", "quality", "loss",
                 "gate_loss"}
        rest = {k: v for k, v in self.report.items() if k not in known}
        rows = [[esc(k), esc(value_text(v))] for k, v in flatten(rest)]
        return self._section("other", "Other figures", _table(["figure", "value"], rows, css="kv")) if rows else ""


# ---------------------------------------------------------------------- helpers
def _table(headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = (), css: str = "") -> str:
    head = "".join(f'<th class="{"num" if i in numeric else ""}">{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{"num" if i in numeric else ""}">{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _points(points: Any, keys: tuple[str, ...], anchors: bool = False) -> list[dict[str, Any]]:
    """The curve points that may be drawn: numeric ``keys`` present, and aggregating at least k
    rows (their ``rows`` count survived the sanitiser; ``anchors``: a 0-row start point too)."""
    if not isinstance(points, list):
        return []
    return [p for p in points if isinstance(p, dict)
            and all(isinstance(p.get(key), (int, float)) and not isinstance(p.get(key), bool) for key in keys)
            and (is_count(p.get("rows")) and (p["rows"] > 0 or anchors))]


def _nice(name: str) -> str:
    return str(name).replace("_", " ")


def _find(rep: Any, key: str) -> Any:
    if isinstance(rep, dict):
        if key in rep:
            return rep[key]
        for v in rep.values():
            got = _find(v, key)
            if got is not None:
                return got
    return None


def _consent_words(key: str) -> str:
    words = {"profiling_excluded": "left out of all segmentation (no profiling consent)",
             "marketing_excluded": "segmented, but never released (no marketing consent)"}
    return words.get(key, _nice(key))


STYLE = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--accent:#0f766e;
--font:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
*{box-sizing:border-box}
body{margin:0;font-family:var(--font);color:var(--ink);background:var(--bg);line-height:1.45;font-size:15px}
header{background:linear-gradient(120deg,#0f766e,#115e59 60%,#134e4a);color:#fff;padding:28px 0 22px}
.wrap,main,footer{max-width:1180px;margin:0 auto;padding:0 24px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;opacity:.8;margin:0}
h1{font-size:30px;margin:4px 0 4px}h1 small{font-weight:400;font-size:18px;opacity:.85}
.sub{margin:0 0 14px;opacity:.9;font-size:14px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}
.kpi{background:rgba(255,255,255,.12);border-radius:10px;padding:12px 14px}
.kpi b{display:block;font-size:24px}.kpi span{font-size:13px;opacity:.9}
nav{position:sticky;top:0;background:var(--bg);padding:10px 0;border-bottom:1px solid var(--line);z-index:2;font-size:14px}
nav a{color:var(--accent);text-decoration:none;margin-right:18px;white-space:nowrap}
section{background:#fff;border:1px solid var(--line);border-radius:12px;margin:22px 0;padding:8px 24px 22px}
h2{font-size:22px;margin:18px 0 4px}h3{font-size:17px;margin:22px 0 8px}h4{font-size:15px;margin:18px 0 6px}
.intro,.muted{color:var(--muted)}.muted{font-weight:400}
.callout{background:#f0fdfa;border-left:4px solid var(--accent);padding:12px 16px;border-radius:6px}
.warn{background:#fff7ed;border-left:4px solid #d97706;padding:8px 12px;border-radius:6px;color:#7c2d12}
.ok{background:#f0fdf4;border-left:4px solid #16a34a;padding:8px 12px;border-radius:6px}
header .warn{color:#7c2d12}
.family{border-top:1px solid var(--line);padding-top:4px}
.split{display:grid;grid-template-columns:minmax(0,1.05fr) minmax(0,1fr);gap:22px;align-items:start}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:18px}
.plot{min-width:0}.plot svg.chart{max-width:100%;height:auto}
table.kv td:first-child{width:42%}
svg.chart text{font-family:var(--font) !important}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12.5px;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}
code{font-size:12px;color:#334155;background:#f1f5f9;padding:1px 4px;border-radius:4px}
.pill{font-size:12px;font-weight:400;background:#eef2ff;color:#3730a3;border-radius:999px;padding:2px 8px}
details{margin-top:8px}summary{cursor:pointer;color:var(--accent)}
footer{color:var(--muted);font-size:12.5px;padding-bottom:30px}
@media (max-width:800px){.split{grid-template-columns:1fr}.kpis{grid-template-columns:repeat(2,1fr)}}
@media print{nav{display:none}section{break-inside:avoid-page;border:none}header{background:#0f766e}}
"""


def _shown(label: str) -> str:
    """A released value as a reader sees it: the coarsened value ``*`` in words."""
    return "(not released)" if label == "*" else label


def _band_order(label: str) -> tuple[float, float, str]:
    """Sort key of a released score band: by its lower then upper edge; text values, "no score"
    and the coarsened "*" after the bands."""
    import math
    text = str(label)
    try:
        if text.startswith("< "):
            return (-math.inf, float(text[2:]), "")
        if text.startswith("≥ "):
            return (float(text[2:]), math.inf, "")
        low, sep, high = text.partition("–")
        if sep:
            return (float(low), float(high), "")
        return (math.inf, math.inf, text if text not in ("no score", "*") else "\uffff" + text)
    except ValueError:
        return (math.inf, math.inf, text)
