"""Every operation of the OpenAPI schema, fuzzed by schemathesis: no 5xx, and every response as documented.

Schemathesis reads `/api/schema/` from the WSGI app in-process and, for each operation, sends generated
valid ("positive") and invalid ("negative") requests, once as a tenant member with the `user` role and once
as a viewer. Each response must be a documented status with the documented content type and body schema.

Each generated request runs inside a savepoint that is rolled back afterwards, with the rate-limit counters
cleared, so every case starts from the same seeded tenant: what one case deletes or renames, the next still sees.

`make test` runs a small, derandomized sample (FUZZ_EXAMPLES examples per operation, default 3, plus
schemathesis's deterministic boundary cases); `make fuzz` runs a long randomized one (FUZZ_EXAMPLES=200,
FUZZ_SEED to replay a run).
"""
import os
import random
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create, token_pair_issue
from apps.api.testing import clear_cache
from apps.tasks.models import Task
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db

#: Generated examples per operation and phase; the long run in `make fuzz` raises it.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
#: Without FUZZ_EXAMPLES (CI) the cases are derandomized, the same every run; with it, a random seed that the
#: report prints, or FUZZ_SEED to replay one.
RANDOMIZED = "FUZZ_EXAMPLES" in os.environ or "FUZZ_SEED" in os.environ
SEED = int(os.environ.get("FUZZ_SEED") or random.getrandbits(64))

#: What every response must satisfy. Left out on purpose:
#: - negative_data_rejection: it wants every schema-violating input refused, but DRF coerces a number sent for a
#:   string field (`{"title": 0}` is the title "0") and, as API.md asks of `page_size`, lenient parameters
#:   fall back to their default instead of failing, so it reports working-as-designed leniency, not bugs;
#: - use_after_free / ensure_resource_availability: they need a create and a later read in one state, but
#:   every case here is rolled back, so each one starts from the seeded rows by design.
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance"]

#: Responses by persona and status, reported at the end so a long run says what it exercised.
TALLY: Counter = Counter()


@pytest.fixture
def seeded(tenant, user, viewer, second_user):
    """The world every generated request starts from: the persona's tenant with a few rows of each resource."""
    tasks = [Task.objects.create(tenant=tenant, user=persona, title=f"Fuzz task {n}", priority=priority)
             for persona in (user, viewer) for n, priority in enumerate(Task.Priority.values)]
    note = Note.objects.create(tenant=tenant, author=user, body="Fuzz note")
    keys = [api_key_create(user=persona, name="fuzz", scopes=sorted(role_scopes(persona.role))[:1],
                           allowed=role_scopes(persona.role)) for persona in (user, viewer)]
    return {"tenant": tenant, "tasks": tasks, "note": note, "keys": keys,
            "members": [user, viewer, second_user]}


@pytest.fixture(params=["user", "viewer"])
def persona(request, seeded):
    """The caller: a tenant owner with the `user` role, then a read-only viewer of the same tenant."""
    return request.getfixturevalue(request.param)


@pytest.fixture(autouse=True)
def github_sign_in_configured(settings):
    """A deployment with a GitHub OAuth app, as production has: without one, GitHub sign-in answers 503 by design,
    and any 5xx fails the fuzz. Only the login URL is built; the callback is refused at its state check before
    any call to GitHub."""
    settings.TESSERA_GITHUB = {"CLIENT_ID": "fuzz-client", "CLIENT_SECRET": "fuzz-secret"}


@pytest.fixture
def api_schema(persona, seeded, wsgi_app):
    """The served schema, loaded through the WSGI app, with the persona's token and tenant on every request."""
    config = schemathesis.Config.from_dict(_config(persona, seeded))
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, config=config)


def _config(persona, seeded) -> dict:
    tenant = seeded["tenant"]
    row_ids = {
        "tasks": [t.pk for t in seeded["tasks"]],
        "notes": [seeded["note"].pk],
        "tenants": [tenant.pk],
        "users": [m.pk for m in seeded["members"]],
        "api_keys": [k.pk for k in seeded["keys"]],
        "members": [m.pk for m in seeded["members"]],
    }
    generation = {"max-examples": FUZZ_EXAMPLES, "deterministic": not RANDOMIZED, "database": "none"}
    return {
        **({"seed": SEED} if RANDOMIZED else {}),
        "generation": generation,
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "auth": {"openapi": {"bearerToken": {"bearer": token_pair_issue(persona)["access"]}}},
        "dictionaries": {name: {"values": ids} for name, ids in row_ids.items()},
        # Most requests act in the seeded tenant, so they reach the views; the rest fuzz the header itself.
        "parameters": {"header.X-Tenant-ID": {"dictionary": "tenants", "probability": 0.9}},
        "operations": [
            {"include-path-regex": rf"^/api/v1/{prefix}/\{{id\}}", "parameters": {
                "path.id": {"dictionary": dictionary, "probability": 0.5}}}
            for prefix, dictionary in [("tasks", "tasks"), ("notes", "notes"), ("tenants", "tenants"),
                                       ("users", "users"), ("auth/api-keys", "api_keys")]
        ] + [{"include-path-regex": r"/members/\{user_id\}", "parameters": {
            "path.user_id": {"dictionary": "members", "probability": 0.5}}}],
    }


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, serving requests inside the test's transaction.

    Django's test client does the same: the request signals must not close the connection that holds
    the test transaction (CONN_MAX_AGE is 0, so close_old_connections would close it after each request).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


class _Rollback(Exception):
    pass


def rolled_back(call):
    """Run one generated request in a savepoint that is then rolled back, with fresh rate-limit counters."""
    clear_cache()
    try:
        with transaction.atomic():
            response = call()
            raise _Rollback(response)
    except _Rollback as done:
        return done.args[0]


@pytest.fixture(scope="module", autouse=True)
def _report_tally(request):
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if not TALLY or reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"\nschema fuzzing: FUZZ_EXAMPLES={FUZZ_EXAMPLES}, "
                            + (f"FUZZ_SEED={SEED}" if RANDOMIZED else "derandomized"))
        for persona in sorted({persona for persona, _ in TALLY}):
            statuses = {status: n for (who, status), n in TALLY.items() if who == persona}
            reporter.write_line(f"schema fuzzing as {persona}: {sum(statuses.values())} requests, "
                                f"by status {dict(sorted(statuses.items(), key=str))}")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case, persona):
    """Valid and invalid requests alike get a documented status, content type and body; never a 5xx."""
    try:
        response = rolled_back(case.call_and_validate)
    except Exception as failure:
        TALLY[persona.role, "failed"] += 1
        raise failure
    TALLY[persona.role, response.status_code] += 1
