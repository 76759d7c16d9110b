"""A small external agent service for tests, speaking Tessera's side of the protocol: it accepts a run POSTed
with the bearer secret and works on it in a thread, reporting progress, log lines and the outcome back through
the API with its `agent`-role API key, as a real service would."""
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse


class AgentService:
    def __init__(self, url: str, *, secret: str, api_key: str, api_url: str, outcome: dict,
                 work_seconds: float = 0.0) -> None:
        self.secret, self.api_key, self.api_url, self.outcome = secret, api_key, api_url, outcome
        self.work_seconds = work_seconds
        self.runs: list[dict] = []
        self.reports: list[tuple[int, dict]] = []
        self.refused = 0
        address = urlparse(url)
        self.server = ThreadingHTTPServer((address.hostname, address.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "AgentService":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def report(self, path: str, body: dict) -> int:
        request = urllib.request.Request(f"{self.api_url}{path}", data=json.dumps(body).encode(), method="POST",
                                         headers={"X-API-Key": self.api_key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.reports.append((status, body))
        return status

    def work(self, payload: dict) -> None:
        path = payload["report_path"]
        if self.report(path, {"progress": 40, "step": "reading", "message": "Read the issue."}) != 200:
            return
        deadline = time.monotonic() + self.work_seconds
        while time.monotonic() < deadline:  # a long job: stop as soon as Tessera says the run is gone
            if self.report(path, {"progress": 50, "message": "Still working."}) != 200:
                return
            time.sleep(0.2)
        self.report(path, {"progress": 100, "message": "Done.", **self.outcome})

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Authorization") != f"Bearer {service.secret}":
                    service.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                payload = json.loads(body)
                service.runs.append(payload)
                self.send_response(202)
                self.end_headers()
                threading.Thread(target=service.work, args=(payload,), daemon=True).start()

        return Handler
