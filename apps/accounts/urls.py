"""The Migration Assistant's account paths at the root (`/auth/...`), as its user guide and API summary call them.

Why a urls module: `api.site.route()` serves under /api/v1/ only, and the guide's clients call `/auth/token`,
`/auth/users`, `/auth/api-keys` and `/auth/tenants` at the root. Every path below is a view or generated viewset
already served under /api/v1/, mounted a second time, so both surfaces are the same code answering the same
way; `/auth/authorize` (OAuth2 consent, an HTML page for people) exists only here. config/urls.py includes it.
"""
from django.urls import re_path

from apps import api
from apps.platform.meta_views import ApiNotFoundView
from apps.tenants.models import Tenant

from . import oauth
from .api import ActiveTenantView, MeView, RefreshView, TokenView
from .models import ApiKey, User

LIST = {"get": "list", "post": "create"}


def detail_path(prefix: str, model: type, actions: dict[str, str], name: str):
    """`prefix/{id}` served by `model`'s generated viewset, with the ids (and slugs, emails or keys) it accepts."""
    viewset = api.site.get_viewset(model)
    return re_path(rf"^{prefix}/(?P<id>{viewset.lookup_value_regex})/?$", viewset.as_view(actions), name=name)


def list_path(prefix: str, model: type, name: str):
    return re_path(rf"^{prefix}/?$", api.site.get_viewset(model).as_view(LIST), name=name)


urlpatterns = [
    re_path(r"^auth/token/?$", TokenView.as_view(), name="root-auth-token"),
    re_path(r"^auth/refresh/?$", RefreshView.as_view(), name="root-auth-refresh"),  # the gateway summary's name
    re_path(r"^auth/authorize/?$", oauth.AuthorizeView.as_view(), name="root-auth-authorize"),
    re_path(r"^auth/me/?$", MeView.as_view(), name="root-auth-me"),
    re_path(r"^auth/me/tenant/?$", ActiveTenantView.as_view(), name="root-auth-me-tenant"),
    list_path("auth/users", User, "root-auth-users"),
    detail_path("auth/users", User, {"get": "retrieve"}, "root-auth-user"),
    list_path("auth/api-keys", ApiKey, "root-auth-api-keys"),
    detail_path("auth/api-keys", ApiKey, {"get": "retrieve", "delete": "destroy"}, "root-auth-api-key"),
    list_path("auth/tenants", Tenant, "root-auth-tenants"),
    detail_path("auth/tenants", Tenant, {"get": "retrieve"}, "root-auth-tenant"),
    # Last: any other path under /auth/ is the 404 envelope, never Django's HTML page.
    re_path(r"^auth/", ApiNotFoundView.as_view(), name="root-auth-not-found"),
]
