"""Open a report page in headless Chromium and check what a person would see.

    python -m harness.reporting.browser_check reports/latest/index.html

Needs a Chromium binary (Debian: ``apt-get update && apt-get install -y chromium``);
nothing is downloaded. Chromium is driven through the DevTools protocol over a pipe
(``--remote-debugging-pipe``: no port is opened), with every host name resolving to
nothing, so the page can load only local files.

Problems, one line each, exit status 1 when there is any:

* a console error, an uncaught exception, or a resource that failed to load;
* an image that does not load (checked with every image forced to load);
* horizontal overflow at the check's width (1280 px): the page scrolls sideways, as loaded
  or with every ``<details>`` opened; the widest offending elements are named;
* placeholder text: ``nan``, ``None``, ``undefined`` or ``NaN`` as a whole word in visible
  text (every ``<details>`` opened). Program output quoted verbatim (an element with a
  ``data-verbatim`` attribute, e.g. a port's answer "the port returned NaN ...") is exempt,
  unless the whole element says nothing but a placeholder;
* an in-page link (``href="#x"``) whose target does not exist.

A full-page screenshot is saved next to the page (``screenshot.png``), as loaded; ``--top``
also saves the top of the page (one viewport) to another file.
Exit status 2: the check could not run (no Chromium, page missing, Chromium failed).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install it with: apt-get update && apt-get install -y chromium (or set RNN_PARITY_CHROMIUM)"
WIDTH, HEIGHT = 1280, 900
#: Chromium cannot paint arbitrarily tall screenshots; a longer page is cut here (and said so).
MAX_SCREENSHOT_HEIGHT = 30000
EXIT_OK, EXIT_PROBLEMS, EXIT_CANNOT_CHECK = 0, 1, 2


class CheckError(RuntimeError):
    """The check could not be carried out (as opposed to: the page has problems)."""


def find_chromium() -> str | None:
    explicit = os.environ.get("RNN_PARITY_CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    return next((found for name in BINARIES if (found := shutil.which(name))), None)


class DevTools:
    """A headless Chromium and its DevTools protocol over ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, binary: str, *, width: int, height: int) -> None:
        self.profile = tempfile.mkdtemp(prefix="rnn-parity-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        args = [
            binary, "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}", "--hide-scrollbars", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
            "--disable-features=Translate,MediaRouter,OptimizationHints", "--no-pings",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing but local files can load
            "--allow-file-access-from-files", "about:blank",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run its sandbox as root

        def wire_pipes() -> None:  # in the child: our pipe ends become fds 3 (commands) and 4 (answers)
            high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
            high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)  # dup2 leaves 3 and 4 inheritable; every other fd Python opened is close-on-exec
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, close_fds=False, preexec_fn=wire_pipes)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - closing best effort; kill below
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise CheckError(f"Chromium exited (status {self.proc.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None, *, timeout: float = 60) -> dict:
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise CheckError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method: str, *, timeout: float = 60) -> dict:
        for k, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(k)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("method") == method:
                return message
            if "method" in message:
                self.events.append(message)

    def evaluate(self, session: str, expression: str, *, timeout: float = 60) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                           session, timeout=timeout)
        if "exceptionDetails" in result:
            raise CheckError(f"page script failed: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")


# Runs in the page. Returns what the checks need; opens every <details> on request (and remembers which were closed).
_PAGE_SCRIPT = r"""
async (openAll) => {
  const words = /(^|[^A-Za-z0-9_])(nan|None|undefined|NaN)(?![A-Za-z0-9_])/g;
  const placeholderOnly = /^\s*(nan|None|undefined|NaN)\s*$/;
  if (openAll) {
    window.__closedDetails = [...document.querySelectorAll('details:not([open])')];
    window.__closedDetails.forEach(d => d.open = true);
  }
  await Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.complete ? null : new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); });
  }));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const where = el => { for (let e = el; e; e = e.parentElement) if (e.id) return '#' + e.id; return 'the page'; };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const root = document.documentElement, viewport = root.clientWidth;
  const out = {viewport, scrollWidth: root.scrollWidth, wide: [], images: [], placeholders: [], anchors: []};
  if (root.scrollWidth > viewport + 1) {
    for (const el of document.body.querySelectorAll('*')) {
      const right = el.getBoundingClientRect().right, parent = el.parentElement;
      if (right > viewport + 1 && parent && parent.getBoundingClientRect().right <= viewport + 1)
        out.wide.push(`${describe(el)} in ${where(el)} reaches ${Math.round(right)} px`);
    }
  }
  for (const img of document.images)
    if (!img.complete || img.naturalWidth === 0) out.images.push(`${img.getAttribute('src')} in ${where(img)}`);
  if (openAll) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || el.closest('script,style,template')) continue;
      if (!el.getClientRects().length) continue;  // not rendered
      const verbatim = el.closest('[data-verbatim]');
      if (verbatim && !placeholderOnly.test(verbatim.textContent)) continue;
      for (const m of node.textContent.matchAll(words)) {
        const at = m.index + m[1].length, text = node.textContent;
        const context = text.slice(Math.max(0, at - 40), at + m[2].length + 40).replace(/\s+/g, ' ').trim();
        out.placeholders.push(`"${m[2]}" in ${where(el)}: "${context}"`);
      }
    }
    for (const a of document.querySelectorAll('a[href^="#"]')) {
      const id = decodeURIComponent(a.getAttribute('href').slice(1));
      if (id && !document.getElementById(id)) out.anchors.push(`${a.getAttribute('href')} in ${where(a)}`);
    }
  }
  return out;
}
"""

_RESTORE_SCRIPT = "(() => { (window.__closedDetails || []).forEach(d => d.open = false); window.scrollTo(0, 0); return true; })()"


def _console_problems(events: list[dict[str, Any]]) -> list[str]:
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            problems.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            problems.append(f"uncaught exception: {text}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            problems.append(f"console error: {entry.get('text')}" + (f" ({entry['url']})" if entry.get("url") else ""))
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"failed to load ({params.get('errorText')}): request {params.get('requestId')}")
    return list(dict.fromkeys(problems))


def _screenshot(tools: DevTools, session: str, path: Path, *, width: int, height: int | None) -> tuple[int, bool]:
    """Save a PNG of the page from the top: ``height`` px, or the whole page. Returns (height, cut)."""
    metrics = tools.call("Page.getLayoutMetrics", session=session)
    size = metrics.get("cssContentSize") or metrics.get("contentSize")
    full = int(size["height"]) + 1
    wanted = full if height is None else min(height, full)
    cut = wanted > MAX_SCREENSHOT_HEIGHT
    wanted = min(wanted, MAX_SCREENSHOT_HEIGHT)
    shot = tools.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                 "clip": {"x": 0, "y": 0, "width": width, "height": wanted, "scale": 1}},
                      session, timeout=120)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return wanted, cut


def check_page(page: Path, *, width: int = WIDTH, screenshot: Path | None = None, top: Path | None = None,
               top_height: int = HEIGHT, binary: str | None = None, timeout: float = 120) -> tuple[list[str], dict]:
    """Check ``page``; returns (problems, facts). Raises :class:`CheckError` when it cannot check."""
    page = Path(page).resolve()
    if not page.is_file():
        raise CheckError(f"{page}: no such page")
    binary = binary or find_chromium()
    if not binary:
        raise CheckError(f"no Chromium on PATH ({', '.join(BINARIES)}): {INSTALL_HINT}")
    tools = DevTools(binary, width=width, height=HEIGHT)
    facts: dict[str, Any] = {}
    try:
        target = tools.call("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
        session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.call(f"{domain}.enable", session=session)
        tools.call("Emulation.setDeviceMetricsOverride",
                   {"width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session)
        tools.call("Page.navigate", {"url": page.as_uri()}, session)
        tools.wait_for("Page.loadEventFired", timeout=timeout)
        as_loaded = tools.evaluate(session, f"({_PAGE_SCRIPT})(false)", timeout=timeout)
        opened = tools.evaluate(session, f"({_PAGE_SCRIPT})(true)", timeout=timeout)
        tools.evaluate(session, _RESTORE_SCRIPT)
        time.sleep(0.2)  # let late console messages arrive
        tools.call("Runtime.evaluate", {"expression": "1"}, session)
        problems = _console_problems(tools.events)
        problems += [f"image does not load: {src}" for src in dict.fromkeys(as_loaded["images"] + opened["images"])]
        for state, result in (("as loaded", as_loaded), ("with every <details> open", opened)):
            if result["scrollWidth"] > result["viewport"] + 1:
                culprits = "; ".join(result["wide"][:3]) or "no single element found"
                problems.append(f"horizontal overflow at {width} px {state}: the page is {result['scrollWidth']} px wide "
                                f"({culprits})")
        problems += [f"placeholder text {p}" for p in dict.fromkeys(opened["placeholders"])]
        problems += [f"in-page link to nothing: {a}" for a in dict.fromkeys(opened["anchors"])]
        if screenshot is not None:
            facts["screenshot_height"], facts["screenshot_cut"] = _screenshot(tools, session, screenshot, width=width,
                                                                              height=None)
        if top is not None:
            _screenshot(tools, session, top, width=width, height=top_height)
        facts["page_height"] = int(tools.call("Page.getLayoutMetrics", session=session)
                                   .get("cssContentSize", {}).get("height", 0))
    finally:
        tools.close()
    return problems, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.reporting.browser_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path, help="the report page, e.g. reports/latest/index.html")
    parser.add_argument("--width", type=int, default=WIDTH, help=f"viewport width in CSS px (default {WIDTH})")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="full-page screenshot path (default: screenshot.png next to the page)")
    parser.add_argument("--no-screenshot", action="store_true")
    parser.add_argument("--top", type=Path, default=None, help="also save the top of the page (width x --top-height)")
    parser.add_argument("--top-height", type=int, default=HEIGHT)
    args = parser.parse_args(argv)
    page = args.page.resolve()  # reports/latest is a symlink: the screenshot goes into the run itself
    shot = None if args.no_screenshot else (args.screenshot or page.parent / "screenshot.png")
    started = time.monotonic()
    try:
        problems, facts = check_page(page, width=args.width, screenshot=shot, top=args.top, top_height=args.top_height)
    except CheckError as exc:
        print(f"report-check: cannot check {args.page}: {exc}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    for problem in problems:
        print(f"report-check: {problem}")
    where = f"; screenshot {shot}" if shot else ""
    if facts.get("screenshot_cut"):
        where += f" (cut at {MAX_SCREENSHOT_HEIGHT} px of {facts.get('page_height')})"
    seconds = time.monotonic() - started
    if problems:
        print(f"report-check: {len(problems)} problem(s) in {args.page} at {args.width} px{where}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"report-check: OK {args.page} at {args.width} px: no console error, every image loads, no horizontal "
          f"overflow, no placeholder text ({seconds:.1f} s{where})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
