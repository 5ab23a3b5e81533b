import { describe, expect, it } from "vitest";
import { shopCodeFrom } from "./shopcode";

describe("shop codes from a QR, a link or the keyboard", () => {
  it("reads the code of a sticker's link, with or without its trailing slash, query or fragment", () => {
    expect(shopCodeFrom("https://jawla.example.sa/shops/7K3MPQ9XRT/")).toBe("7K3MPQ9XRT");
    expect(shopCodeFrom("http://localhost:8000/shops/7k3mpq9xrt")).toBe("7K3MPQ9XRT");
    expect(shopCodeFrom(" https://jawla.example.sa/shops/7K3MPQ9XRT/?lang=en#report ")).toBe("7K3MPQ9XRT");
  });

  it("takes a typed code in any case, trimmed", () => {
    expect(shopCodeFrom("  7k3mpq9xrt ")).toBe("7K3MPQ9XRT");
  });

  it("refuses what is neither", () => {
    for (const text of ["", "abc", "https://example.com/other/7K3MPQ9XRT/", "WIFI:S:shop;T:WPA;P:secret;;", "7K3-MPQ", "A".repeat(17)]) {
      expect(shopCodeFrom(text)).toBeNull();
    }
  });
});
