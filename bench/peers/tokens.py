"""The access-token check the peers without simplejwt share: what simplejwt's JWTAuthentication checks."""
import hashlib
import os

import jwt

SIGNING_KEY = os.environ["JWT_SIGNING_KEY"]


class InvalidToken(Exception):
    """The request carries no usable access token (a 401)."""


def access_token_claims(authorization: str | None) -> dict:
    """The claims of `Authorization: Bearer <access token>`: signature, expiry and token type checked."""
    scheme, _, raw = (authorization or "").partition(" ")
    if scheme != "Bearer" or not raw:
        raise InvalidToken("Authentication credentials were not provided.")
    try:
        claims = jwt.decode(raw, SIGNING_KEY, algorithms=["HS256"], options={"require": ["exp", "user_id"]})
    except jwt.InvalidTokenError as error:
        raise InvalidToken("Token is invalid or expired.") from error
    if claims.get("token_type") != "access":
        raise InvalidToken("Token has wrong type.")
    return claims


def check_user(claims: dict, *, is_active: bool, password: str) -> None:
    """The looked-up user must be active and have the password the token was issued for (CHECK_REVOKE_TOKEN)."""
    if not is_active:
        raise InvalidToken("User is inactive.")
    if claims.get("hash_password") != hashlib.md5(password.encode()).hexdigest().upper():
        raise InvalidToken("The user's password has been changed.")
