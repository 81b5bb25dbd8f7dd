/** Web Locks helper (R-PUSH-9): works in pages and in the service worker. */

/** Only one tab (or the SW) syncs at a time; the others skip instead of queueing up. */
export async function withLock(name: string, fn: () => Promise<unknown>, wait = false): Promise<void> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) {
    await fn();
    return;
  }
  if (wait) {
    // the user asked: queue behind the current holder, then run (its work may be done by then)
    await locks.request(name, async () => void (await fn()));
    return;
  }
  await locks.request(name, { ifAvailable: true }, async (lock) => {
    if (!lock) return; // someone else is syncing right now
    await fn();
  });
}
