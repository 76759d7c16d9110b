"""Per-resource request rates, counted in the shared cache through django-ratelimit's core."""
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle


def client_key(group, request) -> str:
    """Who is being counted: the API key, else the user, else the client address."""
    auth = getattr(request, "auth", None)
    if getattr(auth, "prefix", None):
        return f"key:{auth.prefix}"
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


class ResourceThrottle(BaseThrottle):
    """Allows `view.throttle_rate` requests per client per window; the usage feeds the X-RateLimit headers."""

    def allow_request(self, request, view):
        rate = getattr(view, "throttle_rate", None)
        if not rate:
            return True
        usage = get_usage(request, group=f"api:{view.throttle_group}", key=client_key, rate=rate, increment=True)
        if usage is None:
            return True
        request.rate_limit_usage = usage
        self.time_left = max(usage["time_left"], 1)
        return not usage["should_limit"]

    def wait(self):
        return self.time_left
