"""Security headers and body limits every response carries."""

from __future__ import annotations

from typing import Any

import httpx


async def test_security_headers_on_api_and_errors(client: Any) -> None:
    for path in ("/api/health", "/api/me", "/api/no-such-thing"):
        response = await client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP


async def test_hsts_only_over_tls(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as tls:
        response = await tls.get("/api/health")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_oversized_body_is_413_problem(client: Any, settings: Any) -> None:
    body = b'{"username": "' + b"a" * (settings.max_body_bytes + 10) + b'", "password": "x"}'
    response = await client.post(
        "/api/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "payload_too_large"


async def test_unknown_api_route_is_problem_json_not_html(client: Any) -> None:
    response = await client.get("/api/definitely/not/here", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_large_json_is_gzipped_when_the_client_accepts_it(client: Any) -> None:
    schema = await client.get("/schema/openapi.json", headers={"accept-encoding": "gzip"})
    assert schema.status_code == 200
    assert schema.headers["content-encoding"] == "gzip"
    assert schema.json()["openapi"].startswith("3.")  # httpx decompressed it
    plain = await client.get("/schema/openapi.json", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
