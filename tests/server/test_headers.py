"""Security headers and body limits every response carries."""

from __future__ import annotations

import gzip
from dataclasses import replace
from typing import Any

import httpx
import msgspec
import zstandard


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


async def _raw(client: Any, path: str, accept: str) -> tuple[httpx.Headers, bytes]:
    """The body as sent, not decoded by httpx."""
    async with client.stream("GET", path, headers={"accept-encoding": accept}) as response:
        assert response.status_code == 200
        return response.headers, b"".join([chunk async for chunk in response.aiter_raw()])


async def test_large_json_is_compressed_with_zstd_or_gzip_as_the_client_accepts(client: Any) -> None:
    plain_headers, plain = await _raw(client, "/schema/openapi.json", "identity")
    assert "content-encoding" not in plain_headers
    assert msgspec.json.decode(plain)["openapi"].startswith("3.")

    # what Chrome and Firefox send: Zstandard wins
    zstd_headers, zstd = await _raw(client, "/schema/openapi.json", "gzip, deflate, br, zstd")
    assert zstd_headers["content-encoding"] == "zstd"
    assert "accept-encoding" in zstd_headers["vary"].lower()
    assert zstandard.ZstdDecompressor().decompressobj().decompress(zstd) == plain

    # a browser without zstd (Safari) gets gzip
    gzip_headers, gzipped = await _raw(client, "/schema/openapi.json", "gzip, deflate, br")
    assert gzip_headers["content-encoding"] == "gzip"
    assert gzip.decompress(gzipped) == plain
    assert len(zstd) < len(gzipped) < len(plain) / 3


async def test_small_responses_are_sent_as_they_are(client: Any) -> None:
    headers, body = await _raw(client, "/api/health", "zstd, gzip")
    assert "content-encoding" not in headers
    assert msgspec.json.decode(body)


async def test_streamed_files_are_compressed_chunk_by_chunk(settings: Any, tmp_path: Any) -> None:
    """The app shell's files are streamed: every chunk goes out as a whole zstd block and
    the stream ends as one valid frame."""
    from server.app import create_app
    from tests.conftest import running

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    script = ("console.log('revisit');\n" * 100_000).encode()  # 2.4 MB: several chunks of 1 MiB
    (dist / "assets" / "app.js").write_bytes(script)
    (dist / "index.html").write_text("<!doctype html><title>Revisit</title>")
    application = create_app(replace(settings, static_dir=dist))
    async with running(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as c:
            headers, body = await _raw(c, "/assets/app.js", "gzip, zstd")
            decoded = (await c.get("/assets/app.js", headers={"accept-encoding": "zstd"})).content
    assert headers["content-encoding"] == "zstd"
    assert "content-length" not in headers
    assert zstandard.ZstdDecompressor().decompressobj().decompress(body) == script
    assert decoded == script  # httpx decodes it as a browser does
    assert len(body) < len(script) / 50
