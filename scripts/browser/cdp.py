"""A tiny Chrome DevTools Protocol client (Python standard library only).

Starts a headless Chromium with a throwaway profile, attaches to its page over a minimal RFC 6455
websocket, and offers what a browser test needs: navigate, evaluate (awaiting promises, values
returned by value), wait until the page says it is ready, type and key presses, screenshots, and the
page's console errors, uncaught exceptions and error log entries collected as they happen (a JavaScript
alert/confirm/prompt, which would block the page, is dismissed and collected as an error too).

    from cdp import Browser
    with Browser() as b:                      # chromium --headless=new … ; killed on exit, profile removed
        b.navigate("data:text/html,<h1>hi</h1>")
        b.evaluate("document.querySelector('h1').textContent")   # 'hi'
        b.screenshot("/tmp/hi.png")
        b.errors                              # [] (console errors, exceptions, Log errors)

The browser is also killed at interpreter exit (atexit) when a test forgets to close it.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class CDPError(RuntimeError):
    """A DevTools command answered with an error, or the page threw while evaluating."""


class WebSocket:
    """A minimal RFC 6455 client: masked text frames out; text, binary, fragmented and large
    (16/64-bit length) frames in; ping answered with pong; close answered and reported."""

    def __init__(self, url: str, timeout: float = 10):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise ValueError(f"only ws:// URLs: {url}")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + (f"?{u.query}" if u.query else "")
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise ConnectionError(f"websocket handshake refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise ConnectionError("websocket handshake: wrong Sec-WebSocket-Accept")
        self.closed = False

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def _need(self, end: int, deadline: float) -> None:
        """Reads from the socket until the buffer holds `end` bytes (TimeoutError at `deadline`)."""
        while len(self.buf) < end:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                raise TimeoutError
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                self.closed = True
                raise ConnectionError("websocket closed by the browser")
            self.buf += chunk

    def recv(self, timeout: float) -> str | None:
        """The next whole message (text; binary decoded as UTF-8), or None when none arrived in
        `timeout` seconds. Bytes stay in the buffer until their whole message is parsed, so a
        message still arriving at the timeout is read whole by the next call."""
        deadline = time.monotonic() + timeout
        pos = 0
        parts: list[bytes] = []
        try:
            while True:
                self._need(pos + 2, deadline)
                b0, b1 = self.buf[pos], self.buf[pos + 1]
                pos += 2
                fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
                if n == 126:
                    self._need(pos + 2, deadline)
                    n = struct.unpack("!H", self.buf[pos:pos + 2])[0]
                    pos += 2
                elif n == 127:
                    self._need(pos + 8, deadline)
                    n = struct.unpack("!Q", self.buf[pos:pos + 8])[0]
                    pos += 8
                mask = None
                if b1 & 0x80:
                    self._need(pos + 4, deadline)
                    mask = self.buf[pos:pos + 4]
                    pos += 4
                self._need(pos + n, deadline)
                payload = self.buf[pos:pos + n]
                pos += n
                if mask:
                    payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
                if opcode == 0x9:                      # ping (may come between fragments)
                    self._send_frame(0xA, payload)
                    continue
                if opcode == 0xA:                      # pong
                    continue
                if opcode == 0x8:                      # close
                    self.closed = True
                    try:
                        self._send_frame(0x8, payload[:2])
                    except OSError:
                        pass
                    raise ConnectionError("websocket closed by the browser")
                parts.append(payload)                  # 0x1 text, 0x2 binary, 0x0 continuation
                if fin:
                    self.buf = self.buf[pos:]
                    return b"".join(parts).decode()
        except TimeoutError:
            return None

    def close(self) -> None:
        if not self.closed:
            try:
                self._send_frame(0x8, struct.pack("!H", 1000))
            except OSError:
                pass
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


class Browser:
    """A headless Chromium driven over the DevTools protocol (one page)."""

    def __init__(self, width: int = 1280, height: int = 800, chromium: str = CHROMIUM, start_timeout: float = 60):
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="swejepa-chromium-")
        self.events: list[dict] = []
        self.errors: list[dict] = []
        self._next_id = 0
        self._stderr_tail: list[str] = []
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--hide-scrollbars",
             "--mute-audio", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-features=Translate,MediaRouter", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        atexit.register(self.close)
        try:
            port = self._devtools_port(start_timeout)
            self.base = f"http://127.0.0.1:{port}"
            self.ws = WebSocket(self._page_ws_url(), timeout=10)
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable")
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            self.close()
            raise

    # ---- start-up ----
    def _devtools_port(self, timeout: float) -> int:
        """The port from stderr's `DevTools listening on ws://…` line (else the profile's
        DevToolsActivePort file); stderr keeps being drained by a thread afterwards."""
        found: dict = {}
        ready = threading.Event()

        def drain():
            for raw in self.proc.stderr:
                line = raw.decode(errors="replace").rstrip()
                self._stderr_tail = (self._stderr_tail + [line])[-50:]
                m = re.search(r"DevTools listening on ws://[^:/]+:(\d+)/", line)
                if m and not ready.is_set():
                    found["port"] = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + timeout
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        while time.monotonic() < deadline:
            if ready.wait(0.1) and "port" in found:
                return found["port"]
            if os.path.exists(port_file):
                first = open(port_file).read().split("\n", 1)[0].strip()
                if first.isdigit():
                    return int(first)
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited ({self.proc.returncode}): " + "\n".join(self._stderr_tail[-10:]))
        raise RuntimeError("chromium did not print its DevTools port in time: " + "\n".join(self._stderr_tail[-10:]))

    def _page_ws_url(self) -> str:
        deadline = time.monotonic() + 10
        while True:
            with urllib.request.urlopen(f"{self.base}/json/list", timeout=5) as r:
                targets = json.load(r)
            pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            if time.monotonic() > deadline:
                req = urllib.request.Request(f"{self.base}/json/new?about:blank", method="PUT")
                with urllib.request.urlopen(req, timeout=5) as r:
                    return json.load(r)["webSocketDebuggerUrl"]
            time.sleep(0.1)

    # ---- protocol ----
    def _handle(self, msg: dict) -> None:
        method = msg.get("method")
        if not method:
            return
        self.events.append(msg)
        p = msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.errors.append({"kind": "console", "text": text, "url": self._url_of(p.get("stackTrace"))})
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.errors.append({"kind": "exception", "text": text, "url": d.get("url", "")})
        elif method == "Page.javascriptDialogOpening":
            # alert/confirm/prompt would block every later evaluate: recorded as an error and dismissed.
            self.errors.append({"kind": f"dialog.{p.get('type', '')}", "text": p.get("message", ""), "url": p.get("url", "")})
            self._next_id += 1
            self.ws.send_text(json.dumps({"id": self._next_id, "method": "Page.handleJavaScriptDialog",
                                          "params": {"accept": False}}))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            self.errors.append({"kind": f"log.{e.get('source', '')}", "text": e.get("text", ""), "url": e.get("url", "")})

    @staticmethod
    def _url_of(stack) -> str:
        frames = (stack or {}).get("callFrames") or []
        return frames[0].get("url", "") if frames else ""

    def _pump(self, timeout: float) -> dict | None:
        text = self.ws.recv(timeout)
        if text is None:
            return None
        msg = json.loads(text)
        self._handle(msg)
        return msg

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        """Sends a command and returns its `result` (events arriving meanwhile are collected)."""
        self._next_id += 1
        mid = self._next_id
        self.ws.send_text(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{method}: no answer in {timeout:g} s")
            msg = self._pump(min(left, 1.0))
            if msg and msg.get("id") == mid:
                if "error" in msg:
                    raise CDPError(f"{method}: {msg['error'].get('message')} {msg['error'].get('data', '')}".strip())
                return msg.get("result", {})

    def pump_events(self, seconds: float = 0.0) -> None:
        """Reads the events that arrive within `seconds` (0: only those already waiting)."""
        deadline = time.monotonic() + seconds
        while True:
            if self._pump(max(0.0, min(0.05, deadline - time.monotonic()))) is None and time.monotonic() >= deadline:
                return

    def wait_event(self, method: str, predicate=lambda p: True, timeout: float = 30, since: int = 0) -> dict:
        """The params of the first event `method` (from index `since` of `events`) satisfying `predicate`."""
        deadline = time.monotonic() + timeout
        i = since
        while True:
            while i < len(self.events):
                e = self.events[i]
                i += 1
                if e.get("method") == method and predicate(e.get("params", {})):
                    return e.get("params", {})
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} event in {timeout:g} s")
            self._pump(min(left, 0.5))

    # ---- page ----
    def evaluate(self, expression: str, await_promise: bool = True, timeout: float = 30):
        """The expression's value (JSON-able, by value); a thrown error raises CDPError."""
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": await_promise,
                                           "returnByValue": True, "userGesture": True}, timeout=timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CDPError(f"evaluate failed: {d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def navigate(self, url: str, timeout: float = 30) -> None:
        """Loads `url`; waits for the load event of a new document (not for a same-document change
        such as a new `#hash`, which fires none)."""
        mark = len(self.events)
        r = self.send("Page.navigate", {"url": url}, timeout=timeout)
        if r.get("errorText"):
            raise CDPError(f"navigate {url}: {r['errorText']}")
        if r.get("loaderId"):
            self.wait_event("Page.loadEventFired", timeout=timeout, since=mark)

    def reload(self, timeout: float = 30) -> None:
        """Reloads the page (a new document) and waits for its load event."""
        mark = len(self.events)
        self.send("Page.reload", {"ignoreCache": True}, timeout=timeout)
        self.wait_event("Page.loadEventFired", timeout=timeout, since=mark)

    def wait_for(self, expression: str, timeout: float = 30, interval: float = 0.1, what: str | None = None):
        """Polls `expression` until it is truthy; returns its value (TimeoutError naming `what`)."""
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            try:
                v = self.evaluate(expression, timeout=max(1.0, deadline - time.monotonic()))
                if v:
                    return v
            except CDPError as e:   # e.g. during a navigation: the context went away
                last_error = e
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout:g} s waiting for {what or expression}"
                                   + (f" (last error: {last_error})" if last_error else ""))
            self.pump_events(interval)

    def wait_ready(self, route: str | None = None, timeout: float = 30) -> None:
        """Waits until the page sets `document.documentElement.dataset.ready === "1"` (and, given,
        `dataset.route === route`)."""
        cond = 'document.documentElement.dataset.ready === "1"'
        if route:
            cond += f" && document.documentElement.dataset.route === {json.dumps(route)}"
        self.wait_for(cond, timeout=timeout, what=f"ready=1" + (f", route={route}" if route else ""))

    def insert_text(self, text: str) -> None:
        """Types `text` into the focused element (as an IME commit: one input event)."""
        self.send("Input.insertText", {"text": text})

    def press(self, key: str = "Enter") -> None:
        codes = {"Enter": (13, "\r"), "Escape": (27, ""), "Tab": (9, "")}
        code, text = codes[key]
        base = {"key": key, "code": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", **base, **({"text": text} if text else {})})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", **base})

    def screenshot(self, path: str) -> str:
        """A PNG of the viewport (width × height) written to `path`."""
        r = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}, timeout=60)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path

    def response_body(self, request_id: str) -> str:
        r = self.send("Network.getResponseBody", {"requestId": request_id})
        return base64.b64decode(r["body"]).decode() if r.get("base64Encoded") else r.get("body", "")

    # ---- shutdown ----
    def close(self) -> None:
        """Closes the browser (politely, then SIGKILL to its process group) and removes the profile."""
        ws = getattr(self, "ws", None)
        if ws is not None and not ws.closed:
            try:
                self._next_id += 1
                ws.send_text(json.dumps({"id": self._next_id, "method": "Browser.close"}))
            except OSError:
                pass
            ws.close()
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)   # its renderers, zygote and GPU process too
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if getattr(self, "profile", None):
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
