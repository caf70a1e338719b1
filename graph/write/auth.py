"""Write tokens: who may change the data, from `CITYDIP_WRITE_TOKENS`, compared as digests.

An entry is `name:token` or `name:sha256:<hex digest of the token>`; the name is what the history
records as the author. Only SHA-256 digests are kept in memory, and a presented token is compared
with every one of them by `hmac.compare_digest`, so neither the comparison nor an early exit tells
how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")
ENABLE_HINT = ("writes are disabled on this server: set CITYDIP_WRITE_TOKENS to enable writes "
               "(comma-separated name:token or name:sha256:<hex digest of the token>)")


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class WriteTokens:
    """The configured writers, as (name, SHA-256 digest of their token)."""

    entries: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> WriteTokens:
        parsed: list[tuple[str, bytes]] = []
        for entry in entries:
            name, sep, secret = entry.strip().partition(":")
            if not sep or not name.strip() or not secret:
                raise ValueError("CITYDIP_WRITE_TOKENS: write each entry as name:token or "
                                 f"name:sha256:<hex>, not {name.strip() or '…'}:…")
            kind, sep, hexdigest = secret.partition(":")
            if kind == "sha256" and sep and HEX_DIGEST.match(hexdigest):
                parsed.append((name.strip(), bytes.fromhex(hexdigest)))
            else:
                parsed.append((name.strip(), digest(secret)))
        return cls(tuple(parsed))

    @property
    def configured(self) -> bool:
        return bool(self.entries)

    def identify(self, token: str | None) -> str | None:
        """The name of the writer whose token this is, or None."""
        if not token:
            return None
        presented = digest(token)
        found = None
        for name, expected in self.entries:
            if hmac.compare_digest(presented, expected) and found is None:
                found = name
        return found


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
