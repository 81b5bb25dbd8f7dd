/** Wire shapes of docs/sync-protocol.md, version 1 (the device side). */

export const PROTOCOL = 1;
export const MAX_PUSH = 500; // R-LIM-1
export const PAGE_LIMIT = 500; // R-PULL-1
export const MAX_PAGE_LIMIT = 2000; // R-LIM-2: the server clamps larger ones

export type WireMutation =
  | { kind: "create"; n: number; hlc: string; table: string; id: string; row: Record<string, unknown> }
  | {
      kind: "put";
      n: number;
      hlc: string;
      table: string;
      id: string;
      fields: Record<string, { value: unknown; base: string | null }>;
    }
  | { kind: "command"; n: number; hlc: string; name: string; args: Record<string, unknown> };

export interface PushRequest {
  protocol: number;
  client_id: string;
  clock: string;
  mutations: WireMutation[];
}

export type ResultStatus = "applied" | "conflict" | "rejected" | "duplicate";

export interface MutationResult {
  n: number;
  status: ResultStatus;
  code?: string;
  message?: string;
  conflicts?: string[];
  replayed?: boolean;
}

export interface Stamped {
  protocol: number;
  server_time: string;
  clock: string;
}

export interface PushResponse extends Stamped {
  last_n: number;
  results: MutationResult[];
}

export interface PullRequest {
  protocol: number;
  client_id: string;
  clock: string;
  cursor: string | null;
  limit: number;
  today?: string;
}

export interface Change {
  bucket: string;
  table: string;
  id: string;
  v: number;
  op: "put" | "delete" | "remove";
  row?: Record<string, unknown>;
}

export interface BucketChecksum {
  count: number;
  sum: string;
}

export interface PullResponse extends Stamped {
  cursor: string;
  more: boolean;
  buckets: string[];
  changes: Change[];
  checksums?: Record<string, BucketChecksum>;
}
