"""The run report, `report`/`compare`/`show`, and the output hooks — checked from microseg's own
outputs (the HTML/Markdown/JSON files, `segments --json`, `compare --json`, `show --json`)."""
from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import microseg
from helpers import write_shop_config
from microseg.cli import cli
from microseg.errors import PluginError
from microseg.migration import protect
from microseg.outputs import ExportFormat, ReportRenderer
from microseg.registry import Registry

K = 20


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def json_of(*args: str) -> dict:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two runs of one config (the second on a changed data set) in one SQLite store."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MICROSEG_KEY", "test-key-0123456789abcdef")
    try:
        folder = tmp_path_factory.mktemp("shop")
        cfg = write_shop_config(folder, k=K, n=900, seed=1)
        db = str(folder / "store.db")
        first = invoke("run", str(cfg), "--db", db)
        assert first.exit_code == 0, first.output
        write_shop_config(folder, k=K, n=900, seed=2)        # same config, customers behave differently
        second = invoke("run", str(cfg), "--db", db)
        assert second.exit_code == 0, second.output
        yield folder, db
    finally:
        mp.undo()


class _Tables(HTMLParser):
    """Every <table> of a page as its header cells and rows of cell text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[str] = []
        self._head = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag == "tr":
            self._row, self._head = [], False
        elif tag in ("td", "th"):
            self._cell, self._head = [], self._head or tag == "th"

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self.tables:
            self.tables[-1]["head" if self._head else "rows"].append(self._row) if not self._head else \
                self.tables[-1]["head"].extend(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(page: str) -> list[dict]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def as_count(text: str) -> int | str:
    text = text.replace(",", "").strip()
    return int(text) if re.fullmatch(r"\d+", text) else text


# ---------------------------------------------------------------------------------- the report
def test_run_writes_the_html_report_beside_the_store_by_default(two_runs):
    folder, db = two_runs
    assert (folder / "report-run-1.html").is_file() and (folder / "report-run-2.html").is_file()


def test_report_shows_only_released_sizes_and_nothing_below_k(two_runs):
    folder, db = two_runs
    page = (folder / "report-run-2.html").read_text(encoding="utf-8")
    released = json_of("segments", "--db", db, "--json")["segments"]
    tables = tables_of(page)
    # every "customers" column on the page: "< k", a dash, or a count of at least k
    seen = 0
    for t in tables:
        for i, head in enumerate(t["head"]):
            if head.lower() == "customers":
                for row in t["rows"]:
                    value = as_count(row[i])
                    assert value in (f"< {K}", "—") or (isinstance(value, int) and (value >= K or value == 0)), row
                    seen += 1
    assert seen
    # the segment tables hold exactly the released sizes `segments --json` reports
    shown = Counter((row[0], as_count(row[1])) for t in tables
                    if t["head"][:2] in (["segment", "customers"], ["microsegment", "customers"]) for row in t["rows"])
    # the coarsened value "*" reads "(not released)" on the page
    assert shown == Counter(("(not released)" if s["label"] == "*" else s["label"], s["size"]) for s in released)


def test_report_is_self_contained_and_readable(two_runs):
    folder, _ = two_runs
    page = (folder / "report-run-2.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page.lower() and "@import" not in page and "@font-face" not in page
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"'#][^"']*)""", page)
    assert links == [], links                                   # nothing to fetch: only #anchors
    assert "url(" not in re.sub(r"url\(#", "", page)
    assert "\\u00b7" not in page and "{'" not in page and "```" not in page
    assert page.count("<svg") >= 3 and "Since run 1" in page    # same config twice: migration shown
    # each family is titled with the method that made it, never with a coarsened value's row
    assert "· withheld</span>" not in page and "· recent-buyers</span>" in page
    assert len(page.encode()) < 5_000_000


def test_markdown_and_json_renderers(two_runs, monkeypatch):
    folder, db = two_runs
    monkeypatch.chdir(folder)
    md = folder / "r.md"
    assert invoke("report", "--db", db, "--out", str(md)).exit_code == 0
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# microseg run 2") and "```" not in text and "{'" not in text and "\\u" not in text
    doc = json_of("report", "1", "--db", db, "--format", "json", "--out", str(folder / "r.json"), "--json")
    assert doc["run_id"] == 1 and doc["bytes"] > 0
    stored = json.loads((folder / "r.json").read_text())
    assert stored["format"] == "microseg.report/1" and stored["run"]["id"] == 1 and stored["previous_run"] is None
    segments = {s["label"]: s["size"] for s in stored["report"]["segments"] if s["status"] == "released"}
    assert segments == {s["label"]: s["size"] for s in json_of("segments", "1", "--db", db, "--json")["segments"]}


def test_run_report_options(tmp_path, monkeypatch):
    cfg = write_shop_config(tmp_path, k=K)
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "s.db")
    assert invoke("run", str(cfg), "--db", db, "--no-report").exit_code == 0
    assert not list(tmp_path.glob("report-run-*"))
    out = tmp_path / "sub" / "mine.html"
    result = json_of("run", str(cfg), "--db", db, "--report", str(out), "--json")
    assert result["report_path"] == str(out) and out.read_text().startswith("<!DOCTYPE html>")


def test_unknown_report_format_and_missing_run_exit_2(two_runs):
    _, db = two_runs
    bad = invoke("report", "--db", db, "--format", "pdf")
    assert bad.exit_code == 2 and "unknown report format 'pdf'" in bad.output and "html" in bad.output
    missing = invoke("report", "9", "--db", db)
    assert missing.exit_code == 2 and "no run 9" in missing.output


def test_default_report_path(tmp_path, monkeypatch):
    from microseg.report import default_report_path
    monkeypatch.chdir(tmp_path)
    assert default_report_path(f"sqlite:///{tmp_path / 'a' / 's.db'}", 3) == tmp_path / "a" / "report-run-3.html"
    assert default_report_path("postgresql+psycopg://u@h/db", 4, ".md") == tmp_path / "report-run-4.md"


def test_report_from_a_postgresql_store(pg_url, tmp_path):
    cfg = write_shop_config(tmp_path, k=K)
    assert invoke("run", str(cfg), "--db", pg_url, "--no-report").exit_code == 0
    out = tmp_path / "pg.html"
    assert invoke("report", "--db", pg_url, "--out", str(out)).exit_code == 0
    assert "Segments by method" in out.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------- compare
def test_compare_counts_respect_the_gate(two_runs):
    _, db = two_runs
    doc = json_of("compare", "1", "2", "--db", db, "--json")
    assert doc["run_a"] == 1 and doc["run_b"] == 2 and doc["families"]
    sizes = {run: {(s["family"], s["label"]): s["size"] for s in json_of("segments", str(run), "--db", db, "--json")["segments"]}
             for run in (1, 2)}
    for family, t in doc["families"].items():
        counts = t["counts"]
        for row in counts:
            for c in row:
                assert c in ("< k", "hidden") or c == 0 or c >= K
        # row totals are run 1's released sizes, column totals run 2's; what is hidden in any row or
        # column (total minus the counts shown) is 0 or at least k
        for i, label in enumerate(t["rows"][:-1]):
            assert t["row_sizes"][i] == sizes[1][(family, label)]
            hidden = t["row_sizes"][i] - sum(c for c in counts[i] if isinstance(c, int))
            assert hidden == 0 or hidden >= K, (family, label)
        for j, label in enumerate(t["columns"][:-1]):
            assert t["column_sizes"][j] == sizes[2][(family, label)]
            hidden = t["column_sizes"][j] - sum(row[j] for row in counts if isinstance(row[j], int))
            assert hidden == 0 or hidden >= K, (family, label)
    # the default pair is (previous, latest); the human output has the same tables
    assert json_of("compare", "--db", db, "--json")["families"] == doc["families"]
    text = invoke("compare", "--db", db).output
    assert "Run 1 → run 2" in text and all(f"{family}: run 1 (rows)" in text for family in doc["families"])


def test_compare_needs_two_runs(tmp_path):
    cfg = write_shop_config(tmp_path, k=K)
    db = str(tmp_path / "s.db")
    assert invoke("run", str(cfg), "--db", db, "--no-report").exit_code == 0
    result = invoke("compare", "--db", db)
    assert result.exit_code == 2 and "first run" in result.output


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 30), st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=6), min_size=1, max_size=6))
def test_protect_leaves_no_small_count_readable(k, rows):
    width = max(map(len, rows))
    counts = np.array([r + [0] * (width - len(r)) for r in rows], dtype=np.int64)
    hidden = protect(counts, k)
    assert not (~hidden & (counts > 0) & (counts < k)).any()
    for axis in (0, 1):
        sums = np.where(hidden, counts, 0).sum(axis=axis)
        totals = counts.sum(axis=axis)
        bad = (sums > 0) & (sums < k)
        assert (totals[bad] == sums[bad]).all()      # only where the whole line is small is its hidden sum small


# ---------------------------------------------------------------------------------- show
def test_show_a_released_and_a_withheld_segment(two_runs):
    _, db = two_runs
    segments = json_of("segments", "--db", db, "--json", "--all")["segments"]
    released = next(s for s in segments if s["status"] == "released" and s["family"] == "recent")
    doc = json_of("show", released["key"], "--db", db, "--json")
    assert doc["size"] == released["size"] and doc["status"] == "released" and doc["description"]
    assert doc["definition"] and doc["run_id"] == 2
    withheld = [s for s in segments if s["status"] != "released"]
    assert withheld, "the fixture should have a segment the gate held back"
    doc = json_of("show", withheld[0]["key"], "--run", "2", "--db", db, "--json")
    assert doc["size"] is None                     # a withheld segment has a reason, never a size
    assert "fewer than" in doc["reason"].lower() or "differencing" in doc["reason"]
    text = invoke("show", released["key"], "--db", db).output
    assert released["label"] in text and "definition" in text


def test_show_unknown_key_suggests(two_runs):
    _, db = two_runs
    key = json_of("segments", "--db", db, "--json")["segments"][0]["key"]
    result = invoke("show", key[:-1] + "x", "--db", db)
    assert result.exit_code == 2 and "did you mean" in result.output and key in result.output


# ---------------------------------------------------------------------------------- hooks
def _plugin(**hooks):
    import types
    ns = types.SimpleNamespace()
    for hook, fn in hooks.items():
        setattr(ns, hook, microseg.hookimpl(fn))
    return ns


JSONL = ExportFormat(name="jsonl", suffixes=(".jsonl",), write=lambda table, path: table.to_json(
    path, orient="records", lines=True))


def test_hook_register_export_formats(two_runs, tmp_path):
    _, db = two_runs
    reg = Registry(entry_points=False)
    reg.register(_plugin(register_export_formats=lambda register: register(JSONL)), name="jsonl-plugin")
    assert {"csv", "parquet", "jsonl"} <= set(reg.export_formats)
    info = {p.name: p for p in reg.plugins()}
    assert info["jsonl-plugin"].export_formats == ["jsonl"] and info["microseg.formats"].export_formats == ["csv", "parquet"]
    from microseg.api import export_run, open_store
    done = export_run(open_store(db), None, tmp_path / "out.jsonl", registry=reg, secret=b"test-key-0123456789abcdef")
    assert done.format == "jsonl"
    csv = invoke("export", "--db", db, "--out", str(tmp_path / "out.csv"))
    assert csv.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_json(tmp_path / "out.jsonl", lines=True, dtype=False).astype(str),
                                  pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False).astype(str),
                                  check_dtype=False)


def test_export_format_errors_name_the_format(two_runs, tmp_path):
    _, db = two_runs
    unknown = invoke("export", "--db", db, "--out", str(tmp_path / "x.xlsx"))
    assert unknown.exit_code == 2 and "'.xlsx'" in unknown.output and ".parquet" in unknown.output
    reg = Registry(entry_points=False)

    def broken(table, path):
        Path(path).write_text("half")
        raise ValueError("disk on fire")
    reg.register(_plugin(register_export_formats=lambda register: register(
        ExportFormat(name="broken", suffixes=(".brk",), write=broken))), name="p")
    from microseg.api import export_run, open_store
    with pytest.raises(PluginError, match="export format 'broken' failed.*disk on fire"):
        export_run(open_store(db), None, tmp_path / "x.brk", registry=reg, secret=b"test-key-0123456789abcdef")
    assert not list(tmp_path.glob("*.brk")) and not list(tmp_path.glob(".microseg-export-*"))
    reg.register(_plugin(register_export_formats=lambda register: register(JSONL)), name="one")
    reg.register(_plugin(register_export_formats=lambda register: register(JSONL)), name="two")
    with pytest.raises(PluginError, match="two plugins register export format 'jsonl': '(one|two)' and '(one|two)'"):
        reg.export_formats  # noqa: B018
    reg2 = Registry(builtins=False, entry_points=False)
    reg2.register(_plugin(register_export_formats=lambda register: register(object())), name="bad")
    with pytest.raises(PluginError, match="not a microseg.outputs.ExportFormat"):
        reg2.export_formats  # noqa: B018


def test_hook_register_report_renderers(two_runs, tmp_path):
    _, db = two_runs
    text = ReportRenderer(name="text", suffix=".txt", render=lambda doc: "\n".join(
        f"{s['label']}\t{s['size']}" for s in doc["report"]["segments"] if s["status"] == "released"))
    reg = Registry(entry_points=False)
    reg.register(_plugin(register_report_renderers=lambda register: register(text)), name="text-plugin")
    assert {"html", "markdown", "json", "text"} <= set(reg.report_renderers)
    assert {p.name: p for p in reg.plugins()}["text-plugin"].report_renderers == ["text"]
    from microseg.api import open_store, write_report
    out = write_report(open_store(db), 2, out=tmp_path / "r.txt", registry=reg)
    lines = dict(line.split("\t") for line in out.read_text().splitlines())
    assert lines == {s["label"]: str(s["size"]) for s in json_of("segments", "--db", db, "--json")["segments"]}
    failing = ReportRenderer(name="bad", suffix=".bad", render=lambda doc: 1 / 0)
    reg.register(_plugin(register_report_renderers=lambda register: register(failing)), name="bad-plugin")
    with pytest.raises(PluginError, match="report renderer 'bad' failed"):
        write_report(open_store(db), 2, out=tmp_path / "r.bad", registry=reg)
    assert not (tmp_path / "r.bad").exists()


# ---------------------------------------------------------------------------------- CLI conventions
@pytest.mark.parametrize("command", ["report", "compare", "show"])
def test_help_has_examples_and_json(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Examples:" in result.output and "--json" in result.output
    assert f"microseg {command}" in result.output


def test_plotting_is_imported_only_when_a_report_is_drawn():
    import subprocess
    import sys
    code = ("import sys; from microseg.cli import cli; from microseg.registry import Registry; "
            "r = Registry(entry_points=False); r.report_renderers; r.export_formats; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _document(**report_extra) -> dict:
    segments = [
        {"key": "m:A", "family": "m", "label": "A", "description": "a", "status": "released", "size": 120},
        {"key": "m:B", "family": "m", "label": "B", "description": "b", "status": "suppressed", "size": "< 50",
         "reason": "size < k"},
        {"key": "m:C", "family": "m", "label": "C", "description": "c", "status": "suppressed", "size": 300,
         "reason": "the gate's newer words: overlaps 'm:A' by < k"},
    ]
    report = {"customers": 1000, "k": 50, "segments": segments, "gate": {"released": 1, "suppressed": 2},
              "methods": {"m": {"curves": {"roc": "not a list", "qini": [{"share": 0.5}]}, "auc": 0.7}},
              "privacy": {"columns": [], "actions": {}, "consent": {}}, "load": {}} | report_extra
    return {"run": {"id": 7, "k": 50, "as_of": "2026-01-01", "status": "complete", "created_at": "x", "engine": "pandas",
                    "config_hash": "c" * 64, "policy_hash": "p" * 64},
            "report": report, "methods": {"m": "thing"}, "previous_run": None, "migration": None}


def test_html_draws_what_is_present_and_reads_the_gates_words():
    from microseg.report.html import render_html
    quality = {"m": {"passes": False, "reason": "no better than the baseline", "metric": "roc_auc", "value": 0.52,
                     "interval": [0.49, 0.55], "baseline": 0.5, "baseline_interval": [0.5, 0.5]}}
    page = render_html(_document(quality=quality, loss={"released_customers": 900, "coarsened_share": 0.1, "rounds": 3, "per_column": {"m": {"coarsened_share": 0.083, "withheld_share": 0.05, "held_share": 0.0}}, "scope": {"scope": "this run and the 11 before it", "earlier_runs": [4]}}))
    assert 'data-plot="sizes-m"' in page and 'data-plot="roc-m"' not in page and 'data-plot="qini-m"' not in page
    assert "does not pass the quality gate: no better than the baseline" in page
    assert "Fewer than 50 customers" in page                                 # known reason, in words
    assert "The gate&#x27;s newer words: overlaps “A” by fewer than 50" in page   # unknown: keys as labels
    assert "What the gate cost, per method" in page and "8.3%" in page and "earlier runs checked: 4" in page
    assert "per_column" not in page and "coarsened_share" not in page and "auc" in page


def test_show_reads_stored_reports_with_missing_pieces(two_runs):
    from microseg.segment_detail import definition, drivers
    assert definition({"family": "micro", "key": "micro:A|B", "label": "A × B"}, {}, {}) == "“A” and “B”"
    assert definition({"family": "g", "key": "g:X", "label": "X"}, {"definitions": {"X": "age > 3"}}, {}) == "age > 3"
    assert drivers("C1", {"profiles": {"C1": {"deviations": {"f": 0.5, "g": -0.3, "h": 0.01}}}}) == [
        "f higher than average (+0.50)", "g lower than average (-0.30)"]


def test_score_bands_read_low_to_high_in_words():
    """A released score's bands are listed by their edges (not by size), coarsened and missing
    values last, and described in words."""
    from microseg.privacy.columns import Column
    from microseg.privacy.release import value_row
    from microseg.report.html import render_html
    bands = [("≥ 0.61", 160), ("< 0.3", 65), ("*", 806), ("0.3–0.47", 64), ("no score", 2466), ("0.47–0.61", 90)]
    col = Column(name="decline.decline_probability", kind="score", values=[], paths=np.zeros((1, 0), dtype=np.int32))
    rows = [value_row(col, text, size) for text, size in bands]
    doc = _document()
    doc["report"]["segments"] = rows
    doc["methods"] = {"decline.decline_probability": "score band"}
    page = render_html(doc)
    order = [page.index(f">{label}<") for label in ("&lt; 0.3", "0.3–0.47", "0.47–0.61", "≥ 0.61", "no score")]
    assert order == sorted(order)
    assert "decline probability below 0.3" in page and "decline probability of 0.61 or more" in page
    assert "decline probability from 0.3 to below 0.47" in page and " in ≥" not in page


def test_a_method_left_out_of_the_export_says_so():
    """A family the config does not release is explained as such, not as held back by the gate."""
    from microseg.report.html import render_html
    doc = _document()
    doc["report"]["segments"] = [
        {"key": "geo:North", "family": "geo", "label": "North", "description": "n", "status": "not-released",
         "reason": "its family is not in release.families"}]
    doc["methods"] = {"geo": "rules"}
    page = render_html(doc)
    assert "Not in this run’s export" in page and "Held back by the gate: North" not in page


def test_hand_written_charts_are_valid_svg_with_a_tooltip_per_mark():
    """Every chart is one well-formed <svg> whose data marks each carry a <title>, including the
    edge cases (one value, a full ring, missing cells, a single point, no finite value)."""
    import xml.etree.ElementTree as ET

    import numpy as np

    from microseg.report import charts
    ns = "{http://www.w3.org/2000/svg}"
    cases = [
        (charts.bars(["A", "B & <C>"], [120.0, 0.0]), 2),
        (charts.bars(["only"], [5.0], in_order=True, title="t"), 1),
        (charts.sunburst([(("All",), 100.0)]), 1),                          # one node: a full ring
        (charts.sunburst([(("A",), 10.0), (("A", "x"), 30.0), (("B",), 60.0), (("B", "y", "z"), 5.0)]), 5),
        (charts.heatmap(["r1", "r2"], ["a long column name", "b"], np.array([[0.5, np.nan], [-2.0, 0.0]])), 4),
        (charts.table_grid(["High", "Low"], ["x"], [[10], ["withheld"]], row_title="a long row title here",
                           col_title="c", shares=True), 2),
        (charts.lines([{"name": "m", "x": [0.5], "y": [0.5], "markers": True}], diagonal=True, percent_x=True), 1),
        (charts.lines([{"name": "a", "x": [0, 1, 2], "y": [0, 5, 4]},
                       {"name": "b", "x": [0, 2], "y": [0, 4], "dashed": True}], xlabel="x", ylabel="y"), 2),
        (charts.columns(["e", "p"], {"g1": [0.1, None], "g2": [0.05, 0.2]}, percent=True, reference=0.1,
                        reference_label="avg"), 3),
    ]
    ids: set[str] = set()
    for svg, marks in cases:
        root = ET.fromstring(svg)
        assert root.tag == ns + "svg" and root.get("class") == "chart"
        assert float(root.get("viewBox").split()[2]) > 0 and float(root.get("viewBox").split()[3]) > 0
        groups = [g for g in root.iter(ns + "g") if g.find(ns + "title") is not None]
        assert len(groups) == marks
        assert all(len(list(g)) >= 2 for g in groups)                         # a title and a drawn mark
        page_ids = {e.get("id") for e in root.iter() if e.get("id")}
        assert not page_ids & ids                                             # unique on the page
        ids |= page_ids
    assert "B &amp; &lt;C&gt;" in cases[0][0]
