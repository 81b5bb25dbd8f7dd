/**
 * When to sync (DESIGN property 1): on start, on `online`, when the tab becomes visible,
 * every few minutes, soon after each local write; exponential backoff after failures;
 * one tab at a time through Web Locks (R-PUSH-9). Never blocks the UI.
 */
import { ApiError, LoginRequired, NetworkError } from "../api";
import { UpdateRequired } from "./client";
import { withLock } from "./lock";

export interface SchedulerOptions {
  run: () => Promise<unknown>;
  intervalMs?: number;
  afterWriteMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  lockName?: string;
  /** called when a run ends for a reason the user must act on (login, update) */
  onBlocked?: (reason: "login" | "update") => void;
}

export class SyncScheduler {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private interval: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private again = false;
  private failures = 0;
  private blockedUntil = 0;
  private stopped = true;
  private readonly opts: Required<Omit<SchedulerOptions, "onBlocked">> & Pick<SchedulerOptions, "onBlocked">;
  private readonly onOnline = () => {
    this.failures = 0;
    this.blockedUntil = 0;
    this.trigger("online");
  };
  private readonly onVisible = () => {
    if (document.visibilityState === "visible") this.trigger("visible");
  };

  constructor(opts: SchedulerOptions) {
    this.opts = {
      intervalMs: 3 * 60_000,
      afterWriteMs: 1_500,
      baseBackoffMs: 5_000,
      maxBackoffMs: 5 * 60_000,
      lockName: "revisit-sync",
      ...opts,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.interval = setInterval(() => this.trigger("interval"), this.opts.intervalMs);
    this.trigger("start");
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    document.removeEventListener("visibilitychange", this.onVisible);
    if (this.interval) clearInterval(this.interval);
    if (this.timer) clearTimeout(this.timer);
    this.interval = null;
    this.timer = null;
  }

  /** A local write happened: sync soon (debounced), and ask for Background Sync too. */
  afterWrite(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.trigger("write"), this.opts.afterWriteMs);
    void registerBackgroundSync();
  }

  /** Run now unless offline or backing off; `manual` ignores the backoff. */
  trigger(reason: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (typeof navigator !== "undefined" && navigator.onLine === false) return Promise.resolve();
    if (reason !== "manual" && Date.now() < this.blockedUntil) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return Promise.resolve();
    }
    return this.once(reason === "manual");
  }

  private async once(wait = false): Promise<void> {
    this.running = true;
    try {
      await withLock(this.opts.lockName, () => this.opts.run(), wait);
      this.failures = 0;
      this.blockedUntil = 0;
    } catch (e) {
      if (e instanceof LoginRequired) this.opts.onBlocked?.("login");
      else if (e instanceof UpdateRequired) this.opts.onBlocked?.("update");
      else {
        if (!(e instanceof NetworkError)) console.warn("sync failed", e);
        this.failures += 1;
        const delay = Math.max(
          backoffDelay(this.failures, this.opts.baseBackoffMs, this.opts.maxBackoffMs),
          retryAfterMs(e), // R-LIM-5: never sooner than the server asked
        );
        this.blockedUntil = Date.now() + delay;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.trigger("retry"), delay);
      }
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      await this.trigger("again");
    }
  }
}

/** The wait a `429 rate_limited` (or any problem with `retry_after`) asks for, in ms. */
export function retryAfterMs(e: unknown): number {
  if (!(e instanceof ApiError)) return 0;
  const seconds = Number(e.body["retry_after"] ?? 0);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** Exponential backoff with full jitter in [d/2, d], d = base * 2^(k-1), capped. */
export function backoffDelay(failures: number, base: number, max: number, rand: () => number = Math.random): number {
  const d = Math.min(max, base * 2 ** Math.max(0, failures - 1));
  return Math.round(d / 2 + (rand() * d) / 2);
}

export const SYNC_TAG = "revisit-sync";

/** Background Sync (Chromium): the SW flushes the outbox when connectivity returns. */
export async function registerBackgroundSync(): Promise<void> {
  try {
    if (!("serviceWorker" in navigator)) return;
    const reg = (await navigator.serviceWorker.getRegistration()) as
      | (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } })
      | undefined;
    await reg?.sync?.register(SYNC_TAG);
  } catch {
    /* not supported or not allowed: the page-side triggers still run */
  }
}
