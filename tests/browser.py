"""Headless Chromium over the DevTools protocol (``--remote-debugging-pipe``: no extra package).

``render(path)`` opens a local HTML file in a fresh profile, records every network request the
page makes, measures each ``[data-plot]`` element's drawn marks once layout is done, and can take
a full-page screenshot. Tests skip with a reason where Chromium is absent.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe",
         "--window-size=1280,900"]

#: per [data-plot]: the svg's box and how many data marks (elements carrying a tooltip) are drawn
MEASURE = """(() => Array.from(document.querySelectorAll('[data-plot]')).map(el => {
  const svg = el.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  let marks = 0;
  if (svg) for (const title of svg.querySelectorAll('g > title')) {
    for (const m of title.parentElement.querySelectorAll('path, rect, use, text, line, polyline')) {
      const b = m.getBoundingClientRect(); const cs = getComputedStyle(m);
      if ((b.width > 0 || b.height > 0) && cs.visibility !== 'hidden' && cs.display !== 'none') { marks++; break; }
    }
  }
  return {plot: el.dataset.plot, width: box.width, height: box.height, marks: marks,
          tooltips: svg ? svg.querySelectorAll('g > title').length : 0};
}))()"""


def chromium() -> str:
    """The Chromium binary, or skip the test with the reason."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium); the browser check needs it")


@dataclass
class Rendered:
    plots: list[dict[str, Any]]
    requests: list[str] = field(default_factory=list)
    title: str = ""
    console_errors: list[str] = field(default_factory=list)


def _high(fd: int) -> int:
    """``fd`` moved above 9, so the child's dup2 onto 3 and 4 cannot overwrite it."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class _Pipe:
    def __init__(self, binary: str, profile: str) -> None:
        to_chrome_r, self._to_chrome = (_high(fd) for fd in os.pipe())
        self._from_chrome, from_chrome_w = (_high(fd) for fd in os.pipe())
        # Chromium reads commands on fd 3 and writes answers on fd 4
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(3, 4),
            preexec_fn=lambda: (os.dup2(to_chrome_r, 3), os.dup2(from_chrome_w, 4)))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next, self._buf, self.events = 0, b"", []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for reply in self._read(deadline):
                if reply.get("id") == self._next:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.extend(self._read(deadline))

    def _read(self, deadline: float) -> list[dict]:
        if time.monotonic() > deadline:
            raise TimeoutError("Chromium did not answer in time")
        chunk = os.read(self._from_chrome, 1 << 20)
        if not chunk:
            raise RuntimeError("Chromium closed the DevTools pipe")
        self._buf += chunk
        *messages, self._buf = self._buf.split(b"\0")
        return [json.loads(m) for m in messages if m]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - it is going away anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def render(path: Path, screenshot: Path | None = None, width: int = 1280) -> Rendered:
    """Open ``path`` in headless Chromium; return its plots' measurements and every request made."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="microseg-chromium-") as profile:
        pipe = _Pipe(binary, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            url = path.resolve().as_uri()
            pipe.send("Page.navigate", {"url": url}, session=session)
            pipe.wait_for("Page.loadEventFired")
            pipe.send("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => true)",
                                           "awaitPromise": True}, session=session)
            plots = pipe.send("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True},
                              session=session)["result"]["value"]
            title = pipe.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True},
                              session=session)["result"]["value"]
            if screenshot is not None:
                size = pipe.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
                pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": int(size["height"]),
                                                                 "deviceScaleFactor": 1, "mobile": False},
                          session=session)
                shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            requests = [e["params"]["request"]["url"] for e in pipe.events
                        if e.get("method") == "Network.requestWillBeSent" and e["params"]["request"]["url"] != url]
            errors = [e["params"]["entry"]["text"] for e in pipe.events
                      if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
        finally:
            pipe.close()
    return Rendered(plots=plots, requests=requests, title=title, console_errors=errors)
