"""`HasScope`: an operation or action runs only when the request holds the scope it needs."""
from rest_framework.permissions import BasePermission


class HasScope(BasePermission):
    """Checks `view.required_scope()` against `request.scopes` (role, membership and API key combined)."""

    message = "You do not have the scope this action needs."

    def has_permission(self, request, view):
        required = view.required_scope()
        if required is None or required in request.scopes:
            return True
        self.message = f"This action needs the '{required}' scope."
        return False
