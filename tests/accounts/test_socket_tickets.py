"""POST /api/v1/auth/ws-ticket: a short-lived, single-use ticket a browser opens a WebSocket with.

What a ticket lets in (once, until it expires, with an API key's scopes) is tested on the sockets themselves
in tests/jobs/test_job_sockets.py.
"""
from django.core.cache import cache

from apps.accounts.services import socket_ticket_redeem


def test_a_signed_in_caller_gets_a_ticket_valid_for_thirty_seconds(user_client):
    response = user_client.post("/api/v1/auth/ws-ticket")

    assert response.status_code == 201
    assert response.json()["expires_in"] == 30
    assert len(response.json()["ticket"]) >= 40


def test_an_anonymous_caller_gets_no_ticket(anon_client):
    response = anon_client.post("/api/v1/auth/ws-ticket")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_cache_holds_the_tickets_digest_never_the_ticket(user_client):
    ticket = user_client.post("/api/v1/auth/ws-ticket").json()["ticket"]

    keys = [key.decode() for key in cache._cache.get_client().keys("*")]

    assert any("socket-ticket:" in key for key in keys)
    assert not any(ticket in key for key in keys)


def test_a_ticket_is_redeemed_once(user, user_client):
    ticket = user_client.post("/api/v1/auth/ws-ticket").json()["ticket"]

    first, second = socket_ticket_redeem(ticket), socket_ticket_redeem(ticket)

    assert first[0] == user
    assert second is None
