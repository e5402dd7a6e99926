"""The built-in report renderers (HTML, Markdown, JSON), registered through the same hook as a plugin's."""
from __future__ import annotations

import json

from microseg.hookspecs import hookimpl
from microseg.outputs import ReportDocument, ReportRenderer


def render_html(doc: ReportDocument) -> str:
    from microseg.report.html import render_html as render  # the report modules only when a report is drawn
    return render(doc)


def render_markdown(doc: ReportDocument) -> str:
    from microseg.report.markdown import render_markdown as render
    return render(doc)


def render_json(doc: ReportDocument) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


HTML = ReportRenderer(name="html", suffix=".html", render=render_html,
                      description="one self-contained page with charts; opens offline")
MARKDOWN = ReportRenderer(name="markdown", suffix=".md", render=render_markdown, description="tables as Markdown text")
JSON = ReportRenderer(name="json", suffix=".json", render=render_json, description="the report document as JSON")


@hookimpl
def register_report_renderers(register):
    register(HTML)
    register(MARKDOWN)
    register(JSON)
