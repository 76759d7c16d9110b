"""Refresh rotation under attack, against a real server process: concurrent uses of one refresh token, and the
reuse of a rotated one (OAuth 2.0 Security BCP: reuse ends the whole chain)."""
import json
import threading

import pytest

from tests.conftest import PASSWORD

CONCURRENT_USES = 12
ROUNDS = 6


@pytest.fixture
def server(start_server):
    return start_server(API_ANON_THROTTLE="10000/m", LOGIN_RATE_PER_EMAIL="1000/h", LOGIN_RATE_PER_IP="1000/h")


def post(server, path: str, body: dict, access: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {access}"} if access else {})}
    status, _, content = server.request("POST", path, body=json.dumps(body).encode(), headers=headers)
    return status, json.loads(content) if content else {}


def sign_in(server, user) -> dict:
    status, pair = post(server, "/api/v1/auth/token", {"email": user.email, "password": PASSWORD})
    assert status == 200, pair
    return pair


def refresh(server, token: str) -> tuple[int, dict]:
    return post(server, "/api/v1/auth/token/refresh", {"refresh": token})


def me(server, access: str) -> int:
    return server.request("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})[0]


def race(server, token: str) -> list[tuple[int, dict]]:
    """CONCURRENT_USES threads post `token` to the refresh endpoint at the same instant."""
    start, answers = threading.Barrier(CONCURRENT_USES), []

    def use():
        start.wait()
        answers.append(refresh(server, token))

    threads = [threading.Thread(target=use) for _ in range(CONCURRENT_USES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_of_concurrent_uses_of_one_refresh_token_exactly_one_wins(server, user):
    winners = []
    for _ in range(ROUNDS):
        answers = race(server, sign_in(server, user)["refresh"])
        winners.append(sum(status == 200 for status, _ in answers))
        assert sorted({status for status, _ in answers}) in ([200, 401], [200])

    assert winners == [1] * ROUNDS


def test_the_losers_of_a_race_are_reuse_so_the_winners_tokens_die_too(server, user):
    answers = race(server, sign_in(server, user)["refresh"])
    (won,) = [pair for status, pair in answers if status == 200]

    assert refresh(server, won["refresh"])[0] == 401
    assert me(server, won["access"]) == 401


def test_reusing_a_rotated_refresh_token_ends_every_token_of_that_sign_in(server, user):
    first = sign_in(server, user)
    second = refresh(server, first["refresh"])[1]
    third = refresh(server, second["refresh"])[1]
    assert me(server, third["access"]) == 200

    reuse = refresh(server, first["refresh"])

    assert reuse[0] == 401 and reuse[1]["error"]["code"] == "token_invalid"
    assert refresh(server, third["refresh"])[0] == 401
    assert [me(server, pair["access"]) for pair in (first, second, third)] == [401, 401, 401]


def test_reuse_leaves_the_users_other_sign_ins_alive(server, user):
    attacked, other = sign_in(server, user), sign_in(server, user)
    refresh(server, attacked["refresh"])

    refresh(server, attacked["refresh"])

    assert me(server, other["access"]) == 200
    assert refresh(server, other["refresh"])[0] == 200
