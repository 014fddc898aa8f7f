"""Generalise: keep a coarser form of the value (network instead of address, year of a date)."""

from __future__ import annotations

import ipaddress
import re

from tutela.scrub.entities import Entity, EntityType
from tutela.scrub.operators.base import Operator

__all__ = ["Generalize"]

_YEAR = re.compile(r"(?<![0-9])(?:1[89]|20)[0-9]{2}(?![0-9])")


class Generalize(Operator):
    """IPv4 addresses become their /24, IPv6 their /48, dates their year.

    Values with no coarser form are replaced by their type tag, so nothing
    identifying is left behind.
    """

    name = "generalize"

    def apply(self, value: str, entity: Entity) -> str:
        """The generalised value."""
        if entity.type is EntityType.IP_ADDRESS:
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                return f"<{entity.type.value}>"
            prefix = 24 if address.version == 4 else 48
            return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
        if entity.type is EntityType.DATE_OF_BIRTH:
            m = _YEAR.search(value)
            if m:
                return m.group(0)
        return f"<{entity.type.value}>"
