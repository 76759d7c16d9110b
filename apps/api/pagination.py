"""Page-number pagination whose page size comes from the resource and is clamped, never refused."""
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from .conf import api_settings


class ResourcePagination(PageNumberPagination):
    """`?page=` and `?page_size=`; a page size above the maximum is clamped to it (DRF's cutoff)."""

    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> list | None:
        self.page_size = getattr(view, "page_size", None) or api_settings.PAGE_SIZE
        self.max_page_size = api_settings.MAX_PAGE_SIZE
        return super().paginate_queryset(queryset, request, view)
