// Canonical JSON for report signatures, checked against the examples of RFC 8785 (JCS).
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../server/reports/canonical-json.js";

describe("canonical JSON (RFC 8785)", () => {
  it("writes the RFC's sample: numbers in shortest form, strings escaped as ECMAScript does, no whitespace", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts keys by UTF-16 code units, as the RFC's sorting example", () => {
    const keys = ["\u20ac", "\r", "\ufb33", "1", "\ud83d\ude00", "\u0080", "\u00f6"];
    const object = Object.fromEntries(keys.map((k, i) => [k, i]));
    // Read the order off the text: JSON.parse would put the integer-like key "1" first again.
    const order = [...canonicalJson(object).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(order).toEqual(["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"]);
  });

  it("gives the same bytes for the same data in any key order, and refuses what JSON cannot hold", () => {
    expect(canonicalJson({ b: { y: 1, x: [2, { d: 1, c: 2 }] }, a: "z" })).toBe(
      canonicalJson({ a: "z", b: { x: [2, { c: 2, d: 1 }], y: 1 } }),
    );
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson({ n: 10n })).toThrow(/bigint/);
  });
});
