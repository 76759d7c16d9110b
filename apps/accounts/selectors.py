"""Reads of accounts: how a URL names a user or an API key."""
from typing import Any

from apps.api.serializers import NULL_CHARACTER

from .authentication import key_digest, key_prefix


def user_lookup(value: str) -> dict[str, Any]:
    """Filter kwargs naming a user by id or by email: accounts have no username, and the email is what people
    sign in with (`/auth/users/{username}`)."""
    if value.isascii() and value.isdigit():
        return {"pk": int(value)}
    if NULL_CHARACTER in value:  # no email holds one, and PostgreSQL refuses NUL in a query
        return {"pk__in": []}
    return {"email__iexact": value}


def api_key_lookup(value: str) -> dict[str, Any]:
    """Filter kwargs naming an API key by id, or by the key itself (`DELETE /auth/api-keys/{key}`): its public
    prefix finds the row, its digest proves the caller holds the secret."""
    if value.isascii() and value.isdigit():
        return {"pk": int(value)}
    return {"prefix": key_prefix(value) or "", "digest": key_digest(value)}
