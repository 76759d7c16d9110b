"""TESSERA_WEBHOOKS["ALLOWED_NETWORKS"] (WEBHOOK_ALLOWED_NETWORKS) is checked at start-up: a malformed network is
system check webhooks.E002 naming it, not an error in the worker at the first delivery."""
import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apps.webhooks.targets import TargetRefused, resolve_target


def webhook_errors() -> list:
    return [error for error in checks.run_checks() if error.id.startswith("webhooks.")]


def test_a_malformed_network_is_e002_naming_it(settings):
    settings.TESSERA_WEBHOOKS = {"ALLOWED_NETWORKS": ["10.0.0.0/8", "10.0.0.0/33", "intranet", "fd00::/8"]}

    [error] = webhook_errors()

    assert error.id == "webhooks.E002"
    assert error.msg == ("TESSERA_WEBHOOKS['ALLOWED_NETWORKS'] has ['10.0.0.0/33', 'intranet'], which are not "
                         "networks in CIDR notation, like '10.0.0.0/8'.")


def test_a_single_string_instead_of_a_list_is_e002(settings):
    settings.TESSERA_WEBHOOKS = {"ALLOWED_NETWORKS": "10.0.0.0/8"}

    assert [error.id for error in webhook_errors()] == ["webhooks.E002"]


def test_manage_py_check_fails_on_it(settings):
    settings.TESSERA_WEBHOOKS = {"ALLOWED_NETWORKS": ["192.168.1.300/24"]}

    with pytest.raises(SystemCheckError, match=r"webhooks\.E002"):
        call_command("check")


@pytest.mark.parametrize("allowed", [[], ["127.0.0.0/8"], ["127.0.0.1"], ["127.0.0.1/8", "::1/128"]])
def test_well_formed_networks_pass_and_are_applied(settings, allowed):
    """A bare address is its own network, and host bits are ignored ("127.0.0.1/8" is 127.0.0.0/8)."""
    settings.TESSERA_WEBHOOKS = {"ALLOWED_NETWORKS": allowed}

    assert webhook_errors() == []
    if allowed:
        assert resolve_target("http://127.0.0.1:9/hooks").address.is_loopback
    else:
        with pytest.raises(TargetRefused):
            resolve_target("http://127.0.0.1:9/hooks")
