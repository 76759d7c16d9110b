"""WebSocket routes of the job engine (collected by config/websockets.py)."""
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/jobs/<int:job_id>/", consumers.JobConsumer.as_asgi()),
    path("ws/jobs/", consumers.JobsConsumer.as_asgi()),
    path("ws/admin/jobs/<int:job_id>/", consumers.OperatorJobConsumer.as_asgi()),
]
