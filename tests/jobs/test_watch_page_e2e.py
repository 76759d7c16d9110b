"""The watch page in a real browser: headless Chromium signs in, opens /jobs/{id}/watch and sees a probe job,
run by a real worker cluster, reach 100% over the WebSocket of a real server.

How Chromium is launched, and when the test is skipped: tests/browsers.py.
"""
import json
import re
import threading
from pathlib import Path

import pytest
from django.conf import settings

from apps.jobs import services
from apps.jobs.models import Job
from tests.browsers import chromium_page, require_browser
from tests.conftest import PASSWORD

from .conftest import access_token

SCREENSHOT = Path("/tmp/tessera-watch-page.png")
PROBE = {"type": "jobs.probe", "params": {"seconds": 3, "steps": 5}}
FINISH_TIMEOUT_MS = 30_000


def sign_in(page, *, email: str):
    """Fill the sign-in form the browser was sent to (the API's or the admin's); it sends the browser back."""
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def assert_followed_to_success(record, socket_url: str, *, page_loads: int = 1):
    """`page_loads`: the admin page reloads once when the job leaves the status it was drawn with, and follows
    the same socket again from the new page."""
    assert record.socket_urls[0] == socket_url and set(record.socket_urls) == {socket_url}
    assert len(record.socket_urls) <= page_loads
    assert record.messages[-1]["type"] == "job.finished"
    assert (record.messages[-1]["status"], record.messages[-1]["progress"]) == ("succeeded", 100)
    assert any(message["type"] == "job.progress" and 0 < message["progress"] < 100 for message in record.messages)
    assert record.errors == []


@pytest.fixture
def server(start_server, workers):
    """A real web server sharing the workers' Redis, so their progress events reach its sockets."""
    return start_server(REDIS_URL=settings.REDIS_URL)


def start_probe_job(server, *, token: str, tenant_id: int) -> int:
    """POST /api/v1/jobs/ to the real server. Plain HTTP, no ORM, so it may run while the browser is open: the
    browser signs in first and the job starts just before its page opens, so the page sees it run."""
    status, _, body = server.request("POST", "/api/v1/jobs/", body=json.dumps(PROBE).encode(), headers={
        "Authorization": f"Bearer {token}", "X-Tenant-ID": str(tenant_id), "Content-Type": "application/json"})
    assert status == 201, body
    return json.loads(body)["id"]


def test_the_watch_page_follows_a_job_to_100_percent_in_a_browser(server, user, tenant):
    require_browser()
    from playwright.sync_api import expect

    token = access_token(user)

    with chromium_page() as (page, record):
        page.goto(f"{server.url}/api-auth/login/?next=/")
        sign_in(page, email=user.email)
        page.wait_for_url(f"{server.url}/")
        job_id = start_probe_job(server, token=token, tenant_id=tenant.pk)
        page.goto(f"{server.url}/jobs/{job_id}/watch")
        status_on_arrival = page.inner_text("#job-status")
        # Each step lasts 0.6 s, long enough to see the bar between its ends while the job runs.
        expect(page.locator("#job-progress")).to_have_text(re.compile(r"^(20|40|60|80)%$"), timeout=10_000)

        expect(page.locator("#job-progress")).to_have_text("100%", timeout=FINISH_TIMEOUT_MS)
        expect(page.locator("#job-status")).to_have_text("succeeded", timeout=5_000)
        # The finished event reloads the page once, so the server renders the final timings.
        expect(page.locator("#job-connection")).to_have_text("This job has finished.", timeout=5_000)
        expect(page.locator("#job-finished")).not_to_have_text("—")
        bar_width = page.eval_on_selector("#job-bar-fill", "element => element.style.width")
        step = page.inner_text("#job-step")
        log_lines = page.locator("#job-log li").all_inner_texts()
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert status_on_arrival in ("queued", "running"), "the page must have been live, not rendered finished"
    assert_followed_to_success(record, f"{server.url.replace('http', 'ws')}/ws/jobs/{job_id}/?tenant={tenant.pk}")
    assert bar_width == "100%"
    assert step == "step 5 of 5"
    assert log_lines == [f"Finished step {n}" for n in range(1, 6)]
    assert Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED


def test_the_admin_job_page_moves_its_bar_live_in_a_browser(server, admin_user, user, tenant):
    require_browser()
    from playwright.sync_api import expect

    token = access_token(user)

    with chromium_page() as (page, record):
        page.goto(f"{server.url}/admin/login/?next=/admin/")
        sign_in(page, email=admin_user.email)
        page.wait_for_url(f"{server.url}/admin/")
        job_id = start_probe_job(server, token=token, tenant_id=tenant.pk)
        page.goto(f"{server.url}/admin/jobs/job/{job_id}/change/")
        expect(page.locator("#job-progress")).to_have_text(re.compile(r"^(20|40|60|80)%$"), timeout=10_000)
        # While it runs, the heading and "Started" say so (the page drawn while queued reloads once).
        expect(page.locator("#content > h2").first).to_contain_text("(running)", timeout=5_000)
        expect(page.locator(".field-started_at .readonly")).not_to_have_text("-")

        expect(page.locator("#job-progress")).to_have_text("100%", timeout=FINISH_TIMEOUT_MS)
        # The finished event reloads the page once, so the server renders the final status and timings.
        expect(page.locator(".field-status .readonly")).to_have_text("Succeeded", timeout=5_000)
        bar_width = page.eval_on_selector("#job-bar-fill", "element => element.style.width")

    assert_followed_to_success(record, f"{server.url.replace('http', 'ws')}/ws/admin/jobs/{job_id}/", page_loads=2)
    assert bar_width == "100%"


def in_another_thread(function, *args):
    """Run ORM work beside Playwright's event loop (Django refuses queries from that loop's thread)."""
    from django.db import connection

    def work():
        try:
            function(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=10)


def test_the_admin_job_page_drawn_while_queued_follows_the_job_into_running(start_server, admin_user, user, tenant):
    """A worker claims the job after the page was drawn: the heading leaves "(queued)" and "Started" fills in."""
    require_browser()
    from playwright.sync_api import expect

    server = start_server(REDIS_URL=settings.REDIS_URL)  # no workers: the test itself claims the job
    job = Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", params=PROBE["params"])

    with chromium_page() as (page, _):
        page.goto(f"{server.url}/admin/login/?next=/admin/")
        sign_in(page, email=admin_user.email)
        page.wait_for_url(f"{server.url}/admin/")
        page.goto(f"{server.url}/admin/jobs/job/{job.pk}/change/")
        heading = page.locator("#content > h2").first
        expect(heading).to_contain_text("(queued)")
        expect(page.locator("#job-connection")).to_have_text("live", timeout=10_000)

        in_another_thread(services.job_claim, job.pk)

        expect(heading).to_contain_text("(running)", timeout=10_000)
        expect(page.locator(".field-status .readonly")).to_have_text(re.compile("^running$", re.IGNORECASE))
        started = page.inner_text(".field-started_at .readonly")

    assert started not in ("", "-")
