"""The audit trail moved to an app of its own (apps.audit): its table is renamed here, rows and indexes kept, and
the model leaves accounts' state; audit.0001_initial takes it up without touching the database."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_token_family'),
    ]

    operations = [
        migrations.AlterModelTable(name='auditlog', table='audit_auditlog'),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='AuditLog')],
            database_operations=[],
        ),
    ]
