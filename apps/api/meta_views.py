"""The service's own endpoints outside /api/v1/: the index and liveness, plus JSON 404/500 under /api/."""
from django.conf import settings
from django.views.defaults import page_not_found, server_error
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import errors
from .exception_handler import envelope_json


class IndexView(APIView):
    """Name, version and where to go next."""

    permission_classes = [AllowAny]
    authentication_classes = []
    schema_tag = "service"

    @extend_schema(operation_id="service_index", responses={200: inline_serializer("ServiceIndex", {
        "name": serializers.CharField(), "version": serializers.CharField(), "links": serializers.DictField()})})
    def get(self, request):
        return Response({"name": "Tessera", "version": settings.VERSION, "links": {
            "api": "/api/v1/", "openapi": "/api/schema/", "docs": "/api/docs/", "redoc": "/api/redoc/",
            "health": "/health", "admin": "/admin/"}})


class HealthView(APIView):
    """Liveness: the process answers. It checks nothing else, so it stays cheap enough to poll."""

    permission_classes = [AllowAny]
    authentication_classes = []
    schema_tag = "service"

    @extend_schema(operation_id="service_health", responses={200: inline_serializer("Health", {
        "status": serializers.CharField(), "version": serializers.CharField()})})
    def get(self, request):
        return Response({"status": "ok", "version": settings.VERSION})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """Django's 404, as the JSON envelope under /api/ (unmatched API paths never return HTML)."""
    if _is_api(request):
        return envelope_json(errors.NOT_FOUND, "Not found.", status_code=404)
    return page_not_found(request, exception)


def server_failure(request):
    """Django's 500, as the JSON envelope under /api/, without any detail of what failed."""
    if _is_api(request):
        return envelope_json(errors.SERVER_ERROR, "An unexpected error occurred.", status_code=500)
    return server_error(request)
