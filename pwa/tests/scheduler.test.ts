import { describe, expect, it } from "vitest";
import { ApiError, NetworkError } from "../src/api";
import { backoffDelay, retryAfterMs } from "../src/sync/scheduler";

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
