"""Stored migrations move to the guide's vocabulary and lose nothing: session ids, statuses, `username`, log
levels and the jobs' params; moving back restores the old words."""
import re

import pytest

from tests.migrating import latest, migrate, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("migrations_app", "0003_tenant_migration_limits"), ("jobs", "0002_tenant_job_limits")]
OLD_TO_NEW = {"created": "pending", "scheduled": "pending", "queued": "started", "running": "running",
              "succeeded": "completed", "failed": "failed", "cancelled": "cancelled",
              "rolling_back": "rollback_started", "rolled_back": "rolled_back"}


def database_side(login: str) -> dict:
    return {"type": "postgresql", "host": "127.0.0.1", "database": "app", login: "app"}


def site_side(login: str) -> dict:
    return {"type": "django_site", "files": {"type": "directory", "path": "/srv/media"},
            "database": {"type": "mysql", "host": "127.0.0.1", "database": "site", login: "site"}}


def test_stored_runs_presets_logs_and_jobs_speak_the_guides_words_and_move_back(tenant, user):
    with migrated_back_to(BEFORE) as old_apps:
        Run = old_apps.get_model("migrations_app", "MigrationRun")
        runs = {status: Run.objects.create(tenant_id=tenant.pk, created_by_id=user.pk, name=status, status=status,
                                           source=site_side("user"), destination=database_side("user"))
                for status in OLD_TO_NEW}
        Run.objects.filter(pk=runs["scheduled"].pk).update(scheduled_for="2030-01-01T00:00:00Z")
        old_apps.get_model("migrations_app", "MigrationLog").objects.create(run=runs["failed"], level="warning",
                                                                            message="disk almost full")
        preset = old_apps.get_model("migrations_app", "Preset").objects.create(
            tenant_id=tenant.pk, slug="mine", name="Mine", config={"source": database_side("user"),
                                                                   "destination": database_side("user")})
        job = old_apps.get_model("jobs", "Job").objects.create(
            tenant_id=tenant.pk, created_by_id=user.pk, type="migrations.run",
            params={"migration_id": runs["queued"].pk})

        new = migrate(latest())

        Run = new.get_model("migrations_app", "MigrationRun")
        for old_status, new_status in OLD_TO_NEW.items():
            run = Run.objects.get(pk=runs[old_status].pk)
            assert run.status == new_status and re.fullmatch("[0-9a-f]{32}", run.session_id)
            assert run.source == site_side("username") and run.destination == database_side("username")
        assert len(set(Run.objects.values_list("session_id", flat=True))) == len(OLD_TO_NEW)
        assert Run.objects.get(pk=runs["scheduled"].pk).scheduled_for is not None
        assert new.get_model("migrations_app", "MigrationLog").objects.get().level == "WARNING"
        assert new.get_model("migrations_app", "Preset").objects.get(pk=preset.pk).config_template == {
            "source": database_side("username"), "destination": database_side("username")}
        assert new.get_model("jobs", "Job").objects.get(pk=job.pk).params == {
            "session_id": Run.objects.get(pk=runs["queued"].pk).session_id}

        old = migrate(BEFORE)

        Run = old.get_model("migrations_app", "MigrationRun")
        assert {Run.objects.get(pk=run.pk).status for run in runs.values()} == set(OLD_TO_NEW)
        assert Run.objects.get(pk=runs["failed"].pk).source == site_side("user")
        assert old.get_model("migrations_app", "MigrationLog").objects.get().level == "warning"
        assert old.get_model("jobs", "Job").objects.get(pk=job.pk).params == {"migration_id": runs["queued"].pk}


BEFORE_PROGRESS_MOVE = [("migrations_app", "0007_start_options_and_log_details"), ("jobs", "0002_tenant_job_limits")]


def test_backups_metrics_and_progress_take_their_new_places_and_move_back(tenant, user):
    with migrated_back_to(BEFORE_PROGRESS_MOVE) as old_apps:
        Run = old_apps.get_model("migrations_app", "MigrationRun")
        Job = old_apps.get_model("jobs", "Job")
        job = Job.objects.create(tenant_id=tenant.pk, created_by_id=user.pk, type="migrations.run", progress=10)
        running = Run.objects.create(tenant_id=tenant.pk, created_by_id=user.pk, name="Running", status="running",
                                     source={"type": "directory", "path": "/a"},
                                     destination={"type": "directory", "path": "/b"}, job=job, progress=55,
                                     step="main: copying files")
        done = Run.objects.create(tenant_id=tenant.pk, created_by_id=user.pk, name="Done", status="completed",
                                  source={"type": "sqlite", "path": "a.db"}, destination={"type": "sqlite",
                                                                                          "path": "b.db"},
                                  progress=100, backup={"main": {"file": "b.db.bak"}},
                                  metrics={"parts": {"main": {"items_copied": 7, "items_skipped": 2,
                                                              "bytes_copied": 900}}, "seconds": 1.5})

        new = migrate(latest())

        Run = new.get_model("migrations_app", "MigrationRun")
        assert new.get_model("jobs", "Job").objects.get(pk=job.pk).step == "main: copying files"
        assert new.get_model("jobs", "Job").objects.get(pk=job.pk).progress == 55
        moved = Run.objects.get(pk=done.pk)
        assert moved.backup["parts"] == {"main": {"file": "b.db.bak"}} and moved.backup["id"].startswith("backup-")
        assert moved.metrics["parts"]["main"] == {"kind": "database", "done_items": 9, "total_items": 9,
                                                  "done_bytes": 900, "total_bytes": 900, "items_copied": 7,
                                                  "items_skipped": 2, "bytes_copied": 900}

        Run = migrate(BEFORE_PROGRESS_MOVE).get_model("migrations_app", "MigrationRun")
        assert Run.objects.get(pk=done.pk).backup == {"main": {"file": "b.db.bak"}}
        assert (Run.objects.get(pk=running.pk).progress, Run.objects.get(pk=done.pk).progress) == (55, 100)


BEFORE_TEMPLATES = [("migrations_app", "0009_progress_lives_on_the_job")]


def test_presets_become_templates_with_types_and_a_tenants_clashing_slug_is_renamed(tenant):
    with migrated_back_to(BEFORE_TEMPLATES) as old_apps:
        Preset = old_apps.get_model("migrations_app", "Preset")
        config = {"source": {"type": "sqlite", "path": "a.db"}, "destination": database_side("username")}
        clashing = Preset.objects.create(tenant_id=tenant.pk, slug="directory-sync", name="Ours", config=config)

        Preset = migrate(latest()).get_model("migrations_app", "Preset")

        ours = Preset.objects.get(pk=clashing.pk)
        assert (ours.slug, ours.config_template) == ("directory-sync-custom", config)
        assert (ours.source_types, ours.destination_types) == (["sqlite"], ["postgresql"])
        shipped = Preset.objects.get(tenant=None, slug="directory-sync")
        assert [variable["name"] for variable in shipped.variables] == ["source_path", "destination_path",
                                                                       "parallel_transfers"]
        assert shipped.config_template["source"]["path"] == "{{source_path}}"

        Preset = migrate(BEFORE_TEMPLATES).get_model("migrations_app", "Preset")
        assert Preset.objects.get(tenant=None, slug="directory-sync").config["source"]["path"] == "source"
