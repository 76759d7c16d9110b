"""WebSocket routes of every app that has a `routing.py` (only the jobs app, once it exists)."""
from importlib import import_module

from django.apps import apps

websocket_urlpatterns = []
for app_config in apps.get_app_configs():
    try:
        module = import_module(f"{app_config.name}.routing")
    except ModuleNotFoundError as error:
        if error.name != f"{app_config.name}.routing":
            raise
        continue
    websocket_urlpatterns += module.websocket_urlpatterns
