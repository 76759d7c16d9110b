"""A body that cannot be parsed is a 400 in the envelope, whatever is wrong with it and whoever sends it.

Deep nesting is refused before the parser recurses into it: a RecursionError is a 500 with a traceback,
and sign-in parses the body (to count attempts per email) before anyone is authenticated.
"""
import pytest

from apps.api.conf import api_settings

pytestmark = pytest.mark.django_db

JSON = "application/json"
TOO_DEEP = 10_000


def nested(levels: int, *, opener: str = "[", closer: str = "]", core: str = "1") -> str:
    return opener * levels + core + closer * levels


def nested_objects(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def assert_parse_error(response):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "Traceback" not in response.content.decode()
    return error


@pytest.mark.parametrize("body", [nested(TOO_DEEP), nested_objects(TOO_DEEP)], ids=["arrays", "objects"])
def test_deeply_nested_json_to_sign_in_is_a_400_for_anyone(anon_client, body):
    response = anon_client.generic("POST", "/api/v1/auth/token", body, content_type=JSON)

    assert_parse_error(response)


@pytest.mark.parametrize("path", ["/api/v1/tasks/", "/api/v1/jobs/", "/api/v1/notes/"])
def test_deeply_nested_json_to_a_generated_endpoint_is_a_400(user_client, path):
    response = user_client.generic("POST", path, nested_objects(TOO_DEEP), content_type=JSON)

    assert_parse_error(response)


def test_nesting_just_past_the_limit_is_refused_and_says_why(user_client, settings):
    depth = api_settings.MAX_JSON_DEPTH

    response = user_client.generic("POST", "/api/v1/tasks/", '{"title": "x", "extra": %s}' % nested(depth),
                                   content_type=JSON)

    assert "nest" in assert_parse_error(response)["message"].lower()


def test_nesting_within_the_limit_is_parsed(user_client):
    response = user_client.generic("POST", "/api/v1/tasks/", '{"title": "Nested", "ignored": %s}' % nested(30),
                                   content_type=JSON)

    assert response.status_code == 201


def test_brackets_inside_strings_do_not_count_as_nesting(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": "[" * 200, "description": "{\\\"[" * 2000}, format="json")

    assert response.status_code == 201


def test_the_depth_limit_is_a_setting(user_client, settings):
    settings.TESSERA_API = {**settings.TESSERA_API, "MAX_JSON_DEPTH": 3}

    response = user_client.generic("POST", "/api/v1/tasks/", '{"title": "x", "extra": [[[1]]]}', content_type=JSON)

    assert_parse_error(response)


def test_a_body_that_is_not_utf8_is_a_400(user_client):
    response = user_client.generic("POST", "/api/v1/tasks/", b'{"title": "\xff\xfe"}', content_type=JSON)

    assert_parse_error(response)


def test_a_non_finite_number_is_a_400(user_client):
    response = user_client.generic("POST", "/api/v1/tasks/", '{"title": "x", "priority": NaN}', content_type=JSON)

    assert_parse_error(response)


def test_a_sign_in_form_with_too_many_fields_is_a_400(anon_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"field{number}=x" for number in range(20)) + "&username=a@example.com&password=x"

    response = anon_client.generic("POST", "/api/v1/auth/token", body,
                                   content_type="application/x-www-form-urlencoded")

    assert_parse_error(response)


def test_deeply_nested_json_in_the_browsable_api_is_a_400_page(user_client):
    response = user_client.generic("POST", "/api/v1/tasks/", nested(TOO_DEEP), content_type=JSON,
                                   HTTP_ACCEPT="text/html")

    assert response.status_code == 400
