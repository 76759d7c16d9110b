"""HTTP surface of accounts: auth flows (hand-written, they are not model CRUD), users and API keys."""
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponseBase
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response

from apps import api
from apps.api.parsers import FormParser, JSONParser
from apps.api.serializers import ResourceSerializer
from apps.api.scoping import require_tenant
from apps.api.viewsets import ApiView
from apps.platform.error_envelope import ErrorEnvelope
from apps.tenants.models import Tenant

from . import oauth, selectors, services
from .authentication import is_jwt
from .conf import accounts_settings
from .models import ApiKey, User
from .scopes import role_scopes


class AccountSerializer(serializers.ModelSerializer):
    """A user account as its owner sees it."""

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "is_active", "date_joined", "last_login"]
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    access_token = serializers.CharField(help_text="The same token as `access`, under OAuth2's name.")
    refresh_token = serializers.CharField(help_text="The same token as `refresh`, under OAuth2's name.")
    token_type = serializers.CharField(help_text='Always "bearer".')
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class ClientTokenSerializer(serializers.Serializer):
    """What a client application's grant (`authorization_code`, `refresh_token`) gets: OAuth2's token response."""

    access_token = serializers.CharField()
    token_type = serializers.CharField(help_text='"Bearer".')
    expires_in = serializers.IntegerField()
    refresh_token = serializers.CharField()
    scope = serializers.CharField(help_text="The scopes granted, separated by spaces.")


class ClientTokenErrorSerializer(serializers.Serializer):
    """A refused grant of a client application, in OAuth2's format (RFC 6749, section 5.2)."""

    error = serializers.CharField(help_text="`invalid_request`, `invalid_client`, `invalid_grant`, ...")
    error_description = serializers.CharField(required=False)


def either(name: str, *serializer_classes: type[serializers.Serializer]) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(component_name=name, serializers=list(serializer_classes),
                                      resource_type_field_name=None)


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class TokenInput(serializers.Serializer):
    grant_type = serializers.ChoiceField(
        choices=["password", *sorted(oauth.CLIENT_GRANT_TYPES)], required=False,
        help_text="`password` (the default) signs a person in with `email`/`username` and `password`. A client "
                  "application sends `authorization_code` (with `code`, `redirect_uri`, `code_verifier`) or "
                  "`refresh_token`, form-encoded, and is answered in OAuth2's format.")
    email = serializers.CharField(required=False, max_length=254)
    username = serializers.CharField(required=False, max_length=254,
                                     help_text="OAuth2's name for the email (accounts have no other username).")
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["email"] = attrs.get("email") or attrs.pop("username", None)
        if not attrs["email"]:
            raise serializers.ValidationError({"email": ["This field is required."]})
        return attrs


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField()


class ProfileSerializer(AccountSerializer):
    """You, with the scopes you hold in the active tenant and the tenants you belong to."""

    scopes = serializers.SerializerMethodField()
    tenants = serializers.SerializerMethodField()

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "scopes", "tenants"]
        read_only_fields = fields

    def get_scopes(self, user: User) -> list[str]:
        return sorted(self.context["request"].scopes)

    def get_tenants(self, user: User) -> list[dict]:
        return [{"id": m.tenant_id, "slug": m.tenant.slug, "name": m.tenant.name, "role": m.role}
                for m in user.memberships.select_related("tenant")]


class ProfileUpdateInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=255, allow_blank=True)


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, style={"input_type": "password"})


class PublicAuthView(ApiView):
    """Base of the endpoints that sign people in: open to anonymous callers, rate limited per address, and
    closed (503) rather than unlimited when the rate-limit store is down."""

    access = api.Access.PUBLIC
    schema_tag = "auth"
    rate_limit_fail_closed = True


class RegisterView(PublicAuthView):
    """Create an account. You get the `user` role and a personal tenant you own; role fields in the body are ignored."""

    @extend_schema(request=RegisterInput, responses={201: AccountSerializer})
    def post(self, request: Request) -> Response:
        user = services.user_register(**self.validated(RegisterInput))
        return Response(AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(PublicAuthView):
    """Exchange email and password for a token pair: JSON `{email, password}` or `{username, password}` (the
    username is the email), or the OAuth2 password form (`username=&password=`) that Swagger's Authorize button
    sends. The pair comes under Tessera's names (`access`, `refresh`) and OAuth2's (`access_token`,
    `refresh_token`). Wrong credentials are a 401 that reads the same whether the email exists or not. Attempts
    are limited per email and per address (429), whatever the password: the same limits as every other sign-in.

    It is also the token endpoint of the OAuth2 authorization-code flow (`/auth/authorize`): a client application
    posts `grant_type=authorization_code` or `grant_type=refresh_token`, form-encoded with its client credentials,
    and gets OAuth2's answer (`access_token`, `token_type`, `expires_in`, `refresh_token`, `scope`; errors as
    `{"error": ...}`, RFC 6749). `grant_type=refresh_token` with one of Tessera's refresh tokens rotates it, as
    `/auth/token/refresh` does."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=TokenInput, responses={
        200: either("TokenResponse", TokenPairSerializer, ClientTokenSerializer),
        400: either("TokenError", ErrorEnvelope, ClientTokenErrorSerializer),
        401: either("TokenRefusal", ErrorEnvelope, ClientTokenErrorSerializer)})
    def post(self, request: Request) -> HttpResponseBase:
        body = request.data if isinstance(request.data, Mapping) else {}
        grant_type, refresh = body.get("grant_type"), body.get("refresh_token")
        if grant_type == "refresh_token" and isinstance(refresh, str) and is_jwt(refresh):
            return Response(services.token_refresh(refresh, request=request))
        if isinstance(grant_type, str) and grant_type in oauth.CLIENT_GRANT_TYPES:
            return oauth.client_token_response(request)
        data = self.validated(TokenInput)
        try:
            user = services.credentials_check(request=request, email=data["email"], password=data["password"])
        except services.SignInRefused as refused:
            raise refused.refusal from None
        if user is None:
            raise AuthenticationFailed(services.BAD_CREDENTIALS)
        return Response(services.token_pair_issue(user))


class RefreshView(PublicAuthView):
    """Rotate a refresh token: you get a new pair and the old refresh token dies. Of concurrent uses of one token
    exactly one succeeds; any other use of a rotated token is a 401 that also ends the whole sign-in it came
    from (every refresh and access token descended from the same login): sign in again."""

    @extend_schema(request=RefreshInput, responses={200: TokenPairSerializer})
    def post(self, request: Request) -> Response:
        data = self.validated(RefreshInput)
        return Response(services.token_refresh(data["refresh"], request=request))


class LogoutView(PublicAuthView):
    """End a sign-in (204): the refresh token given, every token rotated from the same login, and their access
    tokens stop working at once; so does the access token sent with this request, if any. Other sign-ins
    of the same user stay alive."""

    @extend_schema(request=RefreshInput, responses={204: None})
    def post(self, request: Request) -> Response:
        data = self.validated(RefreshInput)
        services.token_revoke(data["refresh"], request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(ApiView):
    """You: your platform role, the scopes you hold in the active tenant, and your tenants. An API key may read
    it (to learn the scopes it holds); changing the profile is for you, signed in, so a key gets a 403."""

    access = {"get": api.Access.CALLER, "patch": api.Access.PERSONAL}
    schema_tag = "auth"

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(request.user, context={"request": request}).data)

    @extend_schema(request=ProfileUpdateInput, responses={200: ProfileSerializer})
    def patch(self, request: Request) -> Response:
        data = self.validated(ProfileUpdateInput)
        services.user_update(user=request.user, changed_by=request.user, **data)
        return Response(ProfileSerializer(request.user, context={"request": request}).data)


class ActiveTenantView(ApiView):
    """The tenant this request acts in (chosen by X-Tenant-ID, else your first tenant); 403 when you have none."""

    access = api.Access.CALLER
    schema_tag = "auth"

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return api.site.get_serializer(Tenant)

    def get(self, request: Request) -> Response:
        return Response(self.get_serializer_class()(require_tenant(request)).data)


class SocketTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Open the WebSocket with `?ticket=<ticket>`; it lets one socket in.")
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays usable.")


class SocketTicketView(ApiView):
    """A one-time ticket for a browser WebSocket, which cannot send headers: open `/ws/jobs/…?ticket=<ticket>`
    within `expires_in` seconds. It lets one socket in as you (with your API key's scopes if you used one) and
    is then spent, so the URL is worthless afterwards (201)."""

    schema_tag = "auth"
    access = api.Access.CALLER  # a key's ticket carries no more than the key's own scopes

    @extend_schema(request=None, responses={201: SocketTicketSerializer})
    def post(self, request: Request) -> Response:
        ticket = services.socket_ticket_issue(user=request.user, auth=request.auth)
        return Response({"ticket": ticket, "expires_in": accounts_settings.SOCKET_TICKET_SECONDS},
                        status=status.HTTP_201_CREATED)


class PasswordChangeView(ApiView):
    """Change your password (204). Every access token, refresh token and API key you held before it stops
    working, including the token that made this request. For you, signed in: an API key gets a 403, whatever
    scopes it holds."""

    access = api.Access.PERSONAL
    schema_tag = "auth"

    @extend_schema(request=PasswordChangeInput, responses={204: None})
    def post(self, request: Request) -> Response:
        data = self.validated(PasswordChangeInput)
        services.password_change(user=request.user, request=request, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


api.site.route("auth/register", RegisterView)
api.site.route("auth/token", TokenView)
api.site.route("auth/login", TokenView, name="auth-login")
api.site.route("auth/token/refresh", RefreshView)
api.site.route("auth/logout", LogoutView)
api.site.route("auth/me", MeView)
api.site.route("auth/me/tenant", ActiveTenantView)
api.site.route("auth/password", PasswordChangeView)
api.site.route("auth/ws-ticket", SocketTicketView)


class UserSerializer(ResourceSerializer):
    """Replaces the generated serializer because an account is opened with a password, which is written once and
    never shown, and its email is fixed from then on."""

    password = serializers.CharField(write_only=True, required=False, max_length=128,
                                     style={"input_type": "password"},
                                     help_text="Required when opening the account, refused afterwards; never shown.")

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "is_active", "date_joined", "last_login", "password"]
        read_only_fields = ["id", "date_joined", "last_login"]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None:  # a change of an existing account: its email stays
            fields["email"].read_only = True
        else:
            fields["password"].required = True
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "password" in attrs:
            raise serializers.ValidationError(
                {"password": ["Only its owner changes a password (POST /auth/password)."]})
        return attrs


@api.register(User)
class UserResource(api.Resource):
    """Platform user management, for platform admins: open an account (with a personal tenant, as registration
    gives), change a user's `role` or deactivate them (`is_active`). A user is named by id or by email. A
    deactivated user's tokens, API keys and client applications' tokens stop working at once, and reactivating
    them revives none."""

    name = "users"
    scope = "users"
    admin_only = True
    serializer_class = UserSerializer
    fields = ["id", "email", "full_name", "role", "is_active", "date_joined", "last_login"]
    read_only = ["id", "date_joined", "last_login"]
    filters = {"role": "role", "is_active": "is_active"}
    search = ["email", "full_name"]
    ordering = ["email", "date_joined"]
    default_ordering = ["email"]
    operations = ("list", "create", "retrieve", "update")
    lookup = staticmethod(selectors.user_lookup)
    lookup_value_regex = "[^/]+"  # an id or an email
    admin = False  # accounts/admin.py registers a UserAdmin that handles passwords

    def perform_create(self, request: Request, data: dict[str, Any]) -> User:
        return services.user_create(created_by=request.user, request=request, **data)

    def perform_update(self, request: Request, instance: User, data: dict[str, Any]) -> User:
        return services.user_update(user=instance, changed_by=request.user, request=request, **data)


class ApiKeySerializer(serializers.ModelSerializer):
    """Replaces the generated serializer: `key` (the secret) exists only in the response to the create call."""

    key = serializers.SerializerMethodField(help_text="The secret. Shown once, in the response to create.")
    scopes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False, max_length=100)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "key", "scopes", "expires_at", "last_used_at", "revoked_at", "created_at"]
        read_only_fields = ["id", "prefix", "key", "last_used_at", "revoked_at", "created_at"]

    def get_key(self, key: ApiKey) -> str | None:
        # Only in the answer to the create call: a change event renders the same row without a request.
        return getattr(key, "secret", None) if self.context.get("request") is not None else None


@api.register(ApiKey)
class ApiKeyResource(api.Resource):
    """Your API keys, for scripts: send one as `X-API-Key`. The secret is shown once, at creation; afterwards only
    its prefix. A key's scopes must be a subset of yours (else 400); `admin`, for platform admins, stands for all
    of theirs. Deleting a key revokes it at once (204); name it by id or by the key itself. Managing keys is for
    you, signed in: an API key gets a 403 here, whatever scopes it holds."""

    name = "auth/api-keys"
    scope = "api_keys"
    personal = True
    owner_field = "user"
    serializer_class = ApiKeySerializer
    fields = ["id", "name", "prefix", "scopes", "expires_at", "last_used_at", "revoked_at", "created_at"]
    read_only = ["id", "prefix", "last_used_at", "revoked_at", "created_at"]
    ordering = ["created_at", "name"]
    default_ordering = ["-created_at"]
    operations = ("list", "create", "retrieve", "destroy")
    lookup = staticmethod(selectors.api_key_lookup)
    lookup_value_regex = "(?:[0-9]+|tsk_[A-Za-z0-9_-]+)"  # an id, or the key
    events = True  # api_key.created / api_key.deleted (revoked), for the audit stream; never with the secret
    event_name = "api_key"
    idempotent = False  # a replay would show the secret again, and keep it in the cache for a day
    admin = False  # accounts/admin.py shows keys without their digest and adds a revoke action

    def perform_create(self, request: Request, data: dict[str, Any]) -> ApiKey:
        return services.api_key_create(user=request.user, allowed=role_scopes(request.user.role), request=request,
                                       **data)

    def perform_destroy(self, request: Request, instance: ApiKey) -> None:
        services.api_key_revoke(instance, revoked_by=request.user, request=request)
