"""Lists and details rendered from rows (apps/api/rendering.py) are byte for byte the DRF serializer's JSON.

Every resource registered on `api.site` is served twice over the same edge-value rows: as the project serves it,
and from a site where each resource opts out (`fast_render = False`), which renders through its serializer and
DRF's JSONRenderer. `specimens` (tests/testapp) holds a column of every type the row renderer supports.
"""
import itertools
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from rest_framework import serializers
from rest_framework.response import Response

from apps import api
from apps.accounts.models import ApiKey, User
from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.agents.models import Agent
from apps.analytics.models import AnalyticsEvent
from apps.api.rendering import RowRenderer, RowsResponse
from apps.api.testing import fresh_site
from apps.audit.models import AuditLog
from apps.jobs.models import Job, TenantJobLimits
from apps.migrations_app.adapters.databases.base import HostField
from apps.migrations_app.models import MigrationRun, MigrationTemplate, Preset, TenantMigrationLimits
from apps.issues.models import Issue
from apps.projects.models import Project
from apps.pulls.models import PullRequest
from apps.tasks.models import Task
from apps.tenants.models import Invitation, Tenant
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.conftest import make_user
from tests.testapp.api import SpecimenResource
from tests.testapp.models import Label, Note, Specimen

pytestmark = pytest.mark.django_db

TEXTS = [
    "",
    "plain ascii",
    "ünïcödé — 日本語 — 😀 — \U0010ffff",
    "line\u2028separator\u2029paragraph",
    'quote " backslash \\ solidus / tab\tend',
    "controls \x01\x08\x0b\x0c\x1f\n\r\x7f\x80\x9f end",
    "<script>alert('&amp;')</script>",
    "1e-05 0.00001 null true",
]
LONG_TEXT = "long ✓ " * 800
FLOATS = [0.0, -0.0, 0.1, 1e-05, 1.5e-09, 1e-07, 1e16, 1.2345678901234567e-300, 1.7976931348623157e308, 5e-324,
          123456789.125, -2.5, 1e22, 100.0]
JSON_VALUES = [
    {},
    [],
    "a string with ünïcödé \u2028 and \"quotes\"",
    12345678901234567890123,
    0.1,
    True,
    {"floats": FLOATS, "big": 2 ** 70, "negative": -(2 ** 64), "text": TEXTS[2:6],
     "nested": {"deep": [[[{"x": None, "y": False}]]], "empty": {}}},
    [1e-05, "1e-05", None, {"ünï": "cödé"}],
]
UTC = timezone.utc
MOMENTS = [
    datetime(2024, 2, 29, 12, 30, 15, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 30, 15, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 0, 0, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 7, 1, 9, 0, 0, 123000, tzinfo=ZoneInfo("Asia/Kolkata")),
    datetime(2024, 3, 10, 2, 30, 0, 500, tzinfo=ZoneInfo("America/New_York")),
]
DATES = [date(2024, 2, 29), date(1, 1, 1), date(9999, 12, 31)]


def cycle(values, count):
    return list(itertools.islice(itertools.cycle(values), count))


def stamp(model, rows, **columns):
    """Set timestamp columns that the model fills itself (auto_now) to edge values, row by row."""
    for row, *values in zip(rows, *columns.values()):
        model.objects.filter(pk=row.pk).update(**dict(zip(columns, values)))


# --- edge rows, one maker per registered model ------------------------------------------------------------------


def specimens(ctx):
    count = 16
    notes = [Note.objects.create(tenant=ctx["tenant"], author=ctx["user"], body=text[:200]) for text in TEXTS[:2]]
    rows = [Specimen(tenant=ctx["tenant"])]  # every column null
    rows += [
        Specimen(tenant=ctx["tenant"], note=note, text=text, long_text=long_text, slug=slug, email=email, url=url,
                 shade=shade, rank=rank, small=small, count=positive, big=big, flag=flag, ratio=ratio, amount=amount,
                 day=day, moment=moment, clock=clock, span=span, token=token, address=address, data=data)
        for (note, text, long_text, slug, email, url, shade, rank, small, positive, big, flag, ratio, amount, day,
             moment, clock, span, token, address, data) in zip(
            cycle([*notes, None], count), cycle(TEXTS, count), cycle([LONG_TEXT, "", "x\u2029y"], count),
            cycle(["a-slug", "", "under_score-123"], count), cycle(["a@example.com", "Ünï@exämple.com"], count),
            cycle(["https://example.com/a?b=c&d=é#f", ""], count), cycle(["light", "dark", "", None], count),
            cycle([1, 2, None], count), cycle([-32768, 0, 32767], count), cycle([0, 2147483647], count),
            cycle([-(2 ** 63), 0, 2 ** 63 - 1, 2 ** 53 + 1], count), cycle([True, False, None], count),
            cycle(FLOATS, count),
            cycle([Decimal("0"), Decimal("0.000001"), Decimal("-99999999999999.999999"), Decimal("1E+5"),
                   Decimal("12.5")], count),
            cycle(DATES, count), cycle(MOMENTS, count),
            cycle([time(0, 0), time(23, 59, 59, 999999), time(12, 0, 0, 1)], count),
            cycle([timedelta(0), timedelta(days=3, seconds=5, microseconds=7), timedelta(days=-1, microseconds=1),
                   timedelta(days=99999)], count),
            cycle([uuid.UUID(int=0), uuid.UUID("12345678-1234-5678-1234-567812345678"), uuid.uuid4()], count),
            cycle(["127.0.0.1", "2001:db8::1", "::ffff:10.0.0.1"], count), cycle(JSON_VALUES, count))
    ]
    Specimen.objects.bulk_create(rows)


def tasks(ctx):
    rows = Task.objects.bulk_create([
        Task(tenant=ctx["tenant"], user=ctx["user"], title=title[:255], description=description, status=status,
             priority=priority, due_date=due)
        for title, description, status, priority, due in zip(
            TEXTS, cycle([LONG_TEXT, "", TEXTS[3]], len(TEXTS)), cycle(Task.Status.values, len(TEXTS)),
            cycle(Task.Priority.values, len(TEXTS)), cycle([*DATES, None], len(TEXTS)))
    ])
    stamp(Task, rows, created_at=cycle(MOMENTS, len(rows)), updated_at=cycle(MOMENTS[::-1], len(rows)))


def labels(ctx):
    rows = Label.objects.bulk_create([Label(tenant=ctx["tenant"], name=f"{n} {text}"[:50])
                                      for n, text in enumerate(TEXTS)])
    stamp(Label, rows, updated_at=cycle(MOMENTS, len(rows)))


def notes(ctx):
    authors = [ctx["user"], ctx["second_user"]]
    rows = Note.objects.bulk_create([
        Note(tenant=ctx["tenant"], author=authors[n % 2], body=text[:200], colour=colour, pinned=n % 3 == 0)
        for n, (text, colour) in enumerate(zip(TEXTS, cycle(Note.Colour.values, len(TEXTS))))
    ])
    stamp(Note, rows, created_at=cycle(MOMENTS, len(rows)))


def jobs(ctx):
    count = len(JSON_VALUES)
    rows = Job.objects.bulk_create([
        Job(tenant=ctx["tenant"], created_by=ctx["user"], type=text[:100], params=params, result=result,
            priority=priority, status=status, progress=n * 10 % 101, step=text[:200], message=TEXTS[-1 - n % 8],
            error=LONG_TEXT if n == 1 else "", attempts=n, max_attempts=32767, timeout_seconds=2147483647,
            cancel_requested=n % 2 == 0, queued_at=moment, started_at=None if n % 3 else moment)
        for n, (text, params, result, priority, status, moment) in enumerate(zip(
            cycle(TEXTS, count), JSON_VALUES, [None, *JSON_VALUES[:-1]], cycle([-32768, 0, 32767], count),
            cycle(Job.Status.values, count), cycle([*MOMENTS, None], count)))
    ])
    stamp(Job, rows, created_at=cycle(MOMENTS, count), finished_at=cycle([None, *MOMENTS], count))


def migrations(ctx):
    count = len(JSON_VALUES)
    job = Job.objects.create(tenant=ctx["tenant"], created_by=ctx["user"], type="migrations.run")
    rows = MigrationRun.objects.bulk_create([
        MigrationRun(tenant=ctx["tenant"], created_by=ctx["user"], name=text[:200], description=LONG_TEXT,
                     source=source, destination={"type": "local", "path": text}, transfer=transfer, safety={},
                     status=status, job=job if n % 2 else None, error=text,
                     scheduled_for=moment, started_at=moment)
        for n, (text, source, transfer, status, moment) in enumerate(zip(
            cycle(TEXTS, count), JSON_VALUES, JSON_VALUES[::-1], cycle(MigrationRun.Status.values, count),
            cycle([None, *MOMENTS], count)))
    ])
    stamp(MigrationRun, rows, created_at=cycle(MOMENTS, count), finished_at=cycle(MOMENTS[::-1], count))


def presets(ctx):
    Preset.objects.bulk_create([
        Preset(tenant=tenant, slug=f"preset-{n}", name=text or "unnamed", description=text,
               config_template=config)
        for n, (text, config, tenant) in enumerate(zip(TEXTS, cycle(JSON_VALUES, len(TEXTS)),
                                                       cycle([ctx["tenant"], None], len(TEXTS))))
    ])


def users(ctx):
    rows = [make_user(f"edge{n}@example.com", full_name=text, role=role, tenant=ctx["tenant"])
            for n, (text, role) in enumerate(zip(TEXTS, cycle(User.Role.values, len(TEXTS))))]
    stamp(User, rows, date_joined=cycle(MOMENTS, len(rows)), last_login=cycle([None, *MOMENTS], len(rows)))


def audit(ctx):
    rows = AuditLog.objects.bulk_create([
        AuditLog(event=event, actor=actor, tenant=tenant, ip=ip, request_id=text[:128], path=text[:255],
                 details=details)
        for event, actor, tenant, ip, text, details in zip(
            cycle(AuditLog.Event.values, len(JSON_VALUES)), cycle([ctx["user"], None], len(JSON_VALUES)),
            cycle([ctx["tenant"], None, ctx["tenant"]], len(JSON_VALUES)),
            cycle(["203.0.113.9", "2001:db8::1", None], len(JSON_VALUES)), cycle(TEXTS, len(JSON_VALUES)),
            JSON_VALUES)
    ])
    stamp(AuditLog, rows, created_at=cycle(MOMENTS, len(rows)))


def tenants(ctx):
    rows = Tenant.objects.bulk_create([
        Tenant(name=text[:100] or "unnamed", slug=f"edge-{n}", is_active=True, rate_limit="10/m" if n % 2 else "")
        for n, text in enumerate(TEXTS)
    ])
    # The limits live in their apps' own tables; a tenant without a row reads the defaults, so half have none.
    TenantJobLimits.objects.bulk_create([TenantJobLimits(tenant=row, max_concurrent_jobs=n)
                                         for n, row in enumerate(rows) if n % 2])
    TenantMigrationLimits.objects.bulk_create([
        TenantMigrationLimits(tenant=row, max_concurrent_migrations=2147483647, migration_roots=[text, "/srv/ünï"],
                              migration_db_hosts=["db.example.com"])
        for n, (row, text) in enumerate(zip(rows, TEXTS)) if n % 2 == 0])
    stamp(Tenant, rows, created_at=cycle(MOMENTS, len(rows)), updated_at=cycle(MOMENTS[::-1], len(rows)))
    for row in rows[:3]:  # the member sees these through a join (DISTINCT), the admin sees them all
        row.memberships.create(user=ctx["user"], role="member")


def api_keys(ctx):
    for text in TEXTS[1:4]:
        api_key_create(user=ctx["user"], name=text[:100], scopes=["tasks:read"], allowed=role_scopes(ctx["user"].role),
                       expires_at=MOMENTS[4])


def invitations(ctx):
    for tenant, role in zip(Tenant.objects.all()[:3], ["member", "viewer", "owner"]):
        Invitation.objects.create(tenant=tenant, email=ctx["user"].email, role=role, invited_by=ctx["second_user"])


def projects(ctx):
    rows = Project.objects.bulk_create([
        Project(tenant=ctx["tenant"], owner=ctx["user"], name=text[:200] or "unnamed", description=LONG_TEXT,
                repository_url=f"https://github.com/acme/{n}", default_branch=text[:200] or "main", enabled=n % 2 == 0)
        for n, text in enumerate(TEXTS)
    ])
    stamp(Project, rows, created_at=cycle(MOMENTS, len(rows)), updated_at=cycle(MOMENTS[::-1], len(rows)))
    return rows


def agents(ctx):
    project = projects(ctx)[0]
    job = Job.objects.create(tenant=ctx["tenant"], created_by=ctx["user"], type="agents.run")
    count = len(JSON_VALUES)
    rows = Agent.objects.bulk_create([
        Agent(tenant=ctx["tenant"], owner=ctx["user"], project=project, name=text[:200] or "unnamed", type=kind,
              config=config, status=status, job=job if n % 2 else None, result=result, error=text,
              started_at=moment, finished_at=moment)
        for n, (text, kind, config, result, status, moment) in enumerate(zip(
            cycle(TEXTS, count), cycle(Agent.Type.values, count), JSON_VALUES, JSON_VALUES[::-1],
            cycle(Agent.Status.values, count), cycle([None, *MOMENTS], count)))
    ])
    stamp(Agent, rows, created_at=cycle(MOMENTS, count), updated_at=cycle(MOMENTS[::-1], count))


def issues(ctx):
    project = projects(ctx)[0]
    count = len(TEXTS)
    rows = Issue.objects.bulk_create([
        Issue(tenant=ctx["tenant"], owner=ctx["user"], project=project, title=text[:300] or "unnamed",
              description=LONG_TEXT, status=status, priority=priority, labels=[text[:50]] if text else [],
              github_number=n or None, resolution=text, resolved_at=moment)
        for n, (text, status, priority, moment) in enumerate(zip(
            TEXTS, cycle(Issue.Status.values, count), cycle(Issue.Priority.values, count),
            cycle([None, *MOMENTS], count)))
    ])
    stamp(Issue, rows, created_at=cycle(MOMENTS, count), updated_at=cycle(MOMENTS[::-1], count))


def pull_requests(ctx):
    project = projects(ctx)[0]
    count = len(TEXTS)
    rows = PullRequest.objects.bulk_create([
        PullRequest(tenant=ctx["tenant"], owner=ctx["user"], project=project, number=n + 1, title=text[:300],
                    description=LONG_TEXT, base="main", head=f"feature-{n}", state=state, author=text[:100],
                    additions=n or None, deletions=2147483647, changed_files=0, synced_at=moment)
        for n, (text, state, moment) in enumerate(zip(TEXTS, cycle(PullRequest.State.values, count),
                                                      cycle([None, *MOMENTS], count)))
    ])
    stamp(PullRequest, rows, created_at=cycle(MOMENTS, count), updated_at=cycle(MOMENTS[::-1], count))


def analytics_events(ctx):
    rows = AnalyticsEvent.objects.bulk_create([
        AnalyticsEvent(tenant=ctx["tenant"], user=ctx["user"], name=f"event.{n}", properties=properties,
                       occurred_at=moment)
        for n, (properties, moment) in enumerate(zip(JSON_VALUES, cycle(MOMENTS, len(JSON_VALUES))))
    ])
    stamp(AnalyticsEvent, rows, created_at=cycle(MOMENTS[::-1], len(rows)))


def webhook_subscriptions(ctx):
    WebhookSubscription.objects.bulk_create([
        WebhookSubscription(tenant=ctx["tenant"], name=text[:100] or "unnamed", url=f"https://example.com/{n}",
                            events=["*", f"tasks.{n}"], headers={"X-Edge": text}, retry_delay=0.1 * n,
                            secret="whsec_" + "A" * 44, disabled_reason=text[:200])
        for n, text in enumerate(TEXTS)])


def webhook_deliveries(ctx):
    subscription = WebhookSubscription.objects.create(tenant=ctx["tenant"], name="edge", url="https://example.com/",
                                                      events=["*"], secret="whsec_" + "A" * 44)
    rows = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(tenant=ctx["tenant"], subscription=subscription, event_type=f"tasks.{n}", payload=payload,
                        status=status)
        for n, (payload, status) in enumerate(zip(JSON_VALUES, cycle(WebhookDelivery.Status.values,
                                                                       len(JSON_VALUES))))])
    WebhookAttempt.objects.bulk_create([
        WebhookAttempt(delivery=row, number=1, outcome="http_error", status_code=500, duration_ms=n,
                       response_excerpt=text, error=text[:500], will_retry_in=n / 3 or None)
        for n, (row, text) in enumerate(zip(rows, cycle(TEXTS, len(rows))))])
    stamp(WebhookDelivery, rows, created_at=cycle(MOMENTS, len(rows)), finished_at=cycle([None, *MOMENTS], len(rows)))


EDGE_ROWS = {Specimen: specimens, Task: tasks, Label: labels, Note: notes, Job: jobs, MigrationRun: migrations,
             Preset: presets, MigrationTemplate: presets, User: users, AuditLog: audit, Tenant: tenants,
             Invitation: invitations, ApiKey: api_keys,
             WebhookSubscription: webhook_subscriptions, WebhookDelivery: webhook_deliveries, Project: projects,
             Agent: agents, Issue: issues, PullRequest: pull_requests, AnalyticsEvent: analytics_events}


# --- serving both ways --------------------------------------------------------------------------------------------


@pytest.fixture
def serializer_site():
    """Every resource of api.site, opted out of row rendering: what the DRF serializer gives."""
    site = fresh_site()
    for resource in api.site.resources():
        declared = type(resource)
        site.register(resource.model, type(declared.__name__, (declared,),
                                           {"fast_render": False, "__module__": declared.__module__}))
    return site


@pytest.fixture
def fetch_both(settings, serve_site, serializer_site):
    """A GET of `path` as the project serves it, then from the serializer site (the project's urlconf after)."""

    def fetch(client, path):
        project_urls = settings.ROOT_URLCONF
        from_rows = client.get(path)
        serve_site(serializer_site)
        try:
            from_serializer = client.get(path)
        finally:
            settings.ROOT_URLCONF = project_urls
        return from_rows, from_serializer

    return fetch


def renders_from_rows(resource) -> bool:
    return api.site.get_viewset(resource.model).row_renderer is not None


def readable(resource) -> bool:
    return resource.enabled and {"list", "retrieve"} <= set(resource.operations)


@pytest.mark.parametrize("resource", [r for r in api.site.resources() if readable(r)], ids=lambda r: r.name)
def test_every_resource_renders_the_serializers_bytes_for_lists_and_details(
        resource, user, second_user, tenant, admin_client, user_client, fetch_both):
    maker = EDGE_ROWS.get(resource.model)
    assert maker, f"No edge rows for {resource.model.__name__}: add a maker to EDGE_ROWS so its rendering is compared."
    maker({"tenant": tenant, "user": user, "second_user": second_user})
    base = f"/api/v1/{resource.name}/"
    pages = [base, f"{base}?page_size=3&page=2"]
    if resource.ordering:
        pages.append(f"{base}?page_size=100&ordering=-{resource.ordering[0]},{resource.ordering[-1]}")
    compared_rows = 0

    for client in (admin_client, user_client):
        for path in pages:
            from_rows, from_serializer = fetch_both(client, path)
            if from_rows.status_code != 200:  # admin-only resources refuse the member, the same way on both
                assert from_rows.status_code == from_serializer.status_code
                continue

            assert from_rows.content == from_serializer.content
            assert from_rows["Content-Type"] == from_serializer["Content-Type"] == "application/json"
            assert isinstance(from_rows, RowsResponse) is renders_from_rows(resource)
            assert not isinstance(from_serializer, RowsResponse)
            # A detail URL names a row by its id; a migration, by its session_id.
            ids = [row.get("session_id", row.get("id")) for row in from_rows.json()["results"]]
            compared_rows += len(ids)
            for row_id in ids if path == base else ():
                detail_from_rows, detail_from_serializer = fetch_both(client, f"{base}{row_id}/")
                assert detail_from_rows.status_code == 200
                assert detail_from_rows.content == detail_from_serializer.content
                assert isinstance(detail_from_rows, RowsResponse) is renders_from_rows(resource)

    assert compared_rows, f"No client could read {resource.name}: nothing was compared."


def test_resources_whose_fields_are_all_columns_render_from_rows():
    from_rows = {resource.name for resource in api.site.resources() if renders_from_rows(resource)}

    assert {"tasks", "jobs", "audit", "notes", "specimens"} <= from_rows
    # A hand-written serializer (api-keys, invitations; tenants, whose limits come from other apps' tables;
    # migrations, whose progress is their job's; users, whose password is written once at creation) and a property
    # among the fields (presets: is_builtin; templates, the tenant's presets, rename config_template).
    assert not from_rows & {"auth/api-keys", "auth/invitations", "tenants", "migrations", "users", "presets",
                            "templates"}


class SpecimenOptedOut(SpecimenResource):
    fast_render = False


def test_a_resource_that_opts_out_keeps_its_serializer():
    site = fresh_site()
    site.register(Specimen, SpecimenOptedOut)

    assert site.get_viewset(Specimen).row_renderer is None


class NoteWithMethod(serializers.ModelSerializer):
    body_length = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "body", "body_length"]

    def get_body_length(self, note):
        return len(note.body)


class NoteWithAuthorEmail(serializers.ModelSerializer):
    author_email = serializers.EmailField(source="author.email")

    class Meta:
        model = Note
        fields = ["id", "author_email"]


class NoteWithHostField(serializers.ModelSerializer):
    body = HostField()

    class Meta:
        model = Note
        fields = ["id", "body"]


@pytest.mark.parametrize("serializer_class", [NoteWithMethod, NoteWithAuthorEmail, NoteWithHostField])
def test_a_field_rows_cannot_reproduce_keeps_the_serializer(serializer_class):
    # A method field, a dotted source, a field class of our own (its to_representation could be anything).
    assert RowRenderer.for_serializer(serializer_class) is None


def test_an_indented_json_accept_gets_the_serializers_indented_json(user_client, note):
    response = user_client.get("/api/v1/notes/", HTTP_ACCEPT="application/json; indent=4")

    assert type(response) is Response
    assert response.content.startswith(b'{\n    "count": 1,')


@pytest.mark.parametrize("path, headers", [("/api/v1/notes/{id}/", {"HTTP_ACCEPT": "text/html"}),
                                           ("/api/v1/notes/{id}/?format=api", {})])
def test_the_browsable_api_gets_the_serializer(user_client, note, path, headers):
    response = user_client.get(path.format(id=note.id), **headers)

    assert type(response) is Response
    assert response["Content-Type"].startswith("text/html")
    assert b"Buy milk" in response.content


def test_a_float_json_cannot_hold_is_a_server_error_both_ways_never_a_null(tenant, user_client, fetch_both):
    specimen = Specimen.objects.create(tenant=tenant, ratio=float("nan"))
    user_client.raise_request_exception = False

    from_rows, from_serializer = fetch_both(user_client, f"/api/v1/specimens/{specimen.id}/")

    assert (from_rows.status_code, from_serializer.status_code) == (500, 500)
