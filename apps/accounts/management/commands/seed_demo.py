"""`manage.py seed_demo`: an idempotent demo admin, demo user and demo tenant for trying Tessera locally."""
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import User
from apps.tenants.models import Membership, Tenant

DEMO_TENANT = {"slug": "demo", "name": "Demo"}
DEMO_ACCOUNTS = [
    # email, password, role, membership role, Django admin access
    ("admin@tessera.local", "demo-admin-password", User.Role.ADMIN, Membership.Role.OWNER, True),
    ("user@tessera.local", "demo-user-password", User.Role.USER, Membership.Role.MEMBER, False),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo admin, demo user and demo tenant, and print their credentials."

    @transaction.atomic
    def handle(self, *args, **options):
        tenant, _ = Tenant.objects.get_or_create(slug=DEMO_TENANT["slug"], defaults={"name": DEMO_TENANT["name"]})
        for email, password, role, membership_role, staff in DEMO_ACCOUNTS:
            user, _ = User.objects.get_or_create(email=email)
            user.role, user.is_staff, user.is_superuser, user.is_active = role, staff, staff, True
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": membership_role})
        self.stdout.write(self.style.SUCCESS(f"Demo tenant: {tenant.slug} (id {tenant.pk})"))
        for email, password, role, _, staff in DEMO_ACCOUNTS:
            where = "API and /admin/" if staff else "API"
            self.stdout.write(f"  {role:<6} {email} / {password}   ({where})")
