"""Who is calling: REMOTE_ADDR, unless the deployment trusts a number of proxies in front of it."""
import pytest
from django.test import RequestFactory

from apps.platform.client_ip import client_ip


def request_from(remote="10.0.0.9", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request_from(forwarded="1.2.3.4")) == "10.0.0.9"


def test_the_setting_defaults_to_trusting_no_proxy(settings):
    del settings.TRUSTED_PROXY_COUNT

    assert client_ip(request_from(forwarded="1.2.3.4")) == "10.0.0.9"


@pytest.mark.parametrize("count, forwarded, expected", [
    (1, "203.0.113.7", "203.0.113.7"),
    (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),          # the client prepended a forged entry: ignored
    (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
    (1, "2001:db8::1", "2001:db8::1"),
])
def test_with_trusted_proxies_the_nth_address_from_the_right_is_the_client(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count

    assert client_ip(request_from(forwarded=forwarded)) == expected


@pytest.mark.parametrize("forwarded", [None, "", "203.0.113.7"])
def test_fewer_hops_than_trusted_proxies_falls_back_to_remote_addr(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(request_from(forwarded=forwarded)) == "10.0.0.9"


def test_a_forwarded_value_that_is_not_an_address_falls_back_to_remote_addr(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request_from(forwarded="evil\nINFO forged log line")) == "10.0.0.9"


def test_a_missing_or_malformed_remote_addr_is_empty(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request_from(remote="not-an-ip")) == ""
