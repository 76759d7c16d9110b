"""The baseline: the Task API as a careful developer writes it by hand with DRF, feature for feature.

Same contract as the generated TaskViewSet: JWT auth, active tenant from X-Tenant-ID checked against
memberships of active tenants, owner filter, the same filters, search, ordering, and 50-row pages capped at 100. Rate
limiting is off on both sides during the benchmark (DRF's history-list throttle would slow this side
for reasons unrelated to the generator). Only the benchmark routes to it.
"""
from django_filters import rest_framework as filters
from rest_framework import exceptions, pagination, serializers, viewsets
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import IsAuthenticated

from apps.tasks.models import Task
from apps.tenants.models import Membership


class HandWrittenTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "description", "status", "priority", "due_date", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class HandWrittenTaskFilter(filters.FilterSet):
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = Task
        fields = ["status", "priority"]


class HandWrittenPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class HandWrittenTaskViewSet(viewsets.ModelViewSet):
    serializer_class = HandWrittenTaskSerializer
    permission_classes = [IsAuthenticated]
    throttle_classes = []
    pagination_class = HandWrittenPagination
    filter_backends = [filters.DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_class = HandWrittenTaskFilter
    search_fields = ["title", "description"]
    ordering_fields = ["due_date", "priority", "created_at", "title"]
    ordering = ["-created_at"]

    def active_tenant(self):
        wanted = self.request.headers.get("X-Tenant-ID", "")
        memberships = Membership.objects.select_related("tenant").filter(user=self.request.user,
                                                                          tenant__is_active=True)
        membership = memberships.filter(tenant_id=wanted).first() if wanted.isdigit() else memberships.first()
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of this tenant.")
        return membership.tenant

    def get_queryset(self):
        return Task.objects.filter(tenant=self.active_tenant(), user=self.request.user)

    def perform_create(self, serializer):
        serializer.save(tenant=self.active_tenant(), user=self.request.user)
