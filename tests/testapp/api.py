"""A second resource declared only in tests: tenant-scoped, no owner, with declared verbs."""
from rest_framework import serializers

from apps import api

from . import services
from .models import Label, Note, Specimen


class SearchInput(serializers.Serializer):
    text = serializers.CharField(max_length=50)


class NoteImportInput(serializers.Serializer):
    note = serializers.JSONField(help_text='A note as another tool exports it: `{"body": ...}`.')


class NoteBodySerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "body"]


@api.register(Note)
class NoteResource(api.Resource):
    """Notes shared by everyone in a tenant."""

    name = "notes"
    scope = "notes"
    tenant_field = "tenant"
    fields = ["id", "body", "colour", "pinned", "author", "created_at"]
    read_only = ["id", "pinned", "author", "created_at"]
    filters = {"colour": "colour", "pinned": "pinned"}
    search = ["body"]
    ordering = ["colour", "created_at"]
    default_ordering = ["created_at"]
    select_related = ["author"]

    def perform_create(self, request, data):
        return super().perform_create(request, {**data, "author": request.user})

    @api.action(detail=True, methods=["post"], scope="notes:write")
    def pin(self, request, note):
        """Pin a note; pinning a pinned note is 409."""
        return services.note_pin(note=note)

    @api.action(detail=False, scope="notes:read", input=SearchInput, output=NoteBodySerializer,
                many=True)
    def bodies(self, request, data):
        """Only the bodies of the notes that contain `text`."""
        return services.note_search(tenant=request.tenant, text=data["text"])

    @api.action(detail=False, methods=["post"], url_path="import", scope="notes:write", input=NoteImportInput,
                status=201)
    def import_note(self, request, data):
        """Create a note from its export by another tool (an action input holding JSON)."""
        return services.note_import(tenant=request.tenant, author=request.user, exported=data["note"])

    @api.action(detail=False, url_path="pinned", scope="notes:read", output=Note, many=True)
    def pinned(self, request, queryset):
        """The pinned notes among those you can see (a list action over the caller's queryset)."""
        return queryset.filter(pinned=True)


@api.register(Specimen)
class SpecimenResource(api.Resource):
    """One column of every type rendered from rows, read-only (tests/api/test_row_rendering.py)."""

    name = "specimens"
    scope = "notes"
    tenant_field = "tenant"
    fields = ["id", "note", "text", "long_text", "slug", "email", "url", "shade", "rank", "small", "count", "big",
              "flag", "ratio", "amount", "day", "moment", "clock", "span", "token", "address", "data"]
    operations = ("list", "retrieve")
    default_ordering = ["pk"]
    admin = False


@api.register(Label)
class LabelResource(api.Resource):
    """Labels of a tenant; a label's name is unique among the tenant's labels that are not deleted."""

    name = "labels"
    scope = "notes"
    tenant_field = "tenant"
    fields = ["id", "name", "updated_at", "deleted_at"]
    read_only = ["id", "updated_at", "deleted_at"]
    soft_delete = "deleted_at"
    etags = True
    last_modified = "updated_at"
