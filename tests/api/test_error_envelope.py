"""Every error, whoever raises it, comes back in the one API.md envelope, with the request id."""
import re

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.test import RequestFactory
from django.views import View
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from apps.api import errors
from apps.platform import error_envelope, meta_views
from apps.api.testing import fresh_site
from apps.tasks.models import Task

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
SECRET = "SELECT password FROM accounts_user"


def error_of(response) -> dict:
    return response.json()["error"]


# --- the shape ----------------------------------------------------------------------------------


def test_an_error_body_is_exactly_the_envelope(user_client):
    response = user_client.post("/api/v1/tasks/", {})

    assert list(response.json()) == ["error"]
    assert set(error_of(response)) == {"code", "message", "details", "request_id"}


def test_the_envelope_carries_the_id_of_the_request(user_client):
    response = user_client.post("/api/v1/tasks/", {})

    assert error_of(response)["request_id"] == response["X-Request-ID"]


# --- 400 ------------------------------------------------------------------------------------------


def test_a_validation_error_is_400_with_messages_by_field(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": "", "priority": "urgent"})

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert error_of(response)["message"] == "Invalid input."
    assert set(error_of(response)["details"]) == {"title", "priority"}


def test_malformed_json_is_400_validation_error(user_client):
    response = user_client.generic("POST", "/api/v1/tasks/", '{"title": "unterminated',
                                   content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert error_of(response)["message"].startswith("JSON parse error")
    assert not Task.objects.exists()


# --- 401 ------------------------------------------------------------------------------------------


def test_no_credentials_is_401_not_authenticated(anon_client):
    response = anon_client.get("/api/v1/tasks/")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_bearer_token_is_401_token_invalid(anon_client):
    response = anon_client.get("/api/v1/tasks/", HTTP_AUTHORIZATION="Bearer not.a.token")

    assert response.status_code == 401
    assert error_of(response)["code"] == "token_invalid"


def test_an_unknown_api_key_is_401_authentication_failed(anon_client):
    response = anon_client.get("/api/v1/tasks/", HTTP_X_API_KEY="tsk_nope_0123456789")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


# --- 403, 404, 405, 406, 413, 415 ----------------------------------------------------------------


def test_a_missing_scope_is_403_permission_denied(viewer_client):
    response = viewer_client.post("/api/v1/tasks/", {"title": "Nope"})

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert "tasks:write" in error_of(response)["message"]


def test_an_unknown_id_is_404_not_found(user_client):
    response = user_client.get("/api/v1/tasks/987654/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/tasks/not-a-number/", "/api/elsewhere"])
def test_an_unknown_api_path_is_a_json_404_not_html(user_client, path):
    response = user_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"
    assert error_of(response)["request_id"] == response["X-Request-ID"]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v2/tasks", "/api/elsewhere"])
def test_an_unknown_api_path_is_the_json_404_under_debug_too(user_client, settings, method, path):
    """`make run` serves with DEBUG on, where Django would answer its HTML debug page instead of handler404."""
    settings.DEBUG = True

    response = getattr(user_client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/schema", "/api/docs", "/api/redoc"])
def test_the_docs_answer_without_their_trailing_slash(client, path):
    assert client.get(path).status_code == 200


def test_an_unknown_path_outside_the_api_keeps_djangos_html_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_the_endpoint_lacks_is_405_with_allow(user_client):
    response = user_client.delete("/api/v1/tasks/")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "DELETE" not in response["Allow"]


def test_an_accept_header_nothing_satisfies_is_406_not_acceptable(user_client):
    response = user_client.get("/api/v1/tasks/", HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert error_of(response)["code"] == "not_acceptable"


def test_an_oversized_body_is_413_payload_too_large(user_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = user_client.post("/api/v1/tasks/", {"title": "Big", "description": "x" * 2048})

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert not Task.objects.exists()


def test_a_text_plain_body_is_415_unsupported_media_type(user_client):
    response = user_client.generic("POST", "/api/v1/tasks/", "title=Plain", content_type="text/plain")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert not Task.objects.exists()


# --- X-Request-ID -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["req-42", "a", "0f3c.client:7_retry-2", "x" * 128])
def test_a_sane_request_id_is_echoed(user_client, sent):
    response = user_client.get("/api/v1/tasks/", HTTP_X_REQUEST_ID=sent)

    assert response["X-Request-ID"] == sent


def test_a_request_id_is_generated_when_none_is_sent(user_client):
    response = user_client.get("/api/v1/tasks/")

    assert GENERATED_ID.match(response["X-Request-ID"])


def test_generated_request_ids_differ_between_requests(user_client):
    first, second = user_client.get("/api/v1/tasks/"), user_client.get("/api/v1/tasks/")

    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize("sent", ["has space", "abc\n", "abc\r\nSet-Cookie: x=1", "x" * 129, "x" * 500,
                                  "semi;colon", "<script>", ""],
                         ids=["space", "trailing-newline", "header-injection", "129-chars", "500-chars",
                              "semicolon", "markup", "empty"])
def test_an_insane_request_id_is_replaced_by_a_generated_one(user_client, sent):
    response = user_client.get("/api/v1/tasks/", HTTP_X_REQUEST_ID=sent)

    assert response.status_code == 200
    assert GENERATED_ID.match(response["X-Request-ID"])


def test_a_replaced_request_id_is_the_one_in_the_envelope(user_client):
    response = user_client.post("/api/v1/tasks/", {}, HTTP_X_REQUEST_ID="bad id")

    assert error_of(response)["request_id"] == response["X-Request-ID"] != "bad id"


# --- exceptions raised inside views -----------------------------------------------------------------

class Unprocessable(exceptions.APIException):
    """A DRF exception of someone else's, with its own code."""

    status_code = 422
    default_code = error_envelope.UNPROCESSABLE
    default_detail = "The request is well-formed but cannot be processed."


RAISED = {
    "django-404": (lambda: Http404(SECRET), 404, "not_found"),
    "django-permission": (lambda: DjangoPermissionDenied(SECRET), 403, "permission_denied"),
    "django-validation": (lambda: DjangoValidationError({"title": ["Too long."]}), 400, "validation_error"),
    "token-error": (lambda: TokenError("Token is blacklisted"), 401, "token_invalid"),
    "conflict": (lambda: errors.Conflict("Already running."), 409, "conflict"),
    "validation-failed": (lambda: errors.ValidationFailed(details={"limit": ["Over the limit."]}), 400,
                          "validation_error"),
    "unavailable": (lambda: errors.Unavailable(), 503, "unavailable"),
    "drf-throttled": (lambda: exceptions.Throttled(wait=7), 429, "throttled"),
    "api-exception-subclass": (lambda: Unprocessable(), 422, "unprocessable"),
    "unexpected": (lambda: RuntimeError(SECRET), 500, "server_error"),
}


class RaisingView(APIView):
    """Raises the exception named by ?what=, as a buggy or strict view would."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        raise RAISED[request.query_params["what"]][0]()


class CrashingDjangoView(View):
    """A plain Django view (outside DRF's handling) that fails."""

    def get(self, request):
        raise RuntimeError(SECRET)


@pytest.fixture
def raising_site(serve_site):
    site = fresh_site()
    site.route("raise", RaisingView)
    site.route("crash", CrashingDjangoView)
    return serve_site(site)


@pytest.mark.parametrize("what", list(RAISED))
def test_every_exception_a_view_raises_renders_in_the_envelope(raising_site, client, what):
    _, status, code = RAISED[what]

    response = client.get(f"/api/v1/raise?what={what}")

    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert error_of(response)["request_id"] == response["X-Request-ID"]


def test_django_validation_errors_keep_their_fields(raising_site, client):
    response = client.get("/api/v1/raise?what=django-validation")

    assert error_of(response)["details"] == {"title": ["Too long."]}


def test_a_domain_errors_details_are_passed_through(raising_site, client):
    response = client.get("/api/v1/raise?what=validation-failed")

    assert error_of(response)["details"] == {"limit": ["Over the limit."]}


def test_a_throttled_error_says_when_to_retry(raising_site, client):
    response = client.get("/api/v1/raise?what=drf-throttled")

    assert response["Retry-After"] == "7"


def test_an_unexpected_error_is_500_without_any_detail_of_what_failed(raising_site, client):
    response = client.get("/api/v1/raise?what=unexpected")

    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert error_of(response)["details"] == {}
    body = response.content.decode()
    assert SECRET not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body


def test_an_unexpected_error_is_logged_with_its_traceback(raising_site, client, caplog):
    client.get("/api/v1/raise?what=unexpected")

    record = next(record for record in caplog.records if record.name == "tessera.errors")
    assert record.exc_info is not None
    assert SECRET in str(record.exc_info[1])


def test_a_crash_outside_drf_under_api_is_still_the_json_envelope(raising_site, client):
    client.raise_request_exception = False

    response = client.get("/api/v1/crash")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "server_error"
    assert SECRET not in response.content.decode()


def test_a_crash_outside_the_api_keeps_djangos_html_500():
    response = meta_views.server_failure(RequestFactory().get("/admin/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_a_unique_value_taken_by_another_row_is_a_conflict_naming_the_field(admin_client, tenant, other_tenant):
    response = admin_client.patch(f"/api/v1/tenants/{other_tenant.pk}/", {"slug": tenant.slug})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "slug" in response.json()["error"]["details"]


@pytest.mark.django_db
def test_a_host_header_that_is_no_host_name_is_the_envelopes_400_under_api(client):
    response = client.get("/api/v1/tasks/", HTTP_HOST=">")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
