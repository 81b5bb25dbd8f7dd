/**
 * The device's mirror of server/planning/cadence.py: which rule applies, and the id and
 * date of the plan that follows a visit, so the device and the server name the same plan
 * (a second create of it is a harmless `duplicate`).
 */
import type { CadenceRule, Customer } from "./db";

// uuid5(NAMESPACE_URL, "https://revisit.example/ns/planned-revisit"), fixed forever.
export const PLAN_NAMESPACE = "297a22a7-ad93-5f12-b36d-5bb8be9e0613";

function specificity(r: CadenceRule): number {
  return (r.stage ? 2 : 0) + (r.region_id ? 1 : 0);
}

function applies(r: CadenceRule, c: Pick<Customer, "tier" | "region_id" | "stage">): boolean {
  if (r.deleted || r.tier !== c.tier) return false;
  if (r.region_id && r.region_id !== c.region_id) return false;
  if (r.stage && r.stage !== c.stage) return false;
  return !(c.stage === "lost" && r.stage !== "lost");
}

/** Most specific rule first, then the shortest interval, then the id (as the server). */
export function ruleFor(rules: CadenceRule[], c: Customer): CadenceRule | null {
  if (c.archived) return null;
  let best: CadenceRule | null = null;
  for (const r of rules) {
    if (!applies(r, c)) continue;
    if (
      !best ||
      specificity(r) > specificity(best) ||
      (specificity(r) === specificity(best) &&
        (r.interval_days < best.interval_days || (r.interval_days === best.interval_days && r.id < best.id)))
    )
      best = r;
  }
  return best;
}

function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/-/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** RFC 4122 name-based UUID (SHA-1, version 5). */
export async function uuid5(namespace: string, name: string): Promise<string> {
  const ns = hexToBytes(namespace);
  const nameBytes = new TextEncoder().encode(name);
  const data = new Uint8Array(ns.length + nameBytes.length);
  data.set(ns);
  data.set(nameBytes, ns.length);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-1", data)).slice(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The cadence plan that follows a visit: uuid5 over "<customer id>:after:<visit id>". */
export function planIdAfterVisit(customerId: string, visitId: string): Promise<string> {
  return uuid5(PLAN_NAMESPACE, `${customerId.toLowerCase()}:after:${visitId.toLowerCase()}`);
}
