/** Small UI hooks shared by the screens. */
import { useEffect, useState } from "preact/hooks";
import { getMeta, type SessionUser } from "./db";
import { useLive } from "./live";
import { activity, onActivity, type SyncActivity } from "./sync/status";
import { db } from "./db";

export function useOnline(): boolean {
  const [online, setOnline] = useState(typeof navigator === "undefined" ? true : navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  }, []);
  return online;
}

export function useSyncActivity(): SyncActivity {
  const [s, setS] = useState(activity());
  useEffect(() => onActivity(setS), []);
  return s;
}

export function useUser(): SessionUser | null | undefined {
  return useLive(() => getMeta("user", null), [], undefined as SessionUser | null | undefined);
}

export function useUnsyncedCount(): number {
  return useLive(() => db().outbox.where("status").anyOf("pending", "sent").count(), [], 0);
}
