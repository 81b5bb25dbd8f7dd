"""The server's VAPID key pair: created on first start, kept in ``server_settings``.

Stored as the base64url of the raw 32-byte private scalar (py_vapid's ``from_string``
accepts it; a PEM *string* would not load). Every process reads the same row, so all of
them sign with the key the browsers subscribed with. Rotating it invalidates every
subscription (see docs/operations.md, "VAPID keys").
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid

from server.secrets import get_or_create

SETTING_KEY = "vapid_private_key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


class VapidKeys:
    """The loaded key pair: a ``Vapid`` signer and the browser's ``applicationServerKey``."""

    def __init__(self, private_raw_b64: str) -> None:
        self.signer = Vapid.from_string(private_raw_b64)
        point = self.signer.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.public_key = b64url(point)  # 65 bytes, 0x04 || X || Y


async def load_vapid_keys() -> VapidKeys:
    """The stored key pair, created once (first writer wins across processes)."""
    return VapidKeys(await get_or_create(SETTING_KEY, new_private_key))
