"""The page a person watches a job on, `/jobs/{id}/watch`.

Why a views.py in a generated app: this is an HTML page for a signed-in browser, not API surface, so no
Resource declaration can express it (the generator builds JSON endpoints authenticated by tokens and
keys). It shows only what the API would: the job is fetched through the jobs resource's own scoping.
"""
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from apps import api
from apps.api.errors import PermissionDenied
from apps.api.scoping import AccessContext, resolve_access, scope_queryset

from . import selectors
from .models import Job


def visible_job(request: HttpRequest, job_id: int) -> Job | None:
    """The job if the API would show it to this user (GET /jobs/{id}/ in the job's tenant), else None.

    The tenant is the job's own (a page load cannot send X-Tenant-ID): the resolver lets in its members (and
    platform admins) and refuses the rest, auditing the attempt as it does for the API. Scopes come from the
    session user, as no token or key comes with a page. The jobs resource's scoping then applies as for every
    list, detail and socket, so a member sees only the jobs they started; `request` acts in that tenant.
    """
    tenant_id = Job.objects.filter(pk=job_id).values_list("tenant_id", flat=True).first()
    if tenant_id is None:
        return None
    try:
        request.tenant, request.tenant_role, request.scopes = resolve_access(
            AccessContext.of(request, tenant_wanted=str(tenant_id)))
    except PermissionDenied:
        return None
    if "jobs:read" not in request.scopes:
        return None
    resource = api.site.get_resource(Job)
    return scope_queryset(Job.objects.filter(pk=job_id), request=request, resource=resource).first()


#: Django's own session login (served for the browsable API), not the admin's: the admin login form turns away
#: anyone who is not staff, and this page is for the members who started the jobs.
SIGN_IN_URL = reverse_lazy("rest_framework:login")


@login_required(login_url=SIGN_IN_URL)
def job_watch(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's type, progress bar, step, status and log lines; the page's script keeps them live over
    /ws/jobs/{id}/. A job the user may not see is a 404, the same answer as for one that does not exist."""
    job = visible_job(request, job_id)
    if job is None:
        raise Http404("No such job.")
    return render(request, "jobs/watch.html", {
        "job": job,
        "logs": selectors.job_recent_logs(job),
        "finished": job.status in Job.FINISHED,
        "socket": {"path": f"/ws/jobs/{job.pk}/?tenant={job.tenant_id}"},
    })
