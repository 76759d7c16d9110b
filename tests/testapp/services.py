"""The one rule behind the Note verbs."""
from django.db import transaction

from apps.api.errors import Conflict

from .models import Note


@transaction.atomic
def note_pin(*, note: Note) -> Note:
    note = Note.objects.select_for_update().get(pk=note.pk)
    if note.pinned:
        raise Conflict("This note is already pinned.")
    note.pinned = True
    note.save(update_fields=["pinned", "updated_at"])
    return note


def note_search(*, tenant, text: str):
    return Note.objects.filter(tenant=tenant, body__icontains=text)


def note_import(*, tenant, author, exported) -> Note:
    body = exported.get("body") if isinstance(exported, dict) else None
    return Note.objects.create(tenant=tenant, author=author, body=str(body or "")[:200])
