import { describe, expect, it } from "vitest";
import { en } from "../src/i18n/en";
import { zh } from "../src/i18n/zh";
import { syncingLabel } from "../src/components/bits";
import { formatMoney, t } from "../src/i18n";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("i18n", () => {
  it("has the same keys in English and Chinese", () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
  });

  it("has no empty strings and the same placeholders in both languages", () => {
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect(en[key].trim(), key).not.toBe("");
      expect(zh[key].trim(), key).not.toBe("");
      expect(placeholders(zh[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("translates Chinese strings into Chinese (no English left behind)", () => {
    const sameAsEnglish = (Object.keys(en) as Array<keyof typeof en>).filter(
      (k) => zh[k] === en[k] && /[a-z]{3}/i.test(en[k].replace(/\{\w+\}/g, "")),
    );
    expect(sameAsEnglish).toEqual([]);
  });

  it("fills placeholders and formats money per locale", () => {
    expect(t("sync.pending", { n: 3 }, "en")).toBe("3 changes waiting to sync");
    expect(t("sync.pending", { n: 3 }, "zh-CN")).toBe("3 项更改等待同步");
    expect(formatMoney("1234.5", "CNY", "en")).toBe("CN¥1,234.50");
    expect(formatMoney("1234.5", "CNY", "zh-CN")).toBe("¥1,234.50");
  });

  it("counts the records a sync has received in the syncing label", () => {
    expect(syncingLabel({ running: true, phase: "push", received: 0 })).toBe("Syncing…");
    expect(syncingLabel({ running: true, phase: "pull", received: 3500 })).toBe("Syncing… 3,500 received");
  });
});
