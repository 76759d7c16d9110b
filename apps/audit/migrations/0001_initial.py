"""AuditLog, moved here from accounts with its rows: accounts.0004 renamed its table to audit_auditlog, so this
only records the model in audit's state, and moves its content type (and so its admin permissions) along."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, source="accounts", target="audit"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=target, model="auditlog").exists():
        ContentType.objects.filter(app_label=source, model="auditlog").update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="audit", target="accounts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0004_audit_log_moves_to_audit'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('tenants', '0005_invitations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event', models.CharField(choices=[('login_succeeded', 'Login succeeded'), ('login_failed', 'Login failed'), ('refresh_reused', 'Refresh token reused'), ('logout', 'Logout'), ('password_changed', 'Password changed'), ('api_key_created', 'API key created'), ('api_key_revoked', 'API key revoked'), ('role_changed', 'Role changed'), ('user_deactivated', 'User deactivated'), ('permission_denied', 'Permission denied'), ('throttled', 'Throttled'), ('cross_tenant_attempt', 'Cross-tenant attempt')], max_length=32)),
                        ('ip', models.GenericIPAddressField(blank=True, help_text='Client address (see TRUSTED_PROXY_COUNT).', null=True)),
                        ('request_id', models.CharField(blank=True, help_text='X-Request-ID of the request, to find its logs.', max_length=128)),
                        ('path', models.CharField(blank=True, max_length=255)),
                        ('details', models.JSONField(blank=True, default=dict, help_text='Ids, key prefixes, attempted emails, roles: never a secret.')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('actor', models.ForeignKey(blank=True, db_index=False, help_text='The user who acted, when known.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('tenant', models.ForeignKey(blank=True, db_index=False, help_text='The tenant the event concerns; its owners can read the row.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tenants.tenant')),
                    ],
                    options={
                        'verbose_name': 'audit log entry',
                        'verbose_name_plural': 'audit log',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(fields=['created_at'], name='audit_created_idx'), models.Index(fields=['event', 'created_at'], name='audit_event_created_idx'), models.Index(fields=['actor', 'created_at'], name='audit_actor_created_idx'), models.Index(fields=['tenant', 'created_at'], name='audit_tenant_created_idx'), models.Index(fields=['request_id'], name='audit_request_id_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
