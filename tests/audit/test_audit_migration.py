"""The audit trail's move from accounts to its own app keeps its rows (the table is renamed, not copied)."""
import pytest

from tests.migrating import latest, migrate, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("accounts", "0003_token_family")]  # audit.0001 is unapplied with the move


def test_audit_rows_written_in_accounts_are_read_by_the_audit_app():
    with migrated_back_to(BEFORE_THE_MOVE) as old_apps:
        OldAuditLog = old_apps.get_model("accounts", "AuditLog")
        written = OldAuditLog.objects.create(event="login_failed", ip="203.0.113.7", details={"email": "a@b.c"})

        AuditLog = migrate(latest()).get_model("audit", "AuditLog")

        moved = AuditLog.objects.get(pk=written.pk)
        assert (moved.event, moved.ip, moved.details) == ("login_failed", "203.0.113.7", {"email": "a@b.c"})
        assert AuditLog.objects.create(event="logout").pk > written.pk  # the id sequence moved along
