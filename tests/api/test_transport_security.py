"""CORS, security headers, the request body limit, and Django's deployment checklist."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = "https://app.example.com"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]
    settings.CORS_ALLOW_CREDENTIALS = True


def test_an_allowed_origin_gets_cors_headers_with_credentials(cors, user_client):
    response = user_client.get("/api/v1/tasks/", HTTP_ORIGIN=ALLOWED)

    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "X-Request-ID" in response["Access-Control-Expose-Headers"]


def test_a_preflight_from_an_allowed_origin_lists_the_tenant_and_key_headers(cors, anon_client):
    response = anon_client.options("/api/v1/tasks/", HTTP_ORIGIN=ALLOWED, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                   HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-tenant-id")

    assert response.status_code == 200
    assert {"x-tenant-id", "x-api-key", "authorization"} <= set(response["Access-Control-Allow-Headers"].split(", "))


def test_a_refused_origin_gets_no_cors_headers(cors, user_client):
    response = user_client.get("/api/v1/tasks/", HTTP_ORIGIN="https://evil.example.net")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_responses_carry_the_security_headers(anon_client):
    response = anon_client.get("/health")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_https_responses_carry_hsts_when_debug_is_off(anon_client):
    response = anon_client.get("/health", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_pages_may_not_be_framed(admin_user, client):
    client.force_login(admin_user)

    response = client.get("/admin/")

    assert response["X-Frame-Options"] == "DENY"


def test_an_oversized_body_is_a_413_in_the_envelope(settings, user_client):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = user_client.post("/api/v1/tasks/", {"title": "x", "description": "y" * 5000})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def run_manage(*arguments, **environment) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "DATABASE_URL")}
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, capture_output=True, text=True,
                          env={**env, **environment})


PRODUCTION = {
    "DEBUG": "false", "SECRET_KEY": "p" * 20 + "roduction-secret-key-with-enough-entropy-1234567890",
    "ALLOWED_HOSTS": "api.example.com", "SECURE_SSL_REDIRECT": "true", "SECURE_HSTS_PRELOAD": "true",
}


def test_the_deployment_checklist_passes_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_manage("check", **{**PRODUCTION, "SECRET_KEY": ""})

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_wildcard_origin_with_credentials_is_refused_at_start_up():
    result = run_manage("check", **{**PRODUCTION, "CORS_ALLOWED_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"})

    assert result.returncode != 0
    assert "cannot be combined" in result.stderr
