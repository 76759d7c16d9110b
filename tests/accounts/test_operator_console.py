"""The operator console at /admin/ is Tessera's: branded, every section named for operators, the queue's
internals kept out of sight, and no row shown as "<Model> object (1)"."""
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

CONSOLE = "Tessera operator console"
SECTIONS = ["Accounts", "Jobs", "Migrations", "Tasks", "Tenants"]



@pytest.fixture
def demo_data():
    call_command("seed_demo", stdout=StringIO())


def test_the_index_is_branded_and_names_each_app_for_operators(console):
    page = console.get("/admin/").content.decode()

    assert f"<title>Operations | {CONSOLE}</title>" in page
    assert CONSOLE in page and "Django administration" not in page
    for section in SECTIONS:
        assert f'title="Models in the {section} application"' in page
    assert "MIGRATIONS_APP" not in page and "Migrations_App" not in page


def test_django_q2_s_own_sections_are_not_in_the_console(console):
    page = console.get("/admin/").content.decode()

    assert "/admin/django_q/" not in page
    assert console.get("/admin/django_q/schedule/").status_code == 404


@pytest.mark.parametrize("path", [
    "/admin/jobs/job/", "/admin/migrations_app/migrationrun/", "/admin/tasks/task/", "/admin/tenants/tenant/",
    "/admin/accounts/user/"])
def test_lists_and_change_pages_of_the_demo_data_name_their_rows(console, demo_data, path):
    listing = console.get(path)
    assert listing.status_code == 200
    assert "object (" not in listing.content.decode()

    first = listing.context["cl"].result_list[0]
    change = console.get(f"{path}{first.pk}/change/")

    assert change.status_code == 200
    assert "object (" not in change.content.decode()
    assert CONSOLE in change.content.decode()
