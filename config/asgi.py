"""ASGI entry point: HTTP through Django, WebSockets through Channels (routes come from the apps)."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up first)

from apps.jobs.socket_auth import socket_auth_stack  # noqa: E402
from config.websockets import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": socket_auth_stack(URLRouter(websocket_urlpatterns)),
})
