"""Where a webhook may be sent: a URL's host is resolved and every address it resolves to is checked, so a
subscription cannot reach the platform's own network (SSRF), at creation and again at each delivery.

An address is refused when it is not globally routable (loopback, private, link-local and with it the cloud
metadata address 169.254.169.254, shared, reserved, unspecified) or is multicast, unless it lies in one of
TESSERA_WEBHOOKS["ALLOWED_NETWORKS"]. A delivery connects to the address that was checked, never to a second
lookup of the name, so a DNS answer that changes between the check and the connection cannot slip through.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from .conf import networks, webhooks_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be delivered to; the message says why, for the API user and the attempt record."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts, and the address a delivery connects to."""

    scheme: str
    host: str
    port: int
    address: IPAddress

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def pinned_url(self, url: str) -> str:
        """`url` with its host replaced by the checked address (the Host header and TLS name keep the host)."""
        parts = urlsplit(url)
        address = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return parts._replace(netloc=f"{address}:{self.port}").geturl()


#: ALLOWED_NETWORKS parsed once per value (a malformed one fails `manage.py check`: webhooks.E002).
_networks = lru_cache(maxsize=8)(networks)


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` may not be a target, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _networks(tuple(webhooks_settings.ALLOWED_NETWORKS))):
        return None
    if address.is_multicast:
        return f"{address} is a multicast address."
    if not address.is_global:
        kind = ("loopback" if address.is_loopback else "link-local (cloud metadata)" if address.is_link_local
                else "private" if address.is_private else "reserved")
        return f"{address} is a {kind} address."
    return None


def resolve_target(url: str) -> Target:
    """The checked target of `url`; `TargetRefused` when the URL is unfit or any address it resolves to is refused
    (one bad answer among good ones is enough: the next lookup could return it first)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused(f"Not a valid URL: {error}.") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Only http and https URLs can receive webhooks.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("Credentials in the URL are not allowed; send them as an extra header.")
    try:
        answers = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"The host {parts.hostname} does not resolve ({error}).") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(answer[4][0].split("%")[0]) for answer in answers))
    if not addresses:
        raise TargetRefused(f"The host {parts.hostname} does not resolve.")
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise TargetRefused(f"{parts.hostname} resolves to a refused address: {reason}")
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, address=addresses[0])
