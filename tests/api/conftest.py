"""Fixtures for the generator's own tests: notes of the test-only resource, and serving a fresh site."""
import types

import pytest
from django.urls import include, path

from apps.platform import meta_views
from tests.conftest import CANARY
from tests.testapp.models import Note


@pytest.fixture
def note(tenant, user):
    return Note.objects.create(tenant=tenant, author=user, body="Buy milk", colour=Note.Colour.AMBER)


@pytest.fixture
def pinned_note(tenant, user):
    return Note.objects.create(tenant=tenant, author=user, body="Already pinned", pinned=True)


@pytest.fixture
def other_tenant_note(other_tenant, other_user):
    return Note.objects.create(tenant=other_tenant, author=other_user, body=f"Globex memo {CANARY}")


@pytest.fixture
def serve_site(settings):
    """Route `/api/v1/` to a given ResourceSite for one test; the project's urlconf comes back afterwards.

    The urlconf is a module object built on the spot, so the site's URLs are read after the test has
    applied its settings overrides (site builds read TESSERA_API when they happen).
    """

    def serve(site):
        urlconf = types.ModuleType("fresh_site_urls")
        urlconf.urlpatterns = [path("api/v1/", include(site.urls))]
        urlconf.handler404 = meta_views.not_found
        urlconf.handler500 = meta_views.server_failure
        settings.ROOT_URLCONF = urlconf
        return site

    return serve
