"""The JSON a push message carries (format in docs/scheduling.md, "Push payload").

The service worker renders it in the device's language; ``title``/``body`` are a fallback
rendered here in the user's locale. The encoded payload must fit one aes128gcm record:
at most 3993 bytes of plaintext (RFC 8291 §4), which pywebpush does not enforce.
"""

from __future__ import annotations

from typing import Any

import msgspec

MAX_PAYLOAD_BYTES = 3993
NAME_LIMIT = 80
VERSION = 1

_TEXT = {
    "en": {
        "due.title": "Visit due: {name}",
        "due.body": "Planned for {date} · tier {tier}",
        "overdue.title": "Overdue: {name}",
        "overdue.body": "Was due {date} · tier {tier}",
        "due.many.title": "{n} visits coming due",
        "overdue.many.title": "{n} visits overdue",
        "many.body": "{names}",
        "digest.title": "Revisit daily summary",
        "digest.body": "{n} customers overdue, {f} without a plan",
    },
    "zh": {
        "due.title": "待拜访：{name}",
        "due.body": "计划于 {date} · {tier} 级",
        "overdue.title": "已逾期：{name}",
        "overdue.body": "原定 {date} · {tier} 级",
        "due.many.title": "{n} 个拜访即将到期",
        "overdue.many.title": "{n} 个拜访已逾期",
        "many.body": "{names}",
        "digest.title": "回访通每日摘要",
        "digest.body": "{n} 位客户逾期，{f} 位客户没有计划",
    },
}


def _text(locale: str, key: str, **values: Any) -> str:
    lang = "zh" if (locale or "").lower().startswith("zh") else "en"
    return _TEXT[lang][key].format(**values)


def encode(payload: dict[str, Any]) -> bytes:
    return msgspec.json.encode(payload)


def reminder_payload(kind: str, items: list[dict[str, Any]], locale: str) -> bytes:
    """A due/overdue reminder: one customer in detail, or a summary of several.

    ``items``: dicts with customer_id, customer_name, due_date, tier, planned_revisit_id.
    Items are dropped from the end (``count`` stays exact) until the payload fits."""
    items = [{**i, "customer_name": str(i["customer_name"])[:NAME_LIMIT]} for i in items]
    first = items[0]
    count = len(items)
    if count == 1:
        title = _text(locale, f"{kind}.title", name=first["customer_name"])
        body = _text(locale, f"{kind}.body", date=first["due_date"], tier=first["tier"])
        url = f"/customers/{first['customer_id']}"
        tag = f"revisit-{kind}-{first['customer_id']}"
    else:
        title = _text(locale, f"{kind}.many.title", n=count)
        body = _text(locale, "many.body", names=", ".join(i["customer_name"] for i in items[:5]))
        url = "/"
        tag = f"revisit-{kind}"
    payload: dict[str, Any] = {
        "v": VERSION,
        "kind": kind,
        "count": count,
        "customer_id": first["customer_id"],
        "customer_name": first["customer_name"],
        "due_date": first["due_date"],
        "tier": first["tier"],
        "planned_revisit_id": first["planned_revisit_id"],
        "url": url,
        "tag": tag,
        "title": title,
        "body": body,
        "items": items,
    }
    return fit(payload)


def digest_payload(region_id: str | None, overdue: int, forgotten: int, locale: str, day: str) -> bytes:
    payload: dict[str, Any] = {
        "v": VERSION,
        "kind": "digest",
        "count": overdue,
        "overdue": overdue,
        "forgotten": forgotten,
        "region_id": region_id,
        "day": day,
        "url": "/",
        "tag": f"revisit-digest-{day}",
        "title": _text(locale, "digest.title"),
        "body": _text(locale, "digest.body", n=overdue, f=forgotten),
        "items": [],
    }
    return fit(payload)


def fit(payload: dict[str, Any]) -> bytes:
    data = encode(payload)
    items = list(payload.get("items", []))
    while len(data) > MAX_PAYLOAD_BYTES and items:
        items.pop()
        payload = {**payload, "items": items}
        data = encode(payload)
    if len(data) > MAX_PAYLOAD_BYTES:  # only absurd names get here: drop the fallback texts
        payload = {**payload, "title": "", "body": "", "customer_name": ""}
        data = encode(payload)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"push payload of {len(data)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    return data
