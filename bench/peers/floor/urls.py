from django.urls import path

from . import views

urlpatterns = [path("api/v1/tasks/", views.tasks), path("api/v1/tasks/<int:task_id>/", views.task_detail)]
