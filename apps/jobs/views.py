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
from apps.api.scoping import scope_queryset
from apps.api.viewsets import bind_tenant_and_scopes

from . import selectors
from .models import Job


def _request_in_tenant(request, tenant_id: int) -> HttpRequest:
    """`request` as if it had sent `X-Tenant-ID: tenant_id`, which is how the tenant resolver is told.

    A page load cannot send that header, and the incoming request's headers are read-only, so the
    resolver gets a copy. It carries no token or key (`auth` is None): scopes come from the session user.
    """
    in_tenant = HttpRequest()
    in_tenant.method, in_tenant.path, in_tenant.user, in_tenant.auth = request.method, request.path, request.user, None
    in_tenant.META = {**request.META, "HTTP_X_TENANT_ID": str(tenant_id)}
    in_tenant._request = in_tenant  # bind_tenant_and_scopes also writes the tenant through a DRF request's _request
    return in_tenant


def visible_job(request: HttpRequest, job_id: int) -> Job | None:
    """The job if the API would show it to this user (GET /jobs/{id}/ in the job's tenant), else None.

    The tenant is the job's own: the resolver lets in its members (and platform admins) and refuses the
    rest, auditing the attempt as it does for the API. The jobs resource's scoping then applies as for
    every list, detail and socket, so a member sees only the jobs they started.
    """
    tenant_id = Job.objects.filter(pk=job_id).values_list("tenant_id", flat=True).first()
    if tenant_id is None:
        return None
    in_tenant = _request_in_tenant(request, tenant_id)
    try:
        bind_tenant_and_scopes(in_tenant)
    except PermissionDenied:
        return None
    if "jobs:read" not in in_tenant.scopes:
        return None
    resource = api.site.get_resource(Job)
    return scope_queryset(Job.objects.filter(pk=job_id), request=in_tenant, resource=resource).first()


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
