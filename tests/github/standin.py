"""A local HTTP server that speaks the shapes of GitHub's REST API and OAuth web flow, for tests: no test reaches
the internet. It serves what a test puts in `repositories`, `users` and `codes`, and records requests."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest


class GitHubStandIn:
    def __init__(self) -> None:
        #: "owner/name" -> {"issues": [...], "pulls": {number: {...}}}
        self.repositories: dict[str, dict] = {}
        #: access token -> {"user": {...}, "emails": [...]}
        self.users: dict[str, dict] = {}
        #: authorization code -> access token
        self.codes: dict[str, str] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "GitHubStandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                standin.requests.append(("GET", url.path, dict(self.headers)))
                parts = url.path.strip("/").split("/")
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if parts[:1] == ["user"]:
                    account = standin.users.get(token)
                    if account is None:
                        return self.answer(401, {"message": "Bad credentials"})
                    return self.answer(200, account["emails"] if parts[1:] == ["emails"] else account["user"])
                if parts[:1] == ["repos"] and len(parts) >= 4:
                    repository = standin.repositories.get(f"{parts[1]}/{parts[2]}")
                    if repository is None:
                        return self.answer(404, {"message": "Not Found"})
                    page = int(parse_qs(url.query).get("page", ["1"])[0])
                    per_page = int(parse_qs(url.query).get("per_page", ["30"])[0])
                    if parts[3] == "issues":
                        return self.answer(200, repository["issues"][(page - 1) * per_page:page * per_page])
                    if parts[3] == "pulls" and len(parts) == 5:
                        pull = repository["pulls"].get(int(parts[4]))
                        return self.answer(200, pull) if pull else self.answer(404, {"message": "Not Found"})
                return self.answer(404, {"message": "Not Found"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                body = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                standin.requests.append(("POST", url.path, {k: v[0] for k, v in body.items()}))
                if url.path == "/login/oauth/access_token":
                    token = standin.codes.pop(body.get("code", [""])[0], None)
                    if token is None:  # GitHub answers 200 with an error object
                        return self.answer(200, {"error": "bad_verification_code"})
                    return self.answer(200, {"access_token": token, "token_type": "bearer", "scope": "user:email"})
                return self.answer(404, {"message": "Not Found"})

            def answer(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def github_pull(number: int, *, title: str, base: str = "main", head: str = "feature", state: str = "open",
                merged: bool = False, login: str = "octocat") -> dict:
    """A pull request as GitHub's REST API returns it (the fields Tessera reads, and a few it ignores)."""
    return {"number": number, "title": title, "body": f"Body of {title}", "state": state,
            "merged_at": "2026-01-02T03:04:05Z" if merged else None, "user": {"login": login, "id": 1},
            "base": {"ref": base, "sha": "a" * 40}, "head": {"ref": head, "sha": "b" * 40},
            "additions": 10, "deletions": 2, "changed_files": 3, "html_url": f"https://github.com/pr/{number}"}


def github_issue(number: int, *, title: str, state: str = "open", labels=(), state_reason=None,
                 closed_at=None) -> dict:
    return {"number": number, "title": title, "body": f"Body of {title}", "state": state,
            "state_reason": state_reason, "closed_at": closed_at, "labels": [{"name": name} for name in labels],
            "user": {"login": "octocat"}}


@pytest.fixture
def github(settings):
    """The local GitHub stand-in, with the deployment's GitHub settings pointing at it."""
    with GitHubStandIn() as standin:
        settings.TESSERA_GITHUB = {"API_URL": standin.url, "OAUTH_URL": standin.url, "CLIENT_ID": "client-1",
                                   "CLIENT_SECRET": "client-secret-1", "TOKEN": ""}
        yield standin
