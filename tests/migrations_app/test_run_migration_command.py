"""`manage.py run_migration plan.json`: the same validation and engine as the API, with a progress bar."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from .conftest import build_tree, checksums, files_only


def write_plan(path, plan) -> str:
    path.write_text(json.dumps(plan))
    return str(path)


def test_a_plan_runs_with_a_progress_bar_and_a_summary(allowed, tmp_path):
    tree = build_tree(allowed / "source", files=6)
    plan = write_plan(tmp_path / "plan.json", {
        "source": {"type": "directory", "path": "source"}, "destination": {"type": "directory", "path": "copy"},
        "transfer": {"options": {"parallel_transfers": 2}}})
    out = io.StringIO()

    call_command("run_migration", plan, stdout=out)

    printed = out.getvalue()
    assert f"[{'#' * 40}] 100.0%" in printed
    assert "info: main: transferring" in printed and "info: main: verifying" in printed
    assert "Done in" in printed
    summary = json.loads(printed.rstrip().splitlines()[-1].split("main: ", 1)[1])
    assert summary["items_copied"] == len(tree) and summary["verified"] == len(tree)
    assert files_only(checksums(allowed / "copy")) == tree


def test_an_invalid_plan_is_a_command_error_naming_the_field(allowed, tmp_path):
    plan = write_plan(tmp_path / "plan.json", {
        "source": {"type": "directory", "path": "/etc"}, "destination": {"type": "directory", "path": "copy"},
        "transfer": {"options": {"parallel_transfers": 0}}})

    with pytest.raises(CommandError) as refused:
        call_command("run_migration", plan, stdout=io.StringIO())

    assert "source.path" in str(refused.value) and "transfer.options.parallel_transfers" in str(refused.value)
    assert not (allowed / "copy").exists()


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_an_unreadable_plan_is_a_command_error(allowed, tmp_path, content):
    (tmp_path / "plan.json").write_text(content)

    with pytest.raises(CommandError):
        call_command("run_migration", str(tmp_path / "plan.json"), stdout=io.StringIO())


def test_a_failing_migration_is_a_command_error_and_rolls_back(allowed, tmp_path):
    build_tree(allowed / "source", files=3)
    destination = allowed / "copy"
    (destination / "top.txt").mkdir(parents=True)   # the source's top.txt cannot be written there
    before = checksums(destination)
    plan = write_plan(tmp_path / "plan.json", {
        "source": {"type": "directory", "path": "source"}, "destination": {"type": "directory", "path": "copy"},
        "safety": {"backup_before": True, "rollback_on_failure": True, "verify_after": True}})
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("run_migration", plan, stdout=out)

    assert "Migration failed" in str(failed.value) and "top.txt" in str(failed.value)
    assert "Rolling back after a failure" in out.getvalue()
    assert checksums(destination) == before
