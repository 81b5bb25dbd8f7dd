"""Schemathesis against the server's own OpenAPI schema, over real HTTP, as every role.

Findings are fixed in the server, never excluded here: no input may cause a 5xx, and
every response must match what the schema documents for it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import cloned_database
from tests.live import LiveServer

LIVE_KEY = "live-test-secret-" + "y" * 32
EXAMPLES = int(os.environ.get("REVISIT_FUZZ_EXAMPLES", "10"))


def _seed(url: str, data_dir: Path) -> dict[str, str]:
    """Users and a few customers of each scope; returns a bearer token per role."""
    from server.auth.tokens import encode_access, utcnow
    from server.db import configure_database
    from server.settings import Settings
    from tests.server.world import _hash

    async def run() -> dict[str, str]:
        from server.users import create_user, ensure_region

        configure_database(Settings(database_url=url, data_dir=data_dir))
        north = await ensure_region("North")
        south = await ensure_region("South")
        ids = {
            "admin": await create_user("admin", "pw", "admin", None, password_hash=_hash()),
            "manager": await create_user("ann", "pw", "manager", north, password_hash=_hash()),
            "rep": await create_user("rob", "pw", "rep", north, password_hash=_hash()),
        }
        await create_user("sue", "pw", "rep", south, password_hash=_hash())
        return {role: encode_access(LIVE_KEY, uid, 0, 60, utcnow()) for role, uid in ids.items()}

    return asyncio.run(run())


@pytest.fixture(scope="module")
def fuzz_server(db_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    directory = tmp_path_factory.mktemp("fuzz")
    with cloned_database(db_template, directory) as url:
        tokens = _seed(url, directory)
        with LiveServer(url, directory) as server:
            yield server, tokens


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    database=None,
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_no_server_errors_and_responses_match_the_schema(
    role: str, fuzz_server: tuple[LiveServer, dict[str, str]]
) -> None:
    server, tokens = fuzz_server
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    api = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json").include(
        path_regex="^/api/"
    )
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # collect every finding, fail once
            failures.append(f"{operation.label}: {exc}"[:2000])
    assert operations > 20
    assert not failures, "\n\n".join(failures)
