/**
 * When to sync (DESIGN property 1): on start, on `online`, when the tab becomes visible,
 * every few minutes, soon after each local write; exponential backoff after failures;
 * one tab at a time through Web Locks (R-PUSH-9). Never blocks the UI.
 *
 * Background Sync is asked for only when the page may not be there to send: a write made
 * offline, a round that could not reach the server, the app hidden with unsent work. While
 * the app is open and online it sends itself, and no sync event keeps the old service
 * worker busy when a new version waits to take over.
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
  /** whether the outbox holds unsent work (asked when the app is hidden) */
  hasUnsent?: () => Promise<boolean>;
  /** hands the outbox to the service worker for when the page is gone */
  backgroundSync?: () => Promise<void>;
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
    if (document.visibilityState === "visible") void this.trigger("visible");
    else void this.handOver();
  };

  constructor(opts: SchedulerOptions) {
    this.opts = {
      intervalMs: 3 * 60_000,
      afterWriteMs: 1_500,
      baseBackoffMs: 5_000,
      maxBackoffMs: 5 * 60_000,
      lockName: "revisit-sync",
      hasUnsent: async () => false,
      backgroundSync: registerBackgroundSync,
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

  /** A local write happened: sync soon (debounced); offline, leave it to Background Sync too. */
  afterWrite(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.trigger("write"), this.opts.afterWriteMs);
    if (isOffline()) void this.opts.backgroundSync();
  }

  /** The app goes to the background: unsent work is left to Background Sync. */
  private async handOver(): Promise<void> {
    if (await this.opts.hasUnsent().catch(() => false)) await this.opts.backgroundSync();
  }

  /** Run now unless offline or backing off; `manual` ignores the backoff. */
  trigger(reason: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (isOffline()) return Promise.resolve();
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
        if (e instanceof NetworkError) void this.opts.backgroundSync();
        else console.warn("sync failed", e);
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

function isOffline(): boolean {
  return typeof navigator !== "undefined" && navigator.onLine === false;
}

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
