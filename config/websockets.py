"""WebSocket routes of every project app that has a `routing.py` (the jobs app, once it exists)."""
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps

websocket_urlpatterns = []
for app_config in apps.get_app_configs():
    module_name = f"{app_config.name}.routing"
    if app_config.name.startswith("apps.") and find_spec(module_name) is not None:
        websocket_urlpatterns += import_module(module_name).websocket_urlpatterns
