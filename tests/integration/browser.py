"""A real browser for the HTML report's tests: headless Chromium driven over
the DevTools protocol on ``--remote-debugging-pipe`` (fd 3: commands in,
fd 4: replies and events out, each a JSON text ended by a NUL byte), with
only the standard library.

``load(path)`` opens a file, waits for its load event (and one animation
frame after it), and returns what the page did: the rendered DOM, the
errors it raised or logged (uncaught exceptions, ``console.error`` and
``console.assert`` calls, and the browser's own error log entries such as
failed loads), and every URL it requested.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0  # seconds for a whole page load, start-up included


def find() -> str | None:
    """The first Chromium on PATH, or None."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageLoad:
    dom: str = ""
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class _Pipe:
    """The protocol over the two pipes, one command at a time."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self._w, self._r, self._deadline = write_fd, read_fd, deadline
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise EOFError("the browser closed its DevTools pipe")
            self._buf += chunk
        text, _, self._buf = self._buf.partition(b"\0")
        message: dict[str, Any] = json.loads(text)
        return message

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        os.write(self._w, json.dumps(command).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method: str, session: str) -> None:
        while True:
            for event in self.events:
                if event["method"] == method and event.get("sessionId") == session:
                    return
            message = self._message()
            if "method" in message:
                self.events.append(message)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            found.append(f"uncaught: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = [a.get("value", a.get("description")) for a in params.get("args", [])]
            found.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
    return found


def _reap(pid: int, deadline: float) -> None:
    """Wait for the browser to exit until deadline, then kill it."""
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def load(browser: str, page: Path, timeout: float = TIMEOUT) -> PageLoad:
    """Load ``page`` in a fresh headless ``browser`` and report what it did."""
    deadline = time.monotonic() + timeout
    cmd_r, cmd_w = os.pipe()
    out_r, out_w = os.pipe()
    # the browser's ends, moved above 4 so that placing one cannot close the other
    for fd in (cmd_r, out_w):
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        if fd == cmd_r:
            cmd_r = high
        else:
            out_w = high
    with tempfile.TemporaryDirectory(prefix="gcp-chromium-") as profile:
        argv = [
            browser,
            "--headless",
            "--no-sandbox",  # as root in a container there is no sandbox to have
            "--disable-gpu",
            "--disable-dev-shm-usage",  # containers' /dev/shm is small
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        log = Path(profile) / "stderr.txt"
        # posix_spawn puts the protocol's ends on 3 and 4 (no Python code
        # runs between fork and exec); every other fd of ours is close-on-exec
        pid = os.posix_spawn(
            browser,
            argv,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                (os.POSIX_SPAWN_DUP2, 1, 2),
                (os.POSIX_SPAWN_DUP2, cmd_r, 3),
                (os.POSIX_SPAWN_DUP2, out_w, 4),
            ],
        )
        os.close(cmd_r)
        os.close(out_w)
        try:
            pipe = _Pipe(cmd_w, out_r, deadline)
            target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
            session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Runtime", "Log", "Page", "Network"):
                pipe.call(f"{domain}.enable", session)
            pipe.call("Page.navigate", session, url=page.resolve().as_uri())
            pipe.wait_event("Page.loadEventFired", session)
            pipe.call(
                "Runtime.evaluate",
                session,
                expression="new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))",
                awaitPromise=True,
            )
            dom = pipe.call(
                "Runtime.evaluate",
                session,
                expression="document.documentElement.outerHTML",
                returnByValue=True,
            )["result"]["value"]
            result = PageLoad(
                dom=dom,
                errors=_errors(pipe.events),
                requests=[
                    e["params"]["request"]["url"]
                    for e in pipe.events
                    if e["method"] == "Network.requestWillBeSent"
                ],
            )
            with contextlib.suppress(EOFError, TimeoutError, RuntimeError):
                pipe.call("Browser.close")
            return result
        except (EOFError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}; the browser's stderr:\n{log.read_text()[-4000:]}") from exc
        finally:
            os.close(cmd_w)
            os.close(out_r)
            _reap(pid, time.monotonic() + 10)
