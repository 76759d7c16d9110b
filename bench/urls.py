"""The project's URLs plus the hand-written baseline at /bench/handwritten/tasks/."""
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bench.handwritten import HandWrittenTaskViewSet
from config.urls import handler404, handler500, urlpatterns as project_urlpatterns  # noqa: F401

router = SimpleRouter()
router.register("tasks", HandWrittenTaskViewSet, basename="handwritten-tasks")

urlpatterns = [path("bench/handwritten/", include(router.urls)), *project_urlpatterns]
