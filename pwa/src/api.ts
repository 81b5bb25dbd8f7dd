/**
 * HTTP to the Revisit server: problem+json errors, bearer tokens, one refresh at a time
 * (refresh tokens rotate, so tabs must not race: Web Locks), `fetch` injected for tests.
 */
import { db, getMeta, setMeta, type RevisitDB, type SessionUser, type Tokens } from "./db";

const REQUEST_TIMEOUT_MS = 45_000;

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(`${status} ${code}: ${detail}`);
    this.name = "ApiError";
  }
}

/** The network could not be reached (offline, DNS, connection reset, lost response). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(`network error: ${String(cause)}`);
    this.name = "NetworkError";
  }
}

/** Neither the access nor the refresh token works: the user must sign in again. */
export class LoginRequired extends Error {
  constructor() {
    super("login required");
    this.name = "LoginRequired";
  }
}

async function parseError(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  const extra = (body.extra ?? {}) as Record<string, unknown>;
  const code = String(body.code ?? extra.code ?? "error");
  const detail = String(body.detail ?? body.title ?? res.statusText ?? "error");
  return new ApiError(res.status, code, detail, { ...extra, ...body });
}

export interface ApiOptions {
  fetch?: FetchFn;
  base?: string;
  database?: RevisitDB;
}

async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (locks) return locks.request(name, fn) as Promise<T>;
  return fn();
}

export class Api {
  readonly fetchFn: FetchFn;
  readonly base: string;
  readonly database: RevisitDB;

  constructor(opts: ApiOptions = {}) {
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.base = opts.base ?? "";
    this.database = opts.database ?? db();
  }

  private async raw(path: string, method: string, body: unknown, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetchFn(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        // a hung request must not hold the sync lock (or a service worker event) forever
        signal: typeof AbortSignal !== "undefined" && "timeout" in AbortSignal ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined,
      });
    } catch (e) {
      throw new NetworkError(e);
    }
  }

  /** Exchange the refresh token (once across tabs); LoginRequired when it is refused. */
  async refresh(stale: string | null): Promise<string> {
    return withLock("revisit-auth-refresh", async () => {
      const tokens = await getMeta("tokens", null, this.database);
      if (!tokens) throw new LoginRequired();
      if (stale !== null && tokens.access_token !== stale) return tokens.access_token; // another tab refreshed
      const res = await this.raw("/api/auth/refresh", "POST", { refresh_token: tokens.refresh_token }, null);
      if (res.status === 401 || res.status === 400 || res.status === 403) {
        await setMeta("needs_login", true, this.database);
        throw new LoginRequired();
      }
      if (!res.ok) throw await parseError(res);
      const pair = (await res.json()) as Tokens & { user?: SessionUser };
      await setMeta("tokens", { access_token: pair.access_token, refresh_token: pair.refresh_token }, this.database);
      return pair.access_token;
    });
  }

  /**
   * Runs `send` with the access token; a 401 triggers one refresh and one retry. Answers
   * the 2xx response (a non-2xx one is thrown as ApiError). Uploads and downloads that are
   * not JSON (CSV import and export) bring their own `send`.
   */
  async authorized(send: (token: string) => Promise<Response>): Promise<Response> {
    const tokens = await getMeta("tokens", null, this.database);
    if (!tokens) throw new LoginRequired();
    let res = await send(tokens.access_token);
    if (res.status === 401) {
      const fresh = await this.refresh(tokens.access_token);
      res = await send(fresh);
      if (res.status === 401) {
        await setMeta("needs_login", true, this.database);
        throw new LoginRequired();
      }
    }
    if (!res.ok) throw await parseError(res);
    return res;
  }

  /** An authorized JSON call. */
  async call<T>(path: string, method = "GET", body?: unknown): Promise<T> {
    const res = await this.authorized((token) => this.raw(path, method, body, token));
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  async login(username: string, password: string, deviceId: string): Promise<SessionUser> {
    const res = await this.raw("/api/auth/login", "POST", { username, password, device_id: deviceId }, null);
    if (!res.ok) throw await parseError(res);
    const pair = (await res.json()) as Tokens & { user: SessionUser };
    await this.database.transaction("rw", this.database.meta, async () => {
      await setMeta("tokens", { access_token: pair.access_token, refresh_token: pair.refresh_token }, this.database);
      await setMeta("user", pair.user, this.database);
      await setMeta("needs_login", false, this.database);
    });
    return pair.user;
  }

  /** Best effort: revoke the refresh token on the server; local logout happens anyway. */
  async logout(): Promise<void> {
    const tokens = await getMeta("tokens", null, this.database);
    if (!tokens) return;
    try {
      await this.raw("/api/auth/logout", "POST", { refresh_token: tokens.refresh_token }, tokens.access_token);
    } catch {
      /* offline: the token expires by itself */
    }
  }
}
