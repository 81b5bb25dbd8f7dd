"""Wire types of docs/sync-protocol.md (§4, §9, §10) as msgspec structs.

Envelopes forbid unknown fields (R-PUSH-10); rows and field values stay plain JSON here
and are validated per table by ``sync.schema`` so a bad row rejects one mutation, not
the whole push.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOLS = (1,)

MAX_MUTATIONS = 500  # R-LIM-1
DEFAULT_PAGE = 500  # R-LIM-2
MAX_PAGE = 2000
MAX_BODY_BYTES = 2 * 1024 * 1024  # R-LIM-3
MAX_ROW_BYTES = 64 * 1024  # R-LIM-4
MAX_CLOCK_AHEAD_MS = 60_000  # R-HLC-8

ClientId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{8,40}$")]
ClockStr = Annotated[str, msgspec.Meta(max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
SeqNo = Annotated[int, msgspec.Meta(ge=1)]


class Wire(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Base for wire structs: unknown keys are errors, empty optionals are omitted."""


class Create(Wire, tag="create", tag_field="kind"):
    n: SeqNo
    hlc: ClockStr
    table: Name
    id: Annotated[str, msgspec.Meta(max_length=64)]
    row: dict[str, Any]


class FieldWrite(Wire):
    value: Any
    base: ClockStr | None = None


class Put(Wire, tag="put", tag_field="kind"):
    n: SeqNo
    hlc: ClockStr
    table: Name
    id: Annotated[str, msgspec.Meta(max_length=64)]
    fields: Annotated[dict[str, FieldWrite], msgspec.Meta(min_length=1, max_length=64)]


class Command(Wire, tag="command", tag_field="kind"):
    n: SeqNo
    hlc: ClockStr
    name: Name
    args: dict[str, Any] = msgspec.field(default_factory=dict)


Mutation = Create | Put | Command
Status = Literal["applied", "conflict", "rejected", "duplicate"]


class MutationResult(Wire):
    n: int
    status: Status
    code: str | None = None
    message: str | None = None
    conflicts: list[str] = msgspec.field(default_factory=list)
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.status in ("applied", "conflict", "duplicate")


class PushRequest(Wire):
    protocol: int
    client_id: ClientId
    clock: ClockStr
    mutations: Annotated[list[Mutation], msgspec.Meta(max_length=10_000)]


class RawPushRequest(Wire):
    """What the server decodes: mutations stay raw so one malformed mutation is rejected
    on its own (R-PUSH-10) instead of failing the push and blocking the outbox."""

    protocol: int
    client_id: ClientId
    clock: ClockStr
    mutations: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=10_000)]


@dataclass(frozen=True, slots=True)
class Malformed:
    """A mutation that does not decode: it still has a number, and is rejected with it."""

    n: int
    hlc: str
    message: str


def to_mutation(raw: dict[str, Any], index: int) -> Mutation | Malformed:
    n = raw.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SyncError(400, "validation", f"mutations[{index}].n: a positive integer is required")
    try:
        return msgspec.convert(raw, Mutation)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        hlc = raw.get("hlc")
        return Malformed(n, hlc if isinstance(hlc, str) else "", str(exc))


class PushResponse(Wire):
    protocol: int
    server_time: str
    clock: str
    last_n: int
    results: list[MutationResult]


class PullRequest(Wire):
    protocol: int
    client_id: ClientId
    clock: ClockStr
    cursor: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None
    limit: int = DEFAULT_PAGE
    today: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


Op = Literal["put", "delete", "remove"]


class Change(Wire):
    bucket: str
    table: str
    id: str
    v: int
    op: Op
    # A dict once decoded; a server may send the row's JSON as its store rendered it (Raw)
    row: dict[str, Any] | msgspec.Raw | None = None


class BucketSum(Wire):
    count: int
    sum: str  # 16 lowercase hex digits (R-SUM-2)


class PullResponse(Wire):
    protocol: int
    server_time: str
    clock: str
    cursor: str
    more: bool
    buckets: list[str]
    changes: list[Change]
    checksums: dict[str, BucketSum] | None = None


class VerifyResponse(Wire):
    protocol: int
    server_time: str
    clock: str
    through: int
    buckets: dict[str, BucketSum]


class SyncError(Exception):
    """A request-level failure (R-ERR-1): the controller renders it as problem JSON."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


class Rejection(Exception):
    """A per-mutation rejection (R-PUSH-13): consumes the number, applies nothing."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


encoder = msgspec.json.Encoder()
push_request_decoder = msgspec.json.Decoder(RawPushRequest)
pull_request_decoder = msgspec.json.Decoder(PullRequest)
result_decoder = msgspec.json.Decoder(MutationResult)
