"""Typed requests and the few facts services need from a request.

Services take plain values (an actor, an IP), never an ``HttpRequest``: views read
them here and pass them on, so the same service serves the workspace, a worker and
the API.
"""

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest

if TYPE_CHECKING:
    from portal.identity.models import User
    from portal.patients.models import Patient


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the audit journal and the rate limits record it.

    Directly exposed, that is REMOTE_ADDR. Behind the reverse proxy
    (``BEHIND_TLS_PROXY``) REMOTE_ADDR is the proxy, so the address comes from the
    header the proxy writes (``CLIENT_IP_HEADER``), and only when the request really
    came from one of ``TRUSTED_PROXIES``. X-Forwarded-For is read from the right: each
    proxy appends the address it saw, so the last hop that is not one of ours is the
    client; anything to its left was written by the client and proves nothing.
    """
    if request is None:
        return None
    remote: str | None = request.META.get("REMOTE_ADDR") or None
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if not getattr(settings, "BEHIND_TLS_PROXY", False) or not header or remote is None:
        return remote
    trusted = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not _is_trusted(_address(remote), trusted):
        return remote
    hops = [hop.strip() for hop in request.META.get(_meta_key(header), "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        address = _address(hop)
        if address is None:
            return remote  # a malformed chain: count it against the proxy, not a forgery
        if not _is_trusted(address, trusted):
            return str(address)
    return remote


def _meta_key(header: str) -> str:
    """The request.META key of ``CLIENT_IP_HEADER``, written as the proxy sends it
    (X-Real-IP) or as Django names it (HTTP_X_REAL_IP, the Makefile's deploy check): once
    the second read as "HTTP_HTTP_X_REAL_IP", never found, and every citizen was counted
    as the proxy."""
    key = header.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") else f"HTTP_{key}"


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: IPAddress | None, trusted: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in trusted)


class AuthenticatedRequest(HttpRequest):
    """A request that passed a login check: ``user`` is a real account."""

    user: "User"


class PatientRequest(AuthenticatedRequest):
    """A request that passed ``patient_required``: the patient it acts for is set."""

    acting_patient: "Patient"
