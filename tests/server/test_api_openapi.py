"""The OpenAPI document describes every REST endpoint, with a tag and a summary."""

from __future__ import annotations

from typing import Any


async def test_every_api_operation_is_documented(client: Any) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    problems = []
    for path, item in paths.items():
        if not path.startswith("/api"):
            continue
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if not op.get("tags"):
                problems.append(f"{method.upper()} {path}: no tag")
            if not op.get("summary"):
                problems.append(f"{method.upper()} {path}: no summary")
    assert not problems, problems
    for must in (
        "/api/customers",
        "/api/customers/{customer_id}",
        "/api/visits",
        "/api/gifts",
        "/api/notes",
        "/api/planned-revisits",
        "/api/admin/users",
        "/api/customers/reassign",
    ):
        assert must in paths, must


async def test_schemas_name_their_constraints(client: Any) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    create = schemas["CustomerCreate"]
    assert set(create["required"]) == {"name", "tier"}
    assert "additionalProperties" not in create or create["additionalProperties"] is False


async def test_import_operations_declare_a_csv_body(client: Any) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/import/customers/preview", "/api/import/customers/apply"):
        body = paths[path]["post"]["requestBody"]
        assert body["required"] is True, path
        assert list(body["content"]) == ["text/csv"], path
        assert body["content"]["text/csv"]["schema"]["type"] == "string", path
