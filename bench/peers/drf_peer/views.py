"""The Task endpoints: a ModelSerializer and a ModelViewSet, nothing else."""
from rest_framework import exceptions, serializers, viewsets

from .models import Task


class TaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "description", "status", "priority", "due_date", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class TaskViewSet(viewsets.ModelViewSet):
    serializer_class = TaskSerializer

    def tenant_id(self) -> int:
        try:
            return int(self.request.headers["X-Tenant-ID"])
        except (KeyError, ValueError):
            raise exceptions.ParseError("X-Tenant-ID must be a tenant id.") from None

    def get_queryset(self):
        return Task.objects.filter(tenant_id=self.tenant_id(), user=self.request.user).order_by("-created_at", "id")

    def perform_create(self, serializer):
        serializer.save(tenant_id=self.tenant_id(), user=self.request.user)
