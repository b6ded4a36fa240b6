"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("server.services").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def make_hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
    )


def password_problems(password: str, *, min_length: int, email: str = "") -> list[str]:
    """Why a new password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < min_length:
        problems.append(f"Use at least {min_length} characters.")
    if len(password) > 256:
        problems.append("Use at most 256 characters.")
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        problems.append("This password is too common. Choose a less predictable one.")
    elif email and lowered == email.lower():
        problems.append("Do not use your email address as your password.")
    return problems


def verify(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash of nothing anyone knows: verified against when the account does not exist, so that a
# wrong email takes as long as a wrong password.
_DUMMY: dict[int, str] = {}


def dummy_verify(hasher: PasswordHasher) -> None:
    key = id(hasher)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash("not-a-real-password-at-all")
    verify(hasher, _DUMMY[key], "wrong-password-for-timing")
