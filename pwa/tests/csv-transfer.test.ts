import { describe, expect, it } from "vitest";
import { filenameFrom } from "../src/csv-transfer";

describe("filenameFrom", () => {
  it("reads the server's quoted file name", () => {
    expect(filenameFrom('attachment; filename="customers-20261126.csv"', "customers.csv")).toBe("customers-20261126.csv");
  });

  it("prefers the RFC 5987 form and decodes it", () => {
    expect(filenameFrom("attachment; filename=\"a.csv\"; filename*=UTF-8''%E5%AE%A2%E6%88%B7.csv", "x.csv")).toBe("客户.csv");
  });

  it("reads an unquoted name and falls back when there is none", () => {
    expect(filenameFrom("attachment; filename=visits.csv", "x.csv")).toBe("visits.csv");
    expect(filenameFrom("attachment", "gifts.csv")).toBe("gifts.csv");
    expect(filenameFrom(null, "gifts.csv")).toBe("gifts.csv");
  });
});
