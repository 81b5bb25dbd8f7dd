/**
 * Service worker registration and updates. A new version waits until the outbox is
 * drained, or until the user (or a `protocol_unsupported` answer) asks: the outbox lives
 * in IndexedDB and db.ts migrates it forward, so it is carried over, never dropped.
 */
import { getMeta } from "./db";
import { outboxCounts } from "./sync/outbox";
import { activity } from "./sync/status";

type Listener = (waiting: boolean) => void;
const listeners = new Set<Listener>();
let registration: ServiceWorkerRegistration | null = null;
let reloading = false;

export function onUpdateState(fn: Listener): () => void {
  listeners.add(fn);
  fn(!!registration?.waiting);
  return () => void listeners.delete(fn);
}

function announce(): void {
  for (const fn of listeners) fn(!!registration?.waiting);
}

export async function registerServiceWorker(): Promise<void> {
  if (!("serviceWorker" in navigator) || import.meta.env.DEV) return;
  // The first install claims this page (no reload needed); a later change of controller is a
  // new version taking over, and the page reloads into it.
  let controlled = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    const wasControlled = controlled;
    controlled = true;
    if (reloading || !wasControlled) return;
    reloading = true;
    location.reload();
  });
  registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  registration.addEventListener("updatefound", () => {
    const installing = registration?.installing;
    installing?.addEventListener("statechange", () => {
      if (installing.state === "installed" && navigator.serviceWorker.controller) {
        announce();
        void applyUpdateIfSafe();
      }
    });
  });
  if (registration.waiting) {
    announce();
    void applyUpdateIfSafe();
  }
  // Look for a new deployment now and then, and when the app comes back to the front.
  setInterval(() => void registration?.update().catch(() => undefined), 30 * 60_000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void registration?.update().catch(() => undefined);
  });
}

/**
 * Activate a waiting version when nothing is unsent, or when the server demands it, and
 * never in the middle of a sync round: Chromium gives up an activation when a fetch goes
 * through the old worker at that moment, and the new worker then stays waiting.
 */
export async function applyUpdateIfSafe(): Promise<boolean> {
  if (!registration?.waiting || activity().running) return false;
  const { unsent } = await outboxCounts();
  const forced = await getMeta("needs_update", false);
  if (unsent > 0 && !forced) return false;
  applyUpdate();
  return true;
}

/** The user chose to update: the outbox is carried over in IndexedDB. */
export function applyUpdate(): void {
  registration?.waiting?.postMessage({ type: "SKIP_WAITING" });
}

export async function checkForUpdate(): Promise<void> {
  await registration?.update().catch(() => undefined);
}
