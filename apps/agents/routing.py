"""WebSocket routes of the agents app (collected by config/websockets.py)."""
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/agents/<int:agent_id>/", consumers.AgentConsumer.as_asgi()),
    path("ws/logs/<int:agent_id>/", consumers.LogConsumer.as_asgi()),
]
