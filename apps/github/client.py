"""The one GitHub client: the REST calls sync needs and the OAuth web flow, against configurable base URLs.

Errors come out as `GitHubError` with a message fit for an API response: never a token, never GitHub's body.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from .conf import github_settings

API_VERSION = "2022-11-28"
PAGE_SIZE = 100
MAX_PAGES = 20


class GitHubError(Exception):
    """GitHub refused or could not be reached. `status` is GitHub's HTTP status, or None when unreachable."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHub:
    def __init__(self, token: str | None = None) -> None:
        self.token = token if token is not None else github_settings.TOKEN

    # --- REST -------------------------------------------------------------------------------------------------
    def pull_request(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        return self._get(f"/repos/{owner}/{repo}/pulls/{number}")

    def issues(self, owner: str, repo: str) -> list[dict[str, Any]]:
        """Every issue of the repository, open and closed; GitHub lists pull requests as issues too, which are left
        out."""
        items = self._pages(f"/repos/{owner}/{repo}/issues", {"state": "all"})
        return [item for item in items if "pull_request" not in item]

    def pull_requests(self, owner: str, repo: str) -> list[dict[str, Any]]:
        return self._pages(f"/repos/{owner}/{repo}/pulls", {"state": "all"})

    # --- OAuth web flow ---------------------------------------------------------------------------------------
    @staticmethod
    def authorize_url(*, state: str, redirect_uri: str) -> str:
        query = urlencode({"client_id": github_settings.CLIENT_ID, "redirect_uri": redirect_uri,
                           "scope": "read:user user:email", "state": state, "allow_signup": "false"})
        return f"{github_settings.OAUTH_URL}/login/oauth/authorize?{query}"

    @staticmethod
    def exchange_code(code: str, *, redirect_uri: str) -> str:
        """The user's access token for an authorization code."""
        body = _call("POST", f"{github_settings.OAUTH_URL}/login/oauth/access_token", headers={
            "Accept": "application/json"}, data={"client_id": github_settings.CLIENT_ID,
                                                 "client_secret": github_settings.CLIENT_SECRET, "code": code,
                                                 "redirect_uri": redirect_uri})
        if not isinstance(body, dict) or "access_token" not in body:
            raise GitHubError("GitHub did not accept the authorization code.", status=400)
        return body["access_token"]

    def user(self) -> dict[str, Any]:
        return self._get("/user")

    def emails(self) -> list[dict[str, Any]]:
        return self._get("/user/emails")

    # --- plumbing ---------------------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return _call("GET", f"{github_settings.API_URL}{path}", headers=self._headers(), params=params)

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            batch = self._get(path, {**params, "per_page": PAGE_SIZE, "page": page})
            items += batch
            if len(batch) < PAGE_SIZE:
                break
        return items


def _call(method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = httpx.request(method, url, timeout=github_settings.TIMEOUT, **kwargs)
    except httpx.HTTPError:
        raise GitHubError("GitHub could not be reached.") from None
    if response.status_code == 404:
        raise GitHubError("GitHub has no such repository, issue or pull request (or it is private).", status=404)
    if response.status_code >= 400:
        raise GitHubError(f"GitHub answered {response.status_code}.", status=response.status_code)
    try:
        return response.json()
    except ValueError:
        raise GitHubError("GitHub answered something that is not JSON.", status=response.status_code) from None
