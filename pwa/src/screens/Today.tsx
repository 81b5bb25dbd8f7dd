import { useEffect, useState } from "preact/hooks";
import { Link, TierBadge } from "../components/bits";
import { todayIn, distanceKm } from "../dates";
import { getMeta } from "../db";
import { formatDay, formatNumber, t } from "../i18n";
import { useLive } from "../live";
import { todayPlan, type PlanItem } from "../queries";

type Pos = { lat: number; lon: number };

/** Today: overdue and due visits first, one tap to start a visit. */
export function Today() {
  const user = useLive(() => getMeta("user", null), [], null);
  const today = todayIn(user?.time_zone);
  const items = useLive(() => todayPlan(today), [today], null as PlanItem[] | null);
  const lastSync = useLive(() => getMeta("last_sync", null), [], null);
  const [pos, setPos] = useState<Pos | null>(null);
  const [geoDenied, setGeoDenied] = useState(false);

  // Distances only when the user already allowed location (never prompt on page load).
  useEffect(() => {
    if (!("permissions" in navigator) || !("geolocation" in navigator)) return;
    navigator.permissions
      .query({ name: "geolocation" as PermissionName })
      .then((p) => {
        if (p.state === "granted") locate();
      })
      .catch(() => undefined);
  }, []);

  function locate() {
    navigator.geolocation.getCurrentPosition(
      (p) => setPos({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => setGeoDenied(true),
      { maximumAge: 300_000, timeout: 10_000 },
    );
  }

  const overdue = items?.filter((i) => i.overdueDays > 0) ?? [];
  const due = items?.filter((i) => i.overdueDays === 0 && i.plan.due_date === today) ?? [];
  const upcoming = items?.filter((i) => i.plan.due_date > today) ?? [];

  return (
    <main data-testid="today-screen">
      <h1>{user ? t("today.greeting", { name: user.display_name }) : t("today.title")}</h1>
      <p class="muted" data-testid="today-summary">
        {t("today.summary", { overdue: overdue.length, due: due.length, upcoming: upcoming.length })}
      </p>
      {!pos && !geoDenied && "geolocation" in navigator && (
        <button onClick={locate} data-testid="today-locate">
          {t("today.use_location")}
        </button>
      )}
      {geoDenied && <p class="muted">{t("today.location_denied")}</p>}
      {items !== null && items.length === 0 && (
        <p class="card muted" data-testid="today-empty">
          {lastSync ? t("today.empty") : t("today.first_sync")}
        </p>
      )}
      <Section title={t("today.overdue")} items={overdue} pos={pos} today={today} testid="today-overdue" />
      <Section title={t("today.due")} items={due} pos={pos} today={today} testid="today-due" />
      <Section title={t("today.upcoming")} items={upcoming} pos={pos} today={today} testid="today-upcoming" />
    </main>
  );
}

function Section(props: { title: string; items: PlanItem[]; pos: Pos | null; today: string; testid: string }) {
  if (props.items.length === 0) return null;
  return (
    <section data-testid={props.testid}>
      <h2>
        {props.title} ({formatNumber(props.items.length)})
      </h2>
      <ul class="list card" style="padding:0 8px">
        {props.items.map((i) => (
          <li key={i.plan.id} data-testid="plan-item" data-customer-id={i.customer.id}>
            <div class="item">
              <TierBadge customer={i.customer} />
              <Link href={`/customers/${i.customer.id}`} class="grow" testid="plan-customer">
                <div class="title" data-content>{i.customer.name}</div>
                <div class="sub">
                  {i.overdueDays > 0
                    ? t("today.days_overdue", { n: formatNumber(i.overdueDays) })
                    : t("today.due_on", { date: formatDay(i.plan.due_date) })}
                  {props.pos && i.customer.latitude != null && i.customer.longitude != null && (
                    <>
                      {" · "}
                      {t("today.distance", {
                        km: formatNumber(
                          distanceKm(props.pos, { lat: i.customer.latitude, lon: i.customer.longitude }),
                          undefined,
                          1,
                        ),
                      })}
                    </>
                  )}
                </div>
              </Link>
              <Link href={`/customers/${i.customer.id}/visit?plan=${i.plan.id}`} class="btn primary" testid="start-visit">
                {t("today.start_visit")}
              </Link>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
