"""`accounts_settings`: TESSERA_ACCOUNTS, the limits of signing in, with their defaults."""
from apps.api.conf import AppSettings

accounts_settings = AppSettings("TESSERA_ACCOUNTS", check_id="accounts.E001", defaults={
    # Sign-in attempts allowed per email and per client address, whatever the outcome ("" turns one off).
    "LOGIN_RATE_PER_EMAIL": "10/h",
    "LOGIN_RATE_PER_IP": "50/h",
    # How long a one-time WebSocket ticket (POST /auth/ws-ticket) may wait to be used.
    "SOCKET_TICKET_SECONDS": 30,
})
