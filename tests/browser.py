"""A minimal Chrome DevTools Protocol client: render a local page in headless Chromium, offline, and report what
a person would see: the DOM (by a script run in the page), console messages and errors, requests, a screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-sync", "--remote-debugging-port=0", "--hide-scrollbars"]  # fmt: skip


def chromium_path() -> str | None:
    """$CHROMIUM, else Debian's chromium, else a chromium/chrome on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):  # fmt: skip
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@dataclass
class Rendered:
    value: object  # what the probe expression returned
    console: list[str] = field(default_factory=list)  # every console message, "level: text"
    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    screenshot: Path | None = None


class _Session:
    def __init__(self, socket) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future] = {}
        self.events: list[dict] = []
        self.loaded = asyncio.Event()

    async def pump(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message and message["id"] in self.waiting:
                self.waiting.pop(message["id"]).set_result(message)
            elif "method" in message:
                self.events.append(message)
                if message["method"] == "Page.loadEventFired":
                    self.loaded.set()

    async def call(self, method: str, session_id: str | None = None, **params) -> dict:
        number = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.waiting[number] = future
        message = {"id": number, "method": method, "params": params}
        if session_id:
            message["sessionId"] = session_id
        await self.socket.send(json.dumps(message))
        answer = await asyncio.wait_for(future, 60)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})


def _devtools_url(process: subprocess.Popen, profile: Path, timeout: float) -> str:
    """The browser's websocket address, from the DevToolsActivePort file Chromium writes when it is ready."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with status {process.returncode}")
        lines = port_file.read_text().split("\n") if port_file.exists() else []
        if len(lines) >= 2 and lines[1].strip():
            return f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
        time.sleep(0.05)
    raise TimeoutError(f"chromium did not open its DevTools port within {timeout:.0f}s")


def render(page: Path, probe: str, screenshot: Path | None = None, width: int = 1280, timeout: float = 60) -> Rendered:
    """Open `page` (a local file) offline in headless Chromium, run the JavaScript expression `probe` once the
    page has loaded, and collect console output, errors and requests; optionally save a full-page PNG."""
    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("no Chromium found (set CHROMIUM or install Debian's chromium)")
    with tempfile.TemporaryDirectory(prefix="wirecopy-chromium-") as profile:
        command = [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            url = _devtools_url(process, Path(profile), timeout)
            return asyncio.run(asyncio.wait_for(_render(url, page, probe, screenshot, width), timeout))
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop Chromium and every helper process it started (its own session): until they are all gone, they may
    still write into the profile folder, which then cannot be removed."""
    group = process.pid
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while _live_members(group) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _live_members(group) and process.poll() is not None:
            return
    raise TimeoutError(f"chromium's processes (group {group}) did not stop")


def _live_members(group: int) -> list[int]:
    """Processes of the process group that are not zombies (whose exit nobody has collected yet)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) ": state, ppid, pgrp, ...
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


async def _render(url: str, page: Path, probe: str, screenshot: Path | None, width: int) -> Rendered:
    async with websockets.connect(url, max_size=256 * 1024 * 1024) as socket:
        cdp = _Session(socket)
        pump = asyncio.create_task(cdp.pump())
        try:
            target = (await cdp.call("Target.createTarget", url="about:blank"))["targetId"]
            sid = (await cdp.call("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                await cdp.call(f"{domain}.enable", sid)
            await cdp.call("Network.emulateNetworkConditions", sid, offline=True, latency=0,
                           downloadThroughput=-1, uploadThroughput=-1)  # fmt: skip
            await cdp.call("Emulation.setDeviceMetricsOverride", sid, width=width, height=900, deviceScaleFactor=1,
                           mobile=False)  # fmt: skip
            navigation = await cdp.call("Page.navigate", sid, url=page.absolute().as_uri())
            if navigation.get("errorText"):
                raise RuntimeError(f"could not open {page}: {navigation['errorText']}")
            await asyncio.wait_for(cdp.loaded.wait(), 60)  # the whole render is bounded too
            evaluated = await cdp.call("Runtime.evaluate", sid, expression=probe, returnByValue=True)
            if "exceptionDetails" in evaluated:
                raise RuntimeError(f"probe failed: {evaluated['exceptionDetails']}")
            result = Rendered(value=evaluated["result"].get("value"))
            if screenshot is not None:
                size = (await cdp.call("Page.getLayoutMetrics", sid))["cssContentSize"]
                height = min(int(size["height"]) + 1, 16000)
                await cdp.call("Emulation.setDeviceMetricsOverride", sid, width=width, height=height,
                               deviceScaleFactor=1, mobile=False)  # fmt: skip
                shot = await cdp.call("Page.captureScreenshot", sid, format="png")
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                result.screenshot = screenshot
            await cdp.call("Runtime.evaluate", sid, expression="0")  # events sent before this answer are in
        finally:
            pump.cancel()
    _collect(cdp.events, result)
    return result


def _collect(events: list[dict], result: Rendered) -> None:
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            result.console.append(f"{params['type']}: {text}")
            if params["type"] in ("error", "assert"):
                result.errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            result.errors.append(f"uncaught: {details.get('exception', {}).get('description', details.get('text'))}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            result.console.append(f"{entry['level']}: {entry['text']}")
            if entry["level"] == "error":
                result.errors.append(f"log: {entry['text']} ({entry.get('url', '')})")
        elif method == "Network.requestWillBeSent":
            result.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            result.errors.append(f"load failed: {params.get('errorText')}")
