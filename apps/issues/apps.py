from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "apps.issues"
    label = "issues"
    verbose_name = "Issues"

    def ready(self) -> None:
        from apps.agents.signals import run_finished

        from . import agent_runs

        run_finished.connect(agent_runs.follow_run, dispatch_uid="issues.follow_run")
