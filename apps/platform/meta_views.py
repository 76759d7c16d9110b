"""The service's own endpoints outside /api/v1/: index, health, liveness, readiness, plus JSON 404/500 under /api/."""
import hmac
import json
from collections.abc import Mapping
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.settings import api_settings as drf_settings
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found, server_error
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import error_envelope as codes
from .error_envelope import ErrorEnvelope, envelope, envelope_json
from .health import component_report
from .metrics import render_metrics
from .readiness import readiness_report


#: What the service does, for GET / (the guide's `features`): each is a real part of it.
FEATURES = [
    "Async migration execution",
    "Real-time progress tracking",
    "Multiple transfer methods",
    "Database migration support",
    "Backup and rollback capabilities",
    "Comprehensive validation",
]


class IndexView(APIView):
    """Name, version, what the service does and where to go next (the Migration Assistant guide's fields, plus
    `links`)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    schema_tag = "service"

    @extend_schema(operation_id="service_index", responses={200: inline_serializer("ServiceIndex", {
        "name": serializers.CharField(), "version": serializers.CharField(), "description": serializers.CharField(),
        "docs_url": serializers.CharField(), "redoc_url": serializers.CharField(),
        "health_url": serializers.CharField(), "features": serializers.ListField(child=serializers.CharField()),
        "links": serializers.DictField()})})
    def get(self, request: Request) -> Response:
        return Response({
            "name": "Tessera", "version": settings.VERSION,
            "description": "A multi-tenant REST API for migrating web applications and databases, and more.",
            "docs_url": "/docs", "redoc_url": "/redoc", "health_url": "/health", "features": FEATURES,
            "links": {"api": "/api/v1/", "openapi": "/api/schema/", "docs": "/api/docs/", "redoc": "/api/redoc/",
                      "health": "/health", "liveness": "/health/live", "readiness": "/health/ready",
                      "admin": "/admin/"}})


class LivenessView(APIView):
    """Liveness: 200 whenever this process can answer a request at all. It checks no dependency (no database,
    cache or queue) and no component, so an orchestrator restarts the process only when the process itself is
    stuck, never because a shared service is down (that is /health/ready's to say, and restarting would not help)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    schema_tag = "service"

    @extend_schema(operation_id="service_liveness", responses={200: inline_serializer("Liveness", {
        "status": serializers.ChoiceField(choices=["alive"])})})
    def get(self, request: Request) -> Response:
        return Response({"status": "alive"})


class HealthView(APIView):
    """The Migration Assistant guide's health report: the process answers, with the in-process components other
    apps registered (apps.platform.health). It checks nothing over the network, so it stays cheap enough to poll;
    /health/live is the bare liveness probe, /health/ready checks the services."""

    permission_classes = [AllowAny]
    authentication_classes = []
    schema_tag = "service"

    @extend_schema(operation_id="service_health", responses={200: inline_serializer("Health", {
        "status": serializers.CharField(), "version": serializers.CharField(), "service": serializers.CharField(),
        "timestamp": serializers.DateTimeField(),
        "components": serializers.DictField(child=serializers.BooleanField())})})
    def get(self, request: Request) -> Response:
        components = component_report()
        return Response({"status": "healthy" if all(components.values()) else "degraded", "version": settings.VERSION,
                         "service": "Migration Assistant API", "timestamp": timezone.now().isoformat(),
                         "components": components})


class ReadinessView(APIView):
    """Readiness: 200 when the database, the cache and the channel layer all answer; otherwise 503 naming
    what failed. Load balancers should stop sending traffic while it is 503."""

    permission_classes = [AllowAny]
    authentication_classes = []
    schema_tag = "service"

    @extend_schema(operation_id="service_readiness", responses={200: inline_serializer("Readiness", {
        "status": serializers.CharField(), "checks": serializers.DictField(child=serializers.CharField())}),
        503: ErrorEnvelope})
    def get(self, request: Request) -> Response:
        report = readiness_report()
        failed = {name: [reason] for name, reason in report.items() if reason != "ok"}
        if failed:
            return envelope(codes.UNAVAILABLE, f"Not ready: {', '.join(failed)} failed.", status_code=503,
                            details=failed)
        return Response({"status": "ok", "checks": report})


#: `request.auth` of a scrape authenticated by METRICS_TOKEN (it has no user).
METRICS_SCRAPER = "metrics-token"


class MetricsTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <METRICS_TOKEN>`, for Prometheus, which scrapes without a user."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, str] | None:
        token = settings.METRICS_TOKEN
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
            return AnonymousUser(), METRICS_SCRAPER
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="metrics"'


class CanReadMetrics(BasePermission):
    """Metrics are for operators: the metrics token, a platform admin, or Django staff."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return request.auth == METRICS_SCRAPER or getattr(user, "is_platform_admin", False) or user.is_staff


class PrometheusTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class MetricsView(APIView):
    """Prometheus metrics: request counts and latency histograms by route and status, across all processes."""

    authentication_classes = [MetricsTokenAuthentication, *drf_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [CanReadMetrics]
    renderer_classes = [JSONRenderer, PrometheusTextRenderer]

    @extend_schema(exclude=True)  # Prometheus text, for scrapers; not part of the JSON API
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)


@extend_schema(exclude=True)
class ApiNotFoundView(APIView):
    """The last route under /api/: any path nothing else matched is the 404 envelope, whatever the method.

    handler404 gives the same answer only with DEBUG off; under DEBUG (`make run`) Django would show its HTML
    page, so API paths never reach it.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotFound()


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404, as the JSON envelope under /api/ (unmatched API paths never return HTML)."""
    if _is_api(request):
        return envelope_json(codes.NOT_FOUND, "Not found.", status_code=404)
    return page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 (a request it refuses before any view: a Host header that is not a host name), as the JSON
    envelope under /api/."""
    if _is_api(request):
        return envelope_json(codes.VALIDATION_ERROR, "Bad request.", status_code=400)
    return django_bad_request(request, exception)


def server_failure(request: HttpRequest) -> HttpResponse:
    """Django's 500, as the JSON envelope under /api/, without any detail of what failed."""
    if _is_api(request):
        return envelope_json(codes.SERVER_ERROR, "An unexpected error occurred.", status_code=500)
    return server_error(request)
