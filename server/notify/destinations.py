"""Where the product may open a connection: push endpoints on the browsers' push services, the
care-team webhook on a public address (or an internal one when the server allows it).

Endpoints and webhook URLs come from users (a browser's subscription, a clinic admin's
setting), so each is checked twice: when it is stored, and when a connection is opened. At
the second check the name is resolved again and the connection is made to the very address
that was checked, so a name that changes its answer in between cannot lead inside.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_PUSH_SERVICES",
    "Destinations",
    "Refused",
    "address_kind",
    "resolve",
]

# The push services of the major browsers (host names; "*." means any name under it).
DEFAULT_PUSH_SERVICES: tuple[str, ...] = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Opera, Samsung Internet (Firebase)
    "android.googleapis.com",  # Chrome subscriptions made before FCM (GCM endpoints)
    "*.push.services.mozilla.com",  # Firefox (Mozilla autopush)
    "*.push.apple.com",  # Safari on macOS and iOS (web.push.apple.com)
    "*.notify.windows.com",  # Edge on Windows (Windows Push Notification Services)
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]


class Refused(ValueError):
    """A destination the product does not send to; the message says why (no address)."""


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name stands for (the system resolver), or the literal itself."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_kind(text: str) -> str:
    """`public`, `loopback`, `private` (RFC 1918, unique local, shared, ...), `link_local`
    (which holds the cloud metadata address 169.254.169.254) or `other` (multicast,
    unspecified, reserved)."""
    address: Address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_multicast or address.is_unspecified:
        return "other"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_global:
        return "public"
    if address.is_private or address in ipaddress.ip_network("100.64.0.0/10"):
        return "private"
    return "other"


def _matches(host: str, pattern: str) -> bool:
    pattern = pattern.lower().strip()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return address_kind(host) == "loopback"
    except ValueError:
        return False


@dataclass(frozen=True)
class Destinations:
    """The rules for outbound connections (README, "Outbound connections").

    `push_services`: the host names a push endpoint may have (https only).
    `push_allow_http`: also `http://` endpoints on this machine's loopback (local testing).
    `webhook_allow_internal`: the webhook may be an internal receiver (loopback or private
    address, http allowed); link-local and metadata addresses stay refused."""

    push_services: tuple[str, ...] = DEFAULT_PUSH_SERVICES
    push_allow_http: bool = False
    webhook_allow_internal: bool = False
    resolver: Resolver = resolve

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Destinations:
        """The app's settings: PUSH_SERVICES, PUSH_ALLOW_HTTP, WEBHOOK_ALLOW_INTERNAL."""
        services = config.get("PUSH_SERVICES") or DEFAULT_PUSH_SERVICES
        return cls(
            push_services=tuple(services),
            push_allow_http=bool(config.get("PUSH_ALLOW_HTTP")),
            webhook_allow_internal=bool(config.get("WEBHOOK_ALLOW_INTERNAL")),
        )

    # -- push endpoints ---------------------------------------------------------------------

    def check_push_endpoint(self, endpoint: str, *, resolve_now: bool = True) -> None:
        """Refuse an endpoint that is not https on a known push service (or, when allowed,
        http on loopback), or whose name resolves to an address that is not public.
        A name that does not resolve at all is let through here (the push service may be
        briefly unreachable); the check when sending refuses it then."""
        scheme, host, port = _parts(endpoint)
        if scheme == "http":
            if not (self.push_allow_http and _is_loopback_name(host)):
                raise Refused("endpoint must be https" + self._http_hint())
        elif not any(_matches(host, pattern) for pattern in self.push_services):
            raise Refused("endpoint is not on a known push service")
        if resolve_now:
            self._check_addresses(host, port, lambda found: self.push_addresses(endpoint, found))

    def _check_addresses(
        self, host: str, port: int, check: Callable[[Sequence[str]], list[str]]
    ) -> None:
        """When storing: the name's addresses now, if it resolves at all."""
        try:
            addresses = self.resolver(host, port)
        except OSError:
            return
        check(addresses)

    def push_addresses(self, endpoint: str, addresses: Sequence[str] | None = None) -> list[str]:
        """The addresses a push may connect to for this endpoint (checked again, resolved
        now unless given); Refused when any of them is not allowed."""
        scheme, host, port = _parts(endpoint)
        if scheme == "http" and not (self.push_allow_http and _is_loopback_name(host)):
            raise Refused("endpoint must be https" + self._http_hint())
        found = list(addresses) if addresses is not None else self.resolver(host, port)
        allowed = {"loopback"} if scheme == "http" else {"public"}
        return _only(found, allowed, "the push endpoint's address is not a public one")

    def _http_hint(self) -> str:
        return " (http only on loopback)" if self.push_allow_http else ""

    # -- the care-team webhook --------------------------------------------------------------

    def check_webhook_url(self, url: str, *, resolve_now: bool = True) -> None:
        """Refuse a webhook URL that is not https on a public address (internal receivers,
        http or https, only when the server allows them)."""
        scheme, host, port = _parts(url)
        if scheme == "http" and not self.webhook_allow_internal:
            raise Refused("the webhook must be an https URL")
        if resolve_now:
            self._check_addresses(host, port, lambda found: self.webhook_addresses(url, found))

    def webhook_addresses(self, url: str, addresses: Sequence[str] | None = None) -> list[str]:
        scheme, host, port = _parts(url)
        if scheme == "http" and not self.webhook_allow_internal:
            raise Refused("the webhook must be an https URL")
        found = list(addresses) if addresses is not None else self.resolver(host, port)
        allowed = {"public", "loopback", "private"} if self.webhook_allow_internal else {"public"}
        return _only(
            found,
            allowed,
            "the webhook's address is internal (the server does not allow internal receivers)"
            if not self.webhook_allow_internal
            else "the webhook's address is link-local or reserved",
        )


def _parts(url: str) -> tuple[str, str, int]:
    if not isinstance(url, str) or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise Refused("not a URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise Refused("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise Refused("must not carry credentials")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("invalid port") from exc
    return scheme, parts.hostname.lower().rstrip("."), port


def _only(addresses: Sequence[str], allowed: set[str], why: str) -> list[str]:
    if not addresses:
        raise Refused("the name has no address")
    for address in addresses:
        try:
            kind = address_kind(address)
        except ValueError as exc:
            raise Refused("not an IP address") from exc
        if kind not in allowed:
            raise Refused(why)
    return list(addresses)
