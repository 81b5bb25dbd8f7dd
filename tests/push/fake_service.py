"""A faithful local push service: what Mozilla's autopush or FCM do with a Web Push request.

It runs as a real HTTP server (Litestar under uvicorn, in its own thread and event loop) on
127.0.0.1. For every ``POST /push/<id>`` it checks what a real service checks and then
decrypts the body the way the browser would, with the subscription's private key and auth
secret that the test generated like a browser does:

- ``Authorization: vapid t=<JWT>,k=<public key>``: ES256 signature (PyJWT), ``aud`` equal to
  this service's origin, ``exp`` in the future and at most 24 h ahead, ``sub`` a mailto: or
  https: URL, and ``k`` equal to the applicationServerKey the subscription was made with
  (else 403, as real services answer a key mismatch);
- ``Content-Encoding: aes128gcm``, a ``TTL`` header, optional ``Urgency``/``Topic`` syntax;
- a body of at most 4096 bytes (else 413);
- then answers with the next scripted status (default 201), with ``Retry-After`` on 429.
"""

from __future__ import annotations

import base64
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
import msgspec
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from litestar import Litestar, Request, Response, post
from litestar.params import FromPath

MAX_BODY = 4096
URGENCIES = {"very-low", "low", "normal", "high"}
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Delivery:
    """One accepted (or refused) request, as the service saw it."""

    sub_id: str
    status: int
    headers: dict[str, str]
    body_size: int
    payload: dict[str, Any] | None = None
    claims: dict[str, Any] | None = None
    error: str = ""


@dataclass
class BrowserSubscription:
    """The browser's half: a P-256 key pair and an auth secret (PushManager.subscribe)."""

    sub_id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str
    script: list[int] = field(default_factory=list)  # statuses to answer, in order

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return b64url(point)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def to_json(self, device_id: str | None = None) -> dict[str, Any]:
        """``PushSubscription.toJSON()`` plus the app's device id."""
        body: dict[str, Any] = {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }
        if device_id is not None:
            body["device_id"] = device_id
        return body


class FakePushService:
    def __init__(self) -> None:
        self.subscriptions: dict[str, BrowserSubscription] = {}
        self.deliveries: list[Delivery] = []
        self.retry_after = "120"
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the browser side --------------------------------------------------------------

    def subscribe(self, application_server_key: str, script: list[int] | None = None) -> BrowserSubscription:
        sub_id = secrets.token_urlsafe(12)
        sub = BrowserSubscription(
            sub_id=sub_id,
            endpoint=f"{self.origin}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key,
            script=list(script or []),
        )
        with self._lock:
            self.subscriptions[sub_id] = sub
        return sub

    def accepted(self, sub: BrowserSubscription | None = None) -> list[Delivery]:
        with self._lock:
            return [
                d for d in self.deliveries
                if 200 <= d.status < 300 and (sub is None or d.sub_id == sub.sub_id)
            ]

    def all(self, sub: BrowserSubscription | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if sub is None or d.sub_id == sub.sub_id]

    # --- the service side --------------------------------------------------------------

    def _receive(self, sub_id: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        sub = self.subscriptions.get(sub_id)
        delivery = Delivery(sub_id=sub_id, status=0, headers=headers, body_size=len(body))
        status, extra = self._check(sub, headers, body, delivery)
        delivery.status = status
        with self._lock:
            self.deliveries.append(delivery)
        return status, extra

    def _check(
        self, sub: BrowserSubscription | None, headers: dict[str, str], body: bytes, d: Delivery
    ) -> tuple[int, dict[str, str]]:
        if sub is None:
            d.error = "unknown subscription"
            return 404, {}
        if len(body) > MAX_BODY:
            d.error = "payload too large"
            return 413, {}
        try:
            d.claims = self._verify_vapid(headers.get("authorization", ""), sub)
        except ValueError as exc:
            d.error = str(exc)
            return (403 if "key" in str(exc) else 401), {}
        if headers.get("content-encoding") != "aes128gcm":
            d.error = "content-encoding must be aes128gcm"
            return 400, {}
        ttl = headers.get("ttl", "")
        if not ttl.isdigit():
            d.error = "missing TTL"
            return 400, {}
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            d.error = "bad Urgency"
            return 400, {}
        topic = headers.get("topic")
        if topic is not None and not TOPIC.match(topic):
            d.error = "bad Topic"
            return 400, {}
        try:
            plain = http_ece.decrypt(
                body, private_key=sub.private_key, auth_secret=sub.auth_secret, version="aes128gcm"
            )
            d.payload = msgspec.json.decode(plain)
        except Exception as exc:  # a real service cannot decrypt; the browser would drop it
            d.error = f"cannot decrypt: {exc!r}"
            return 400, {}
        with self._lock:
            status = sub.script.pop(0) if sub.script else 201
        if status == 429:
            return status, {"Retry-After": self.retry_after}
        return status, {}

    def _verify_vapid(self, header: str, sub: BrowserSubscription) -> dict[str, Any]:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError("authorization scheme must be vapid")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t", ""), parts.get("k", "")
        if key != sub.application_server_key:
            raise ValueError("VAPID key differs from the subscription's applicationServerKey")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=public, algorithms=["ES256"], audience=self.origin,
                options={"require": ["exp", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise ValueError(f"invalid VAPID token: {exc}") from exc
        if claims["exp"] > time.time() + 24 * 3600:
            raise ValueError("VAPID token expires more than 24 h ahead")
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            raise ValueError("VAPID sub must be mailto: or https:")
        return claims

    # --- running ----------------------------------------------------------------------

    def app(self) -> Litestar:
        service = self

        @post("/push/{sub_id:str}", status_code=201)
        async def push(request: Request[Any, Any, Any], sub_id: FromPath[str]) -> Response[bytes]:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            status, extra = service._receive(sub_id, headers, body)
            return Response(b"", status_code=status, headers=extra)

        return Litestar([push], debug=False, request_max_body_size=64 * 1024)

    def start(self) -> FakePushService:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="fake-push"
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake push service did not start")
            time.sleep(0.01)
        self._sock = sock
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if getattr(self, "_sock", None) is not None:
            self._sock.close()
