"""`MigrationClient`: the Migration Assistant API over HTTP (httpx) and its progress over a WebSocket (websockets)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .errors import MigrationAPIError, WatchClosed
from .models import LogPage, Migration, MigrationStatus, MigrationSummary, Receipt

#: Close codes of the progress socket that mean "you may not watch this", as `WatchClosed` codes.
REFUSALS = {4401: "AUTHENTICATION_REQUIRED", 4403: "INSUFFICIENT_PERMISSIONS", 4404: "MIGRATION_NOT_FOUND",
            4503: "UNAVAILABLE"}


class MigrationClient:
    """A client of one Migration Assistant server.

    Authenticate with `api_key` (sent as `X-API-Key`) or `token` (an access token, sent as a bearer token);
    `tenant` (an id or slug) acts in a tenant other than the caller's default one.
    """

    def __init__(self, base_url: str = "http://localhost:8000", api_key: str | None = None, *,
                 token: str | None = None, tenant: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers: dict[str, str] = {"Accept": "application/json"}
        if api_key:
            self.headers["X-API-Key"] = api_key
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if tenant:
            self.headers["X-Tenant-ID"] = str(tenant)
        self.timeout = timeout
        self.http = httpx.Client(base_url=self.base_url, headers=self.headers, timeout=timeout)
        self.migrations = MigrationsAPI(self)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MigrationClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """The decoded answer of one call; an error answer raises `MigrationAPIError`."""
        response = self.http.request(method, path, json=json_body,
                                     params={k: v for k, v in (params or {}).items() if v is not None})
        if response.is_success:
            return response.json() if response.content else None
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            raise MigrationAPIError(response.status_code, "HTTP_ERROR", response.text[:500]) from None
        raise MigrationAPIError(response.status_code, error.get("code", ""), error.get("message", ""),
                                details=error.get("details"), request_id=error.get("request_id"))

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")

    def system_types(self) -> dict[str, list[str]]:
        return self.request("GET", "/system/types")

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/validate/", json_body=config)

    def socket_url(self, path: str) -> str:
        scheme, netloc, base_path, _, _ = urlsplit(self.base_url)
        return urlunsplit(("wss" if scheme == "https" else "ws", netloc, base_path + path, "", ""))


class MigrationsAPI:
    """`client.migrations`: create, start, watch and steer migration sessions."""

    def __init__(self, client: MigrationClient) -> None:
        self.client = client

    def create(self, config: dict[str, Any]) -> Migration:
        """Create a session from a config (`name`, `source`, `destination`, `transfer`, `safety`, ...)."""
        return Migration.from_dict(self.client.request("POST", "/migrations/", json_body=config))

    def list(self, *, status_filter: str | None = None, limit: int | None = None,
             offset: int | None = None) -> list[MigrationSummary]:
        rows = self.client.request("GET", "/migrations/", params={"status_filter": status_filter, "limit": limit,
                                                                   "offset": offset})
        return [MigrationSummary.from_dict(row) for row in rows]

    def start(self, session_id: str, *, auto_rollback: bool | None = None,
              send_notifications: bool | None = None) -> Receipt:
        body = {k: v for k, v in {"auto_rollback": auto_rollback, "send_notifications": send_notifications}.items()
                if v is not None}
        return Receipt.from_dict(self.client.request("POST", f"/migrations/{session_id}/start", json_body=body))

    def cancel(self, session_id: str) -> Receipt:
        return Receipt.from_dict(self.client.request("POST", f"/migrations/{session_id}/cancel", json_body={}))

    def rollback(self, session_id: str, *, backup_id: str | None = None,
                 rollback_options: dict[str, bool] | None = None) -> Receipt:
        body = {k: v for k, v in {"backup_id": backup_id, "rollback_options": rollback_options}.items()
                if v is not None}
        return Receipt.from_dict(self.client.request("POST", f"/migrations/{session_id}/rollback", json_body=body))

    def get_status(self, session_id: str) -> MigrationStatus:
        return MigrationStatus.from_dict(self.client.request("GET", f"/migrations/{session_id}/status"))

    def logs(self, session_id: str, *, level: str | None = None, limit: int | None = None,
             since: str | None = None) -> LogPage:
        return LogPage.from_dict(self.client.request("GET", f"/migrations/{session_id}/logs",
                                                     params={"level": level, "limit": limit, "since": since}))

    def metrics(self, session_id: str) -> dict[str, Any]:
        return self.client.request("GET", f"/migrations/{session_id}/metrics")

    def watch(self, session_id: str, *, timeout: float | None = 3600) -> Iterator[MigrationStatus]:
        """The session's status live over /ws/migrations/{session_id}: first as it is, then at every change,
        until it reaches a terminal status (completed, failed, cancelled, rolled back), which is yielded last.

        `timeout` bounds the wait for each message (None: no bound); a refusal raises `WatchClosed`.
        """
        url = self.client.socket_url(f"/ws/migrations/{session_id}")
        headers = {name: value for name, value in self.client.headers.items() if name != "Accept"}
        with connect(url, additional_headers=headers, open_timeout=self.client.timeout) as socket:
            while True:
                try:
                    message = socket.recv(timeout=timeout)
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else 1006
                    raise WatchClosed(code, REFUSALS.get(code, "CONNECTION_CLOSED"),
                                      f"The progress socket closed with {code}.",
                                      details={"session_id": session_id}) from None
                update = MigrationStatus.from_dict(json.loads(message))
                yield update
                if update.finished:
                    return
