"""docs/API.md, the HTTP contract in the repository, stays true to the code.

Every backticked `/api/v1/` path it documents resolves in the URL conf, and every path of the OpenAPI schema is
documented there. Only the "Planned (not built yet)" section, which names surfaces of later issues, is skipped.
"""
import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator

from apps.platform.meta_views import ApiNotFoundView

API_MD = Path(__file__).resolve().parents[2] / "docs" / "API.md"
PLANNED_HEADING = "## Planned (not built yet)"
DOCUMENTED_PATH = re.compile(r"`(/api/v1/[^`\s]*)`")
PARAMETER = re.compile(r"\{[a-z_]+\}")


def contract_text() -> str:
    """API.md up to its Planned section: the part that claims to be built."""
    text = API_MD.read_text()
    assert PLANNED_HEADING in text, "API.md keeps not-yet-built surfaces under its Planned heading"
    return text.split(PLANNED_HEADING, 1)[0]


def documented_paths() -> set[str]:
    """Paths in its tables and prose; headings only name the prefix of their section."""
    lines = [line for line in contract_text().splitlines() if not line.startswith("#")]
    return set(DOCUMENTED_PATH.findall("\n".join(lines)))


def canonical(path: str) -> str:
    """One spelling per route: parameters as {}, no trailing slash (every route takes both)."""
    return PARAMETER.sub("{}", path).rstrip("/")


def is_test_only(path: str) -> bool:
    """Routes of tests/testapp (installed only under test) belong to no contract."""
    view = resolve(PARAMETER.sub("1", path)).func
    return getattr(view, "cls", view).__module__.startswith("tests.")


def resolves(path: str) -> bool:
    try:
        match = resolve(PARAMETER.sub("1", path))
    except Resolver404:
        return False
    return getattr(match.func, "view_class", None) is not ApiNotFoundView


def test_api_md_documents_paths_under_api_v1():
    assert len(documented_paths()) > 40


@pytest.mark.parametrize("path", sorted(documented_paths()))
def test_every_documented_path_is_served(path):
    assert resolves(path), f"docs/API.md documents {path}, which the URL conf does not serve"


def test_every_path_of_the_schema_is_documented():
    schema_paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    documented = {canonical(path) for path in documented_paths()}

    missing = sorted(path for path in schema_paths if path.startswith("/api/v1/") and not is_test_only(path)
                     and canonical(path) not in documented)

    assert missing == [], "served but missing from docs/API.md"


def test_a_path_outside_the_url_conf_does_not_resolve():
    """The check has teeth: the /api/ catch-all does not count as serving a path."""
    assert not resolves("/api/v1/no-such-resource/")
