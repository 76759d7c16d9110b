"""The audit trail records account events, so its tests sign in as the accounts tests do."""
from tests.accounts.conftest import login, user_tokens  # noqa: F401 (fixtures)
