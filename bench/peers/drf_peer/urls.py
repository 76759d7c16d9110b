from rest_framework.routers import SimpleRouter

from .views import TaskViewSet

router = SimpleRouter()
router.register("api/v1/tasks", TaskViewSet, basename="task")
urlpatterns = router.urls
