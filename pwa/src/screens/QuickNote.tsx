import { useState } from "preact/hooks";
import { Link } from "../components/bits";
import { db, type Customer, type NoteKind } from "../db";
import { t } from "../i18n";
import { useLive } from "../live";
import { navigate } from "../router";
import { addNote } from "../writes";

const KINDS: NoteKind[] = ["note", "complaint", "feedback"];

/** A note, complaint or feedback in two taps. */
export function QuickNote({ customerId }: { customerId: string }) {
  const customer = useLive(() => db().customers.get(customerId), [customerId], undefined as Customer | undefined);
  const [kind, setKind] = useState<NoteKind>("note");
  const [body, setBody] = useState("");
  const [error, setError] = useState(false);
  if (customer === undefined) return <main>{t("app.loading")}</main>;
  if (!customer) return <main class="card">{t("customer.not_found")}</main>;

  async function save(e: Event) {
    e.preventDefault();
    if (!body.trim()) return setError(true);
    await addNote(customer!, kind, body.trim());
    navigate(`/customers/${customerId}?saved=note`, true);
  }

  return (
    <main data-testid="note-screen">
      <div class="row">
        <Link href={`/customers/${customerId}`} class="btn">
          ← {t("common.back")}
        </Link>
      </div>
      <h1>{t("note.title")}</h1>
      <p class="muted" data-content>{customer.name}</p>
      <form class="card" onSubmit={save}>
        <div class="field">
          <span class="muted">{t("note.kind")}</span>
          <div class="stars" role="radiogroup" aria-label={t("note.kind")}>
            {KINDS.map((k) => (
              <button
                type="button"
                key={k}
                role="radio"
                aria-checked={kind === k}
                class={kind === k ? "on" : ""}
                data-testid={`note-kind-${k}`}
                onClick={() => setKind(k)}
              >
                {t(`note.kind.${k}`)}
              </button>
            ))}
          </div>
        </div>
        <label class="field">
          <span>{t("note.body")}</span>
          <textarea data-testid="note-body" value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
        </label>
        {error && <p class="banner error">{t("note.empty")}</p>}
        <button class="primary" type="submit" style="width:100%" data-testid="save-note">
          {t("note.save")}
        </button>
      </form>
    </main>
  );
}
