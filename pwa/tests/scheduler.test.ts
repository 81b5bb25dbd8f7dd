import { describe, expect, it } from "vitest";
import { ApiError, NetworkError } from "../src/api";
import { backoffDelay, retryAfterMs, SyncScheduler } from "../src/sync/scheduler";

describe("sync backoff", () => {
  it("waits at least what a 429 asks for (R-LIM-5)", () => {
    const limited = new ApiError(429, "rate_limited", "too many requests", { retry_after: 37 });
    expect(retryAfterMs(limited)).toBe(37_000);
    expect(retryAfterMs(new NetworkError("offline"))).toBe(0);
    expect(retryAfterMs(new ApiError(500, "internal", "boom"))).toBe(0);
  });

  it("grows exponentially with jitter and stays under the cap", () => {
    const half = () => 0.5;
    expect(backoffDelay(1, 1000, 60_000, half)).toBe(750);
    expect(backoffDelay(3, 1000, 60_000, half)).toBe(3000);
    expect(backoffDelay(20, 1000, 60_000, half)).toBe(45_000);
  });
});

describe("when Background Sync is asked for", () => {
  const page = { window: new EventTarget(), document: Object.assign(new EventTarget(), { visibilityState: "visible" }) };
  let online = true;
  Object.assign(globalThis, { window: page.window, document: page.document });
  Object.defineProperty(globalThis, "navigator", { configurable: true, get: () => ({ onLine: online }) });

  function scheduler(run: () => Promise<unknown>, unsent = true) {
    const asked: string[] = [];
    const s = new SyncScheduler({
      run,
      afterWriteMs: 60_000,
      intervalMs: 3_600_000,
      hasUnsent: async () => unsent,
      backgroundSync: async () => void asked.push("sync"),
    });
    return { s, asked };
  }
  const settle = () => new Promise((r) => setTimeout(r, 0));
  const hide = (state: "hidden" | "visible") => {
    page.document.visibilityState = state;
    page.document.dispatchEvent(new Event("visibilitychange"));
  };

  it.each([
    ["not for a write made online: the open app sends it itself", true, []],
    ["for a write made offline", false, ["sync"]],
  ])("%s", async (_name, isOnline, expected) => {
    online = isOnline;
    const { s, asked } = scheduler(async () => undefined);
    s.start();
    s.afterWrite();
    await settle();
    s.stop();
    online = true;
    expect(asked).toEqual(expected);
  });

  it("when a round cannot reach the server, not when the server refuses", async () => {
    online = true;
    const unreachable = scheduler(async () => Promise.reject(new NetworkError("unreachable")));
    unreachable.s.start(); // the first round runs at start
    await settle();
    unreachable.s.stop();
    expect(unreachable.asked).toContain("sync");

    const refused = scheduler(async () => Promise.reject(new ApiError(503, "unavailable", "down")));
    refused.s.start();
    await settle();
    refused.s.stop();
    expect(refused.asked).toEqual([]);
  });

  it("when the app is hidden with unsent work, and only then", async () => {
    online = true;
    const pending = scheduler(async () => undefined, true);
    const clean = scheduler(async () => undefined, false);
    pending.s.start();
    clean.s.start();
    hide("hidden");
    await settle();
    hide("visible");
    await settle();
    pending.s.stop();
    clean.s.stop();
    expect(pending.asked).toEqual(["sync"]);
    expect(clean.asked).toEqual([]);
  });
});
