/** Web Push subscription from the page (the SW re-subscribes on pushsubscriptionchange). */
import type { Api } from "./api";
import { clientId } from "./sync/outbox";
import { setMeta } from "./db";

export function pushSupported(): boolean {
  return typeof window !== "undefined" && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** iOS/iPadOS delivers push only to Home Screen apps: show the hint in Safari tabs. */
export function needsHomeScreenHint(): boolean {
  const ua = navigator.userAgent;
  const ios = /iPhone|iPad|iPod/.test(ua) || (ua.includes("Macintosh") && navigator.maxTouchPoints > 1);
  const standalone =
    window.matchMedia("(display-mode: standalone)").matches ||
    (navigator as Navigator & { standalone?: boolean }).standalone === true;
  return ios && !standalone;
}

export function base64UrlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const pad = "=".repeat((4 - (s.length % 4)) % 4);
  const b64 = (s + pad).replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export function subscriptionBody(sub: PushSubscription, deviceId: string) {
  const json = sub.toJSON();
  return {
    endpoint: sub.endpoint,
    keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" },
    device_id: deviceId,
  };
}

/** Ask permission (from a user gesture), subscribe with the server's VAPID key, register it. */
export async function enablePush(api: Api): Promise<void> {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("denied");
  const reg = await navigator.serviceWorker.ready;
  const { public_key } = await api.call<{ public_key: string }>("/api/push/vapid-public-key");
  let sub = await reg.pushManager.getSubscription();
  if (!sub) {
    sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(public_key) });
  }
  await api.call("/api/push/subscriptions", "POST", subscriptionBody(sub, await clientId()));
  await setMeta("push_endpoint", sub.endpoint);
  await setMeta("notifications", true);
}

export async function disablePush(api: Api): Promise<void> {
  const reg = await navigator.serviceWorker.ready;
  const sub = await reg.pushManager.getSubscription();
  if (sub) {
    try {
      await api.call("/api/push/subscriptions", "DELETE", { endpoint: sub.endpoint });
    } finally {
      await sub.unsubscribe();
    }
  }
  await setMeta("push_endpoint", null);
  await setMeta("notifications", false);
}
