"""Secrets kept at rest encrypted (Fernet: AES-128-CBC with an HMAC-SHA256), for apps that must use a secret again
later and so cannot keep only a digest: migration credentials, webhook signing secrets.

Each use names its key: a deployment's configured key (a Fernet key, 32 url-safe base64 bytes), or, when none is
configured, one derived from SECRET_KEY and the use's `purpose`, so two uses never share a key and a value sealed
for one cannot be opened as the other. Rotating SECRET_KEY without a configured key makes the sealed values
unreadable: production deployments configure the keys.
"""
import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


def seal(plain: str, *, key: str, purpose: str) -> str:
    """`plain` encrypted, as text for a database column."""
    return _fernet(key, purpose, settings.SECRET_KEY).encrypt(plain.encode()).decode()


def unseal(token: str, *, key: str, purpose: str) -> str:
    """The text `seal` encrypted with the same key and purpose (cryptography's InvalidToken otherwise)."""
    return _fernet(key, purpose, settings.SECRET_KEY).decrypt(token.encode()).decode()


def key_problem(key: object) -> str | None:
    """What is wrong with a configured key (a settings check), or None; empty means "derive one"."""
    if key == "":
        return None
    try:
        Fernet(key.encode() if isinstance(key, str) else key)
    except (TypeError, ValueError, AttributeError):
        return "is not a Fernet key (32 url-safe base64-encoded bytes; Fernet.generate_key() makes one)."
    return None


@lru_cache(maxsize=16)
def _fernet(key: str, purpose: str, secret_key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    digest = hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
