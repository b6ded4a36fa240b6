"""VAPID (RFC 8292) application server keys: load, create once, publish."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

__all__ = ["application_server_key", "load_or_create_vapid", "vapid_from_pem"]

logger = logging.getLogger(__name__)


def load_or_create_vapid(path: Path) -> Vapid02:
    """Return the VAPID key stored at `path`, creating it (mode 0600) on first use.

    Creation is race-free: the key is written to a private temporary file in the
    same directory and hard-linked into place, which fails if another process got
    there first. Every caller then reads the one key that won.
    """
    path = Path(path)
    if not path.exists():
        _create_key_file(path)
    mode = path.stat().st_mode
    if mode & 0o077:
        logger.warning("VAPID key file %s is readable by other users", path)
    return vapid_from_pem(path.read_text(encoding="ascii"))


def vapid_from_pem(pem: str) -> Vapid02:
    """Build a Vapid02 signer from a P-256 private key in PEM (PKCS#8 or SEC1).

    Environment variables often carry the PEM with literal `\\n` sequences; those
    are accepted too.
    """
    text = pem.strip()
    if "\\n" in text and "\n" not in text:
        text = text.replace("\\n", "\n")
    try:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        # Never echo the input: it is a private key.
        raise ValueError("VAPID private key is not a readable unencrypted PEM key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("VAPID private key must be an EC key on P-256 (prime256v1)")
    return Vapid02(private_key=key)


def application_server_key(vapid: Vapid02) -> str:
    """The public key a browser passes to PushManager.subscribe(): base64url, no padding."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _create_key_file(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(pem)
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            # link() never replaces an existing file, unlike rename().
            os.link(tmp_name, path)
        except FileExistsError:
            logger.info("VAPID key %s was created by another process; using it", path)
        else:
            logger.info("Created VAPID key %s", path)
            _fsync_directory(directory)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def vapid_for(pem: str | None, instance_path: str | Path) -> Vapid02:
    """The deployment's key: the PEM from the environment, else the one kept in instance/."""
    if pem:
        return vapid_from_pem(pem)
    return load_or_create_vapid(Path(instance_path) / "vapid_private.pem")
