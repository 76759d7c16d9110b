"""Peer (b): a bare DRF project, ModelViewSet + simplejwt + PageNumberPagination, under gunicorn."""
