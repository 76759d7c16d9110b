"""Agent runs now end with their jobs (the job type's on_end, services.agent_run_ended). A run whose job had ended
without it before the upgrade (its worker died and the reaper failed the job, or it was cancelled through /jobs/)
would stay pending or running forever: it ends once here, as its job did."""
from django.db import migrations
from django.utils import timezone

OUTCOMES = {"succeeded": "completed", "failed": "failed", "cancelled": "cancelled"}


def end_runs_left_behind(apps, schema_editor):
    Agent = apps.get_model("agents", "Agent")
    for agent in Agent.objects.filter(status__in=("pending", "running"), job__status__in=OUTCOMES).select_related(
            "job"):
        succeeded = agent.job.status == "succeeded"
        Agent.objects.filter(pk=agent.pk).update(
            status=OUTCOMES[agent.job.status], result=agent.job.result if succeeded else None,
            error="" if succeeded else agent.job.error[:2000], finished_at=timezone.now(), updated_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0002_delegated_to"),
        ("jobs", "0003_active_jobs_by_tenant_index"),
    ]

    operations = [migrations.RunPython(end_runs_left_behind, migrations.RunPython.noop)]
