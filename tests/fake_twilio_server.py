"""A small HTTP server that answers the Messages API as Twilio does, for testing the Twilio adapter through the
real twilio SDK: Basic auth with the account SID and token, form-encoded requests, JSON answers, Twilio's error
documents for magic numbers, and 503s on demand."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


class FakeTwilioServer:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.received: list[dict[str, str]] = []
        self.unavailable = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                match = MESSAGES_PATH.match(self.path)
                if not match or match["sid"] != server.account_sid:
                    return self._answer(404, {"code": 20404, "message": "The requested resource was not found"})
                expected = base64.b64encode(f"{server.account_sid}:{server.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                if server.unavailable:
                    return self._answer(503, {"code": 20503, "message": "Service unavailable"})
                length = int(self.headers.get("Content-Length", 0))
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                server.received.append(form)
                if form.get("To") == "+15005550001":
                    return self._answer(400, {"code": 21211, "message": "The 'To' number is not valid."})
                return self._answer(
                    201,
                    {
                        "sid": "SM" + secrets.token_hex(16),
                        "account_sid": server.account_sid,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                        "status_callback": form.get("StatusCallback"),
                    },
                )

            def _answer(self, status: int, body: dict[str, object]) -> None:
                if status >= 400:
                    body = {**body, "status": status, "more_info": f"https://www.twilio.com/docs/errors/{body['code']}"}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeTwilioServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
