"""The HTML report in a real browser: headless Chromium draws every plot and makes no request.

Skips with a reason where Chromium is absent (Debian: ``apt-get install -y chromium``).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from browser import chromium, render
from conftest import REPO, shared_file
from microseg.cli import cli

DEMO_PLOTS = {"microsegments", "profiles-behaviour", "roc-decline", "lift-decline", "gain-decline",
              "calibration-decline", "grid-decline", "channels-response", "qini-uplift", "sizes-rfm",
              "sizes-decline", "sizes-uplift"}


def check_drawn(page: Path, expected: set[str], screenshot: Path) -> list[dict]:
    rendered = render(page, screenshot=screenshot)
    assert rendered.requests == [], f"the report made network requests: {rendered.requests}"
    assert rendered.console_errors == []
    plots = {p["plot"]: p for p in rendered.plots}
    assert expected <= set(plots), f"missing plots: {expected - set(plots)}"
    for p in rendered.plots:
        assert p["width"] > 100 and p["height"] > 60, p          # laid out at a readable size
        assert p["tooltips"] > 0 and p["marks"] == p["tooltips"], p   # every data mark is drawn
    assert screenshot.stat().st_size > 50_000
    return rendered.plots


@pytest.mark.slow
def test_demo_report_renders_offline_with_every_plot_drawn(demo_run, tmp_path):
    chromium()
    folder, _ = demo_run                          # `microseg demo --customers 3000`, run once (conftest)
    page = folder / "report-run-1.html"
    assert page.is_file() and page.stat().st_size < 5_000_000
    plots = check_drawn(page, DEMO_PLOTS, tmp_path / "demo.png")
    assert len(plots) >= len(DEMO_PLOTS)


@pytest.mark.realdata
def test_online_retail_report_renders_offline_with_every_plot_drawn(tmp_path, monkeypatch):
    chromium()
    data = shared_file("online_retail.csv.gz")
    config = tmp_path / "online-retail.toml"
    text = (REPO / "docs" / "examples" / "online-retail.toml").read_text()
    config.write_text(text.replace("../../../shared/data/online_retail.csv.gz", data.as_posix()))
    page = tmp_path / "retail.html"
    result = CliRunner().invoke(cli, ["run", str(config), "--db", str(tmp_path / "retail.db"), "--report", str(page)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    check_drawn(page, {"sizes-rfm", "sizes-geo", "microsegments", "profiles-behaviour", "roc-decline",
                       "lift-decline", "calibration-decline", "grid-decline"}, tmp_path / "retail.png")
