"""The password policy of sign-up (and of the demo accounts): long enough, not absurdly long, not a common or
trivially guessable password, not the username. Every refusal says what to do instead.

The password also encrypts the wallet's keystore, so a guessable one exposes the key to anyone who gets a copy of
the database: the rules are about guessing, not about character classes (NIST SP 800-63B style).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from flask import current_app

from webapp.errors import UserError
from webapp.text import Text

MAX_BYTES = 256  # scrypt and the hash take any length; this bounds the work a request can ask for
COMMON_FILE = Path(__file__).resolve().parents[1] / "data" / "common-passwords.txt"
_SEQUENCES = (
    "01234567890123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def min_length() -> int:
    return int(current_app.config.get("PASSWORD_MIN_LENGTH", 12))


def _repeated_pattern(text: str) -> bool:
    """'aaaa…', 'abab…', 'abcabc…', '12341234…': a unit of at most 4 characters repeated."""
    return any(len(text) > unit and all(text[i] == text[i % unit] for i in range(len(text))) for unit in range(1, 5))


def _sequence(text: str) -> bool:
    return any(text in seq or text in seq[::-1] for seq in _SEQUENCES)


def problem(password: str, username: str | None = None) -> Text | None:
    """Why `password` is refused (English, translated where shown), or None when it is acceptable."""
    if len(password.encode("utf-8")) > MAX_BYTES:
        return Text("Use at most %(n)s bytes (a long passphrase fits easily).", n=MAX_BYTES)
    if not password.strip():
        return Text("A password cannot be only spaces.")
    if len(password) < min_length():
        return Text("Use at least %(n)s characters; a few unrelated words make a good passphrase.", n=min_length())
    lowered = password.lower()
    if _repeated_pattern(lowered) or _sequence(lowered):
        return Text("Repeated characters and sequences (aaaa…, abcabc…, 123456…, qwerty…) are too easy to guess.")
    core = _EDGES.sub("", lowered)
    if lowered.strip() in common_passwords() or core in common_passwords():
        return Text("That is one of the most common passwords (or one plus digits); choose something less predictable.")
    if username and len(username) >= 3 and username.lower() in lowered:
        return Text("Do not put your username in your password.")
    return None


def check(password: str, username: str | None = None) -> None:
    """Raise UserError("weak_password") with the reason when the policy refuses `password`."""
    reason = problem(password, username)
    if reason is not None:
        raise UserError(Text("Password: %(reason)s", reason=reason), "weak_password", 400)
