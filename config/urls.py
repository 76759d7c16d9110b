"""Root URLs: the generated API in one line, as admin is, plus docs, health, the admin console and the watch page."""
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from apps import api
from apps.platform import meta_views
from apps.jobs.views import job_watch

# The operator console's name, on every admin page and in its browser title.
admin.site.site_header = admin.site.site_title = "Tessera operator console"
admin.site.index_title = "Operations"

urlpatterns = [
    path("", meta_views.IndexView.as_view(), name="index"),
    path("health", meta_views.HealthView.as_view(), name="health"),
    path("health/live", meta_views.LivenessView.as_view(), name="liveness"),
    path("health/ready", meta_views.ReadinessView.as_view(), name="readiness"),
    path("metrics", meta_views.MetricsView.as_view(), name="metrics"),
    path("api/v1/", include(api.site.urls)),
    path("", include("apps.github.urls")),  # the gateway summary's /auth/github/... paths, at the root
    path("", include("apps.accounts.urls")),  # the Migration Assistant guide's /auth/... paths, at the root
    # The Migration Assistant guide's paths: the same views in the guide's envelope (apps/migrations_app/guide.py).
    path("", include(api.site.surface_urls("Guide"))),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-json"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc-short"),
    path("api-auth/", include("rest_framework.urls")),  # log in and out of the browsable API
    path("admin/", admin.site.urls),
    path("jobs/<int:job_id>/watch", job_watch, name="job-watch"),  # an HTML page for people, not API surface
    # Last under /api/, because APPEND_SLASH never applies once it matches (hence the optional slashes above).
    re_path(r"^api/", meta_views.ApiNotFoundView.as_view(), name="api-not-found"),
]

handler400 = meta_views.bad_request
handler404 = meta_views.not_found
handler500 = meta_views.server_failure
