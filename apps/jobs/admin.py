"""Operator console for jobs: every tenant's jobs with filters and timings, cancel and retry, a live progress bar.

Written by hand instead of generated (JobResource sets `admin = False`) because jobs change only through
services: the change page is read-only, and the verbs are admin actions that call the same services as
POST /jobs/{id}/cancel and /retry, so the admin cannot bypass a rule the API enforces.
"""
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.api.errors import DomainError

from . import services
from .models import Job, JobFile, JobLog


class ReadOnlyInline(admin.TabularInline):
    """Lines a job wrote or produced: shown, never edited, added or deleted here."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False


class JobLogInline(ReadOnlyInline):
    model = JobLog
    fields = readonly_fields = ["created_at", "level", "progress", "step", "message"]
    ordering = ["created_at", "pk"]


class JobFileInline(ReadOnlyInline):
    """The produced file by name, type and size; its bytes are neither loaded nor shown (download it from the API)."""

    model = JobFile
    fields = readonly_fields = ["name", "content_type", "size", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobFile]:
        return super().get_queryset(request).defer("content").annotate(size_bytes=Length("content"))

    @admin.display(description="Size")
    def size(self, file: JobFile) -> str:
        return f"{file.size_bytes:,} bytes"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs of every tenant. The change page is read-only; "Cancel selected jobs" and "Retry selected jobs" call
    the job services, and a job that does not fit the verb is reported as a message, not an error page.

    Operating (the two actions) needs the model's change permission, although nothing is edited in a form.
    """

    list_display = ["id", "type", "status", "progress_display", "tenant", "created_by", "queued_at", "started_at",
                    "finished_at", "duration", "short_error"]
    list_display_links = ["id", "type"]
    list_filter = ["status", "type"]
    search_fields = ["=id", "type", "created_by__email"]
    search_help_text = "Job id, type, or the email of who started it."
    list_select_related = ["tenant", "created_by"]
    ordering = ["-created_at"]
    actions = ["cancel_selected", "retry_selected"]
    inlines = [JobLogInline, JobFileInline]
    fieldsets = [
        (None, {"fields": ["type", "status", "progress_bar", "step", "message", "error"]}),
        ("Who", {"fields": ["tenant", "created_by", "request_id"]}),
        ("Timings", {"fields": ["created_at", "queued_at", "started_at", "finished_at", "duration", "heartbeat_at"]}),
        ("Run", {"fields": ["params", "result", "priority", "attempts", "max_attempts", "timeout_seconds",
                            "cancel_requested", "worker_pid"]}),
    ]
    readonly_fields = ["progress_bar", "duration"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are started through the API, where the job type's scope and params are checked

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False  # jobs change only through services: see the actions

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False  # DELETE /jobs/{id}/ refuses running jobs; a bulk delete here would not

    def has_operate_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], add: bool = False,
                           change: bool = False, form_url: str = "", obj: Job | None = None) -> HttpResponse:
        if obj is not None and obj.status in Job.ACTIVE:  # a finished job has nothing left to follow
            context["job_socket_path"] = f"/ws/admin/jobs/{obj.pk}/"
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.display(description="Progress", ordering="progress")
    def progress_display(self, job: Job) -> SafeString:
        return format_html('<progress value="{}" max="100"></progress> {}%', job.progress, job.progress)

    @admin.display(description="Progress")
    def progress_bar(self, job: Job) -> SafeString:
        """The bar the change page's script moves over /ws/admin/jobs/{id}/ (templates/admin/jobs/job/)."""
        return format_html(
            '<div class="job-bar" id="job-bar" data-status="{}" role="progressbar" aria-valuemin="0" '
            'aria-valuemax="100" aria-valuenow="{}"><div class="job-bar-fill" id="job-bar-fill" '
            'style="width: {}%"></div></div> <span id="job-progress">{}%</span> '
            '<span class="job-connection" id="job-connection"></span>',
            job.status, job.progress, job.progress, job.progress)

    @admin.display(description="Duration")
    def duration(self, job: Job) -> str | None:
        seconds = job.duration_seconds
        return None if seconds is None else f"{seconds:.1f} s"  # None: the admin's own empty-value mark

    @admin.display(description="Error")
    def short_error(self, job: Job) -> str:
        return Truncator(job.error).chars(80)

    @admin.action(description="Cancel selected jobs", permissions=["operate"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._operate(request, queryset, services.job_request_cancel, done="cancelled or asked to stop")

    @admin.action(description="Retry selected jobs", permissions=["operate"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._operate(request, queryset, services.job_retry, done="queued again")

    def _operate(self, request, queryset, service, *, done: str):
        """Call `service` on each job on its own, so one job in the wrong state does not stop the others;
        refusals become warnings naming the job."""
        succeeded = 0
        for job in queryset.order_by("pk"):
            try:
                service(job, requested_by=request.user)
            except DomainError as refusal:
                self.message_user(request, f"Job #{job.pk} ({job.type}): {refusal.message}", messages.WARNING)
            except Job.DoesNotExist:  # deleted through the API since the list was shown
                self.message_user(request, f"Job #{job.pk} no longer exists.", messages.WARNING)
            else:
                succeeded += 1
        if succeeded:
            noun = "job" if succeeded == 1 else "jobs"
            self.message_user(request, f"{succeeded} {noun} {done}.", messages.SUCCESS)


def hide_queue_internals() -> None:

    """django-q2's own sections (successful, failed, queued and scheduled tasks) come off the console.

    Operators follow, cancel and retry background work under Jobs, where every row carries its tenant, owner,
    progress and log; the queue's rows repeat that work as pickled payloads without any of it, and deleting the
    schedule there would silently stop the stale-job reaper. `manage.py shell` still reaches them.
    """
    from django_q.models import Failure, OrmQ, Schedule, Success

    for model in (Schedule, Success, Failure, OrmQ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


hide_queue_internals()
