"""An API-only Django project as DRF's documentation sets one up: JWT auth, JSON only, 50-row pages."""
import os

from bench.peers.database import django_database

SECRET_KEY = os.environ["JWT_SIGNING_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "bench.peers.drf_peer"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "bench.peers.drf_peer.urls"
WSGI_APPLICATION = "bench.peers.drf_peer.wsgi.application"
DATABASES = {"default": django_database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "drf_peer.User"
USE_TZ = True
TIME_ZONE = "UTC"
APPEND_SLASH = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SIMPLE_JWT = {"SIGNING_KEY": os.environ["JWT_SIGNING_KEY"], "AUTH_HEADER_TYPES": ("Bearer",),
              "CHECK_REVOKE_TOKEN": True}
