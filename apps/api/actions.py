"""`@api.action`: declares a verb on a resource. It only attaches an ActionSpec; the factory builds the view."""
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

#: A Resource method, returned by `action` unchanged but for its `action_spec`.
Method = TypeVar("Method", bound=Callable[..., Any])


@dataclass(frozen=True)
class ActionSpec:
    """What a declared verb needs; the parameter names and meanings are DRF's `@action` plus four of ours."""

    detail: bool
    methods: tuple[str, ...]
    url_path: str | None
    scope: str | None
    input: type | None
    output: type | None
    status: int
    many: bool = False
    #: (status, serializer of the error's `details`) pairs: refusals of this verb beyond the generic ones.
    errors: tuple[tuple[int, type], ...] = ()


def action(*, detail: bool, methods: Sequence[str] = ("get",), url_path: str | None = None, scope: str | None = None,
           input: type | None = None, output: type | None = None, status: int = 200,
           many: bool = False, errors: Mapping[int, type] | None = None) -> Callable[[Method], Method]:
    """Mark a Resource method as an extra endpoint.

    `detail`, `methods` (default GET) and `url_path` mean what they mean in DRF. `scope` is required
    (check api.E008); `input` is the serializer class that validates the body (the query string for GET);
    `output` is the serializer class that renders the result (default: the resource's own), or a registered model
    for that model's generated serializer; `many=True` says the result is a list of them, and is the only way to
    say so (check api.E020). An action may also return a ready HttpResponse, such as a file, and name its
    OpenAPI type (an `OpenApiTypes` value) as `output`. `status` is the success status. `errors` names the
    refusals the verb has beyond every endpoint's (a service's 422, say), each status mapped to the serializer of
    its error's `details`, whose docstring says when it happens: OpenAPI documents them in the envelope.
    The method's signature says what it receives: `(request, obj)` for detail actions, `(request, data)`
    when there is input, `(request, obj, data)` for both, plus any named groups of `url_path`. A list action
    that names a `queryset` parameter receives the rows the caller can see, narrowed by the list filters.
    """

    def decorator(func: Method) -> Method:
        func.action_spec = ActionSpec(
            detail=detail, methods=tuple(m.lower() for m in methods), url_path=url_path, scope=scope,
            input=input, output=output, status=status, many=many, errors=tuple(sorted((errors or {}).items())),
        )
        return func

    return decorator
