"""Each agent type's config, validated by its own schema: unknown keys are refused, never dropped."""
from typing import Any

from rest_framework import serializers

from apps.api.errors import ValidationFailed
from apps.api.serializers import StrictSerializer

from .conf import service_configured

REVIEW_LEVELS = ["quick", "standard", "thorough"]
GIT_REF = r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$"


class CodeAnalyzerConfig(StrictSerializer):
    """Analyse one branch of the project's repository: lint findings, complexity, line counts, a quality score."""

    branch = serializers.RegexField(GIT_REF, required=False, help_text="Default: the project's default branch.")
    security = serializers.BooleanField(default=False, help_text="Also report bandit's security findings.")


class PullRequestReviewerConfig(StrictSerializer):
    """Review the lines `head` changes since it left `base`: lint (quick), plus complexity and performance
    (standard), plus security (thorough)."""

    level = serializers.ChoiceField(choices=REVIEW_LEVELS, default="standard")
    base = serializers.RegexField(GIT_REF, help_text="The branch the pull request merges into.")
    head = serializers.RegexField(GIT_REF, help_text="The branch or ref (refs/pull/7/head) to review.")
    pull_request = serializers.IntegerField(required=False, help_text="The tracked pull request this reviews.")


class IssueResolverConfig(StrictSerializer):
    """Hand an issue to the external agent service; POST /issues/{id}/assign makes these."""

    issue = serializers.IntegerField(help_text="The issue to resolve (of the agent's project).")
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class CustomConfig(StrictSerializer):
    """Any work the external agent service knows how to do, described by `instructions` and `parameters`."""

    instructions = serializers.CharField(max_length=10_000)
    parameters = serializers.DictField(required=False, default=dict)


#: Every type and its config schema. issue_resolver and custom run on the external agent service, so they are
#: offered only where one is configured (TESSERA_AGENTS).
CONFIGS: dict[str, type[StrictSerializer]] = {
    "code_analyzer": CodeAnalyzerConfig,
    "pr_reviewer": PullRequestReviewerConfig,
    "issue_resolver": IssueResolverConfig,
    "custom": CustomConfig,
}
DELEGATED = ("issue_resolver", "custom")


def validated_config(agent_type: str, config: Any) -> dict[str, Any]:
    """The config, cleaned by the type's schema; errors are named `config.<field>` (or `type`)."""
    schema = CONFIGS.get(agent_type)
    if schema is None or (agent_type in DELEGATED and not service_configured()):
        raise ValidationFailed(details={"type": [f'"{agent_type}" agents are not available in this deployment.']})
    serializer = schema(data=config if config is not None else {})
    if not serializer.is_valid():
        errors = serializer.errors
        raise ValidationFailed(details={f"config.{name}": messages for name, messages in errors.items()})
    return dict(serializer.validated_data)
