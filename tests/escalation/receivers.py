"""Real receivers on loopback shared by the escalation tests and the benchmark.

`HttpReceiver` is a threaded HTTP/1.1 server (keep-alive, like real webhook endpoints) that
records every request, answers from a script of status codes, and can go down and come back
on the same port. `SmtpSink` is aiosmtpd with STARTTLS and AUTH required.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"status": "success"}'
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], receiver: HttpReceiver) -> None:
        self.receiver = receiver
        self.open_sockets: set[socket.socket] = set()
        super().__init__(addr, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.receiver.lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.receiver.lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each response would wait for
    # the client's delayed ACK (~40 ms), which no real webhook endpoint does.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        rec = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if rec.is_down:  # a connection that was open when we went down: drop it, no answer
            self.close_connection = True
            return
        reply = rec.next_reply(self.path, dict(self.headers.items()), body)
        with rec.lock:
            rec.requests.append(Received(self.path, dict(self.headers.items()), body,
                                         reply.status))
            if 200 <= reply.status < 300:
                key = self.headers.get("Idempotency-Key")
                if key:
                    rec.accepted[key] += 1
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_PUT = do_POST

    def do_GET(self) -> None:
        """GET /_stats: what was accepted, for a receiver running in another process."""
        rec = self.server.receiver
        with rec.lock:
            body = json.dumps({"requests": len(rec.requests),
                               "accepted": dict(rec.accepted)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HttpReceiver:
    """A loopback HTTP receiver. `script` replies are used in order, then `default`."""

    def __init__(self, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.accepted: Counter[str] = Counter()
        self.script: list[Reply] = []
        self.default = Reply()
        self.responder: Callable[[str, dict[str, str], bytes], Reply | None] | None = None
        self.is_down = False
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def next_reply(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if self.responder is not None:
            reply = self.responder(path, headers, body)
            if reply is not None:
                return reply
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def start(self) -> HttpReceiver:
        self._server = _Server(("127.0.0.1", self._port), self)
        self._port = self._server.server_address[1]
        self.is_down = False
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop listening and cut open keep-alive connections: clients get refused/reset."""
        self.is_down = True
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self.lock:
            sockets = list(self._server.open_sockets)
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self._server = None

    def up(self) -> None:
        """Listen again on the same port."""
        self.start()

    stop = down

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.02)
        with self.lock:
            return list(self.requests)

    def __enter__(self) -> HttpReceiver:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.down()


# --- SMTP ----------------------------------------------------------------------------------


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost made with the openssl command line."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True)
    return cert, key


class SmtpSink:
    """aiosmtpd on loopback requiring STARTTLS and AUTH; keeps every message received."""

    def __init__(self, cert: Path, key: Path, user: str, password: str) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.auth_attempts: list[str] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(message_from_bytes(envelope.original_content))
                sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            sink.auth_attempts.append("ok" if ok else "failed")
            return AuthResult(success=ok, handled=False)

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, tls_context=context,
            require_starttls=True, authenticator=authenticator, auth_require_tls=True,
            ready_timeout=5.0)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


if __name__ == "__main__":  # a receiver in its own process (the benchmark uses this)
    import sys

    receiver = HttpReceiver(int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print(receiver.port, flush=True)
    threading.Event().wait()
