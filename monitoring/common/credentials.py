"""Generating and checking high-entropy secrets (ingest secrets, API tokens).

These secrets are random 256-bit values, so a single SHA-256 is enough to store them:
a slow password hash protects guessable passwords, not random tokens.
"""

import hashlib
import hmac
import secrets


def new_secret(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
