"""WebSocket routes of the migrations app (collected by config/websockets.py)."""
from django.urls import re_path

from . import consumers

websocket_urlpatterns = [
    # The guide's path has no trailing slash; one is accepted as on the HTTP paths.
    re_path(r"^ws/migrations/(?P<session_id>[0-9A-Za-z_-]+)/?$", consumers.MigrationConsumer.as_asgi()),
]
