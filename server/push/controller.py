"""``/api/push/*`` (the VAPID key and this device's subscriptions) and ``/api/reminders``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody

from server.auth.schemas import CurrentUser
from server.auth.tokens import utcnow
from server.push import reminders_list, subscriptions
from server.push.schemas import (
    ReminderOut,
    SubscriptionDelete,
    SubscriptionIn,
    SubscriptionOut,
    VapidPublicKey,
)


class PushController(Controller):
    path = "/api/push"
    tags = ["push"]

    @get("/vapid-public-key", summary="The server's VAPID public key (applicationServerKey)")
    async def vapid_public_key(self, request: Request[Any, Any, Any]) -> VapidPublicKey:
        return VapidPublicKey(public_key=request.app.state.vapid.public_key)

    @post("/subscriptions", status_code=201, summary="Store this device's push subscription")
    async def subscribe(
        self, request: Request[CurrentUser, Any, Any], data: JSONBody[SubscriptionIn]
    ) -> SubscriptionOut:
        settings = request.app.state.settings
        row = await subscriptions.save(
            request.user.id, data, allow_http=settings.push_allow_http, now=utcnow()
        )
        return SubscriptionOut(**row)

    @get("/subscriptions", summary="The caller's push subscriptions")
    async def mine(self, request: Request[CurrentUser, Any, Any]) -> list[SubscriptionOut]:
        return [SubscriptionOut(**r) for r in await subscriptions.list_for(request.user.id)]

    @delete("/subscriptions", status_code=204, summary="Remove this device's subscription")
    async def unsubscribe(
        self, request: Request[CurrentUser, Any, Any], data: JSONBody[SubscriptionDelete]
    ) -> None:
        await subscriptions.remove(request.user.id, data.endpoint, data.device_id)


class RemindersController(Controller):
    path = "/api/reminders"
    tags = ["push"]

    @get("/", summary="The caller's recent reminders (the in-app list; newest first)")
    async def recent(self, request: Request[CurrentUser, Any, Any]) -> list[ReminderOut]:
        return await reminders_list.recent(request.user.id)
