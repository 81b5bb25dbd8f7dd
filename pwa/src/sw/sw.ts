/// <reference lib="webworker" />
/**
 * The service worker: precached app shell (offline start), navigation fallback,
 * updates only when the page says so, push reminders, notification clicks, subscription
 * renewal and Background Sync flushing the outbox.
 */
import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { Api } from "../api";
import { getMeta, setMeta } from "../db";
import { formatDay, normalizeLocale, t } from "../i18n";
import { SyncClient } from "../sync/client";
import { withLock } from "../sync/lock";
import { clientId } from "../sync/outbox";
import { notificationText, type PushPayload } from "./notify";

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<{ url: string; revision: string | null }>;
};

const SYNC_TAG = "revisit-sync";

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
// Deep links open the cached shell; API and schema requests always go to the network.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL("index.html"), {
    denylist: [/^\/api\//, /^\/schema/],
  }),
);

// The first install takes control at once; later versions wait for SKIP_WAITING.
clientsClaim();

self.addEventListener("message", (event) => {
  if (event.data?.type === "SKIP_WAITING") void self.skipWaiting();
});

// --- Background Sync -------------------------------------------------------------------

async function flushOutbox(): Promise<void> {
  const user = await getMeta("user", null);
  const needsLogin = await getMeta("needs_login", false);
  if (!user || needsLogin) return;
  const client = new SyncClient({ api: new Api() });
  await withLock(SYNC_TAG, () => client.sync());
}

self.addEventListener("sync", (event: Event) => {
  const e = event as ExtendableEvent & { tag: string };
  if (e.tag === SYNC_TAG) e.waitUntil(flushOutbox());
});

// --- Push ------------------------------------------------------------------------------

self.addEventListener("push", (event) => {
  event.waitUntil(
    (async () => {
      let payload: PushPayload = {};
      try {
        payload = (event.data?.json() ?? {}) as PushPayload;
      } catch {
        payload = { kind: "digest" };
      }
      const locale = normalizeLocale(await getMeta("locale", "en"));
      const { title, body } = notificationText(payload, locale, t, formatDay);
      const single = (payload.count ?? 1) <= 1 && payload.customer_id;
      const url = single ? `/customers/${payload.customer_id}` : "/";
      await self.registration.showNotification(title, {
        body,
        tag: `${payload.kind ?? "reminder"}:${payload.customer_id ?? ""}`,
        icon: "/icons/icon-192.png",
        badge: "/icons/maskable-192.png",
        lang: locale,
        data: { url },
      });
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data as { url?: string } | null)?.url ?? "/";
  event.waitUntil(
    (async () => {
      const all = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const c of all) {
        if (new URL(c.url).origin !== self.location.origin) continue;
        // Navigate first: focus() may be refused (no user activation), which must not
        // stop the app from opening the customer.
        const client = c as WindowClient;
        await client.navigate(url).catch(() => undefined);
        await client.focus().catch(() => undefined);
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});

// The push service rotated the subscription: subscribe again and tell the server.
self.addEventListener("pushsubscriptionchange", (event: Event) => {
  const e = event as ExtendableEvent & { oldSubscription?: PushSubscription | null; newSubscription?: PushSubscription | null };
  e.waitUntil(
    (async () => {
      const api = new Api();
      let sub = e.newSubscription ?? null;
      if (!sub) {
        const key =
          e.oldSubscription?.options.applicationServerKey ??
          (await api.call<{ public_key: string }>("/api/push/vapid-public-key")).public_key;
        sub = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      }
      const json = sub.toJSON();
      await api.call("/api/push/subscriptions", "POST", {
        endpoint: sub.endpoint,
        keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" },
        device_id: await clientId(),
      });
      await setMeta("push_endpoint", sub.endpoint);
    })(),
  );
});
