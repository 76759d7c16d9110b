"""`github_settings`: TESSERA_GITHUB, where GitHub is and how Tessera signs in to it."""
from apps.api.conf import AppSettings

github_settings = AppSettings("TESSERA_GITHUB", check_id="github.E001", defaults={
    # Base URLs: GitHub's REST API, and the site that serves OAuth authorization and token exchange. Tests and
    # GitHub Enterprise point these elsewhere.
    "API_URL": "https://api.github.com",
    "OAUTH_URL": "https://github.com",
    # The OAuth app of this deployment (empty: GitHub sign-in is off). The secret is a credential: keep it in the
    # environment, never in code.
    "CLIENT_ID": "",
    "CLIENT_SECRET": "",
    # Where GitHub sends the browser back after sign-in (empty: /api/v1/auth/github/callback on the host the login
    # request came to). It must be the callback URL registered with the OAuth app.
    "CALLBACK_URL": "",
    # A token for syncing issues and pull requests (empty: anonymous, public repositories only).
    "TOKEN": "",
    # Seconds to wait for GitHub on each call.
    "TIMEOUT": 10,
})
