"""API keys reach only what is declared for them: a hand-written view without a scope, an OPTIONS request and a
personal resource refuse keys (403 in the envelope), and check api.E018/E019 flags a view that does not say
who it is for, so forgetting to declare is safe."""
import pytest
from rest_framework.response import Response
from rest_framework.views import APIView

from apps import api
from apps.api.checks import check_resources
from apps.api.testing import fresh_site
from apps.api.viewsets import ApiView
from apps.tasks.api import TaskResource
from apps.tasks.models import Task

pytestmark = pytest.mark.django_db


class UndeclaredView(ApiView):
    """A hand-written view whose author forgot to say who it is for."""

    def post(self, request):
        return Response({"done": True})


class PersonalView(ApiView):
    """Account self-service: for the person, never for a key."""

    access = api.Access.PERSONAL

    def post(self, request):
        return Response({"done": True})


class WhoAmIView(ApiView):
    """Anyone signed in may read it, keys included; writing it is for the person."""

    access = {"get": api.Access.CALLER, "post": api.Access.PERSONAL}

    def get(self, request):
        return Response({"id": request.user.pk})

    def post(self, request):
        return Response({"done": True})


class PublicView(ApiView):
    access = api.Access.PUBLIC

    def get(self, request):
        return Response({"open": True})


class ScopedView(ApiView):
    scope = "tasks:read"

    def get(self, request):
        return Response({"read": True})


class PersonalTasks(TaskResource):
    personal = True


@pytest.fixture
def routed(serve_site):
    site = fresh_site()
    site.register(Task, TaskResource)
    for path, view in [("undeclared", UndeclaredView), ("personal", PersonalView), ("whoami", WhoAmIView),
                       ("public", PublicView), ("scoped", ScopedView)]:
        site.route(path, view)
    return serve_site(site)


def assert_keys_refused(response):
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "API keys cannot call this endpoint" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/undeclared", "/api/v1/personal"])
def test_a_key_is_refused_on_a_view_without_a_scope(routed, read_only_key_client, user_client, path):
    assert_keys_refused(read_only_key_client.post(path))
    assert user_client.post(path).status_code == 200


def test_a_view_may_let_keys_read_and_keep_writes_for_the_person(routed, read_only_key_client, user_client, user):
    assert read_only_key_client.get("/api/v1/whoami").json() == {"id": user.pk}
    assert_keys_refused(read_only_key_client.post("/api/v1/whoami"))
    assert user_client.post("/api/v1/whoami").status_code == 200


def test_a_key_holding_the_scope_of_a_scoped_view_may_call_it(routed, read_only_key_client):
    assert read_only_key_client.get("/api/v1/scoped").status_code == 200


def test_a_public_view_is_open_to_anyone(routed, anon_client, read_only_key_client):
    assert anon_client.get("/api/v1/public").status_code == 200
    assert read_only_key_client.get("/api/v1/public").status_code == 200


def test_a_key_is_refused_on_options_of_a_generated_resource_which_needs_no_scope(routed, read_only_key_client):
    assert_keys_refused(read_only_key_client.options("/api/v1/tasks/"))


def test_a_personal_resource_refuses_a_key_that_holds_its_scope(serve_site, read_only_key_client, user_client):
    site = fresh_site()
    site.register(Task, PersonalTasks)
    serve_site(site)

    assert_keys_refused(read_only_key_client.get("/api/v1/tasks/"))
    assert user_client.get("/api/v1/tasks/").status_code == 200


# --- check api.E018 / api.E019 -----------------------------------------------------------------------
def route_errors(view) -> list:
    site = fresh_site()
    site.route("somewhere", view)
    return check_resources(site=site)


@pytest.mark.parametrize("view", [PersonalView, WhoAmIView, PublicView, ScopedView])
def test_a_view_that_declares_who_it_is_for_passes_the_check(view):
    assert route_errors(view) == []


def test_a_view_declaring_neither_a_scope_nor_an_access_is_e018_with_a_hint():
    [error] = route_errors(UndeclaredView)

    assert error.id == "api.E018"
    assert "UndeclaredView (route 'somewhere') declares neither a scope nor an access" in error.msg
    assert "api.Access.PERSONAL" in error.hint


def test_a_plain_drf_view_on_the_site_is_e018():
    class PlainView(APIView):
        def get(self, request):
            return Response({})

    assert [error.id for error in route_errors(PlainView)] == ["api.E018"]


def test_a_view_declaring_both_a_scope_and_an_access_is_e019():
    class Confused(ScopedView):
        access = api.Access.PERSONAL

    assert [error.id for error in route_errors(Confused)] == ["api.E019"]


def test_an_access_that_is_not_an_access_is_e019():
    class Stringly(ApiView):
        access = {"get": "public"}

    assert [error.id for error in route_errors(Stringly)] == ["api.E019"]


def test_every_route_of_the_project_declares_who_it_is_for():
    assert [error for error in check_resources() if error.id in {"api.E018", "api.E019"}] == []
