/** In-memory sync activity for the UI (persistent facts such as last_sync live in meta). */

export interface SyncActivity {
  running: boolean;
  phase: "idle" | "push" | "pull" | "verify" | "resync";
  /** changes of this round's pull applied to the replica so far (shown while it pulls) */
  received: number;
}

let state: SyncActivity = { running: false, phase: "idle", received: 0 };
const listeners = new Set<(s: SyncActivity) => void>();

export function activity(): SyncActivity {
  return state;
}

export function setActivity(next: Partial<SyncActivity>): void {
  state = { ...state, ...next };
  for (const fn of listeners) fn(state);
}

export function onActivity(fn: (s: SyncActivity) => void): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}
