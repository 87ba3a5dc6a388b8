import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { burnOrder, drawInOrder, isIncluded, isSpendable, GRANT_KINDS, type Grant } from "./grants.js";

const T0 = Date.UTC(2025, 5, 1);
const DAY = 86_400_000;

function grant(id: string, over: Partial<Grant> = {}): Grant {
  return {
    id,
    orgId: "org_1",
    kind: "promotional",
    amount: 10_000_000,
    remaining: 10_000_000,
    priority: 10,
    expiresAt: null,
    surfaces: null,
    memberId: null,
    createdAt: T0,
    status: "active",
    description: id,
    ...over,
  };
}

const order = (grants: Grant[]): string[] => [...grants].sort(burnOrder).map((g) => g.id);

describe("burnOrder", () => {
  const cases: ReadonlyArray<[string, Grant[], string[]]> = [
    [
      "lower priority number first, whatever the expiry/kind/age",
      [
        grant("p20", { priority: 20, expiresAt: T0 + DAY, createdAt: T0 - 10 * DAY }),
        grant("p5", { priority: 5, kind: "purchase", expiresAt: null }),
        grant("p10", { priority: 10 }),
      ],
      ["p5", "p10", "p20"],
    ],
    [
      "same priority: soonest expiry first",
      [
        grant("e30", { expiresAt: T0 + 30 * DAY }),
        grant("e1", { expiresAt: T0 + DAY }),
        grant("e7", { expiresAt: T0 + 7 * DAY }),
      ],
      ["e1", "e7", "e30"],
    ],
    [
      "never-expiring (null) burns after anything that expires",
      [
        grant("never", { expiresAt: null, createdAt: T0 - 100 * DAY }),
        grant("far", { expiresAt: T0 + 3650 * DAY }),
      ],
      ["far", "never"],
    ],
    [
      "same priority and expiry: non-purchase before purchase (even if the purchase is older)",
      [
        grant("bought", { kind: "purchase", createdAt: T0 - 10 * DAY }),
        grant("promo", { kind: "promotional", createdAt: T0 }),
        grant("monthly", { kind: "monthly", createdAt: T0 + 1 }),
      ],
      ["promo", "monthly", "bought"],
    ],
    [
      "migrated and adjustment count as non-purchase",
      [
        grant("bought", { kind: "purchase", createdAt: T0 - DAY }),
        grant("adj", { kind: "adjustment", createdAt: T0 + 2 }),
        grant("mig", { kind: "migrated", createdAt: T0 + 1 }),
      ],
      ["mig", "adj", "bought"],
    ],
    [
      "same priority, expiry and paid-ness: oldest createdAt first",
      [
        grant("new", { createdAt: T0 + 2 * DAY }),
        grant("old", { createdAt: T0 - 2 * DAY }),
        grant("mid", { createdAt: T0 }),
      ],
      ["old", "mid", "new"],
    ],
    [
      "everything equal: id breaks the tie",
      [grant("g_c"), grant("g_a"), grant("g_b")],
      ["g_a", "g_b", "g_c"],
    ],
    [
      "full mix",
      [
        grant("purchase-never", { kind: "purchase", expiresAt: null, createdAt: T0 - 50 * DAY }),
        grant("promo-never", { kind: "promotional", expiresAt: null, createdAt: T0 }),
        grant("purchase-soon", { kind: "purchase", expiresAt: T0 + DAY }),
        grant("promo-soon-new", { expiresAt: T0 + DAY, createdAt: T0 + 1 }),
        grant("promo-soon-old", { expiresAt: T0 + DAY, createdAt: T0 - 1 }),
        grant("urgent", { priority: 1, kind: "purchase", expiresAt: null }),
        grant("later", { expiresAt: T0 + 2 * DAY }),
      ],
      ["urgent", "promo-soon-old", "promo-soon-new", "purchase-soon", "later", "promo-never", "purchase-never"],
    ],
  ];
  for (const [label, grants, expected] of cases) {
    test(label, () => {
      assert.deepEqual(order(grants), expected);
      assert.deepEqual(order([...grants].reverse()), expected, "independent of input order");
    });
  }

  const grantArb: fc.Arbitrary<Grant> = fc
    .record({
      id: fc.string({ minLength: 1, maxLength: 4 }),
      kind: fc.constantFrom(...GRANT_KINDS),
      priority: fc.integer({ min: 0, max: 3 }),
      expiresAt: fc.option(fc.integer({ min: 0, max: 3 }).map((d) => T0 + d * DAY)),
      createdAt: fc.integer({ min: 0, max: 3 }).map((d) => T0 - d * DAY),
    })
    .map(({ id, ...rest }) => grant(id, rest));

  test("property: sorting gives the same order whatever the input order", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(grantArb, { selector: (g) => g.id, maxLength: 12 }).chain((gs) => fc.tuple(fc.constant(gs), fc.shuffledSubarray(gs, { minLength: gs.length }))),
        ([gs, shuffled]) => {
          assert.deepEqual(order(shuffled), order(gs));
        },
      ),
    );
  });

  test("property: burnOrder is antisymmetric and zero only on the same id", () => {
    fc.assert(
      fc.property(grantArb, grantArb, (a, b) => {
        const ab = Math.sign(burnOrder(a, b));
        const ba = Math.sign(burnOrder(b, a));
        assert.equal(ab, -ba || 0);
        if (a.id !== b.id) assert.notEqual(ab, 0);
      }),
    );
  });
});

describe("isSpendable", () => {
  const now = T0;
  const cases: ReadonlyArray<[string, Grant, string, "interactive" | "sdk" | "cli_headless" | "ci", boolean]> = [
    ["plain active grant", grant("g"), "m1", "interactive", true],
    ["voided", grant("g", { status: "voided" }), "m1", "interactive", false],
    ["expired status", grant("g", { status: "expired" }), "m1", "interactive", false],
    ["nothing remaining", grant("g", { remaining: 0 }), "m1", "interactive", false],
    ["negative remaining", grant("g", { remaining: -1 }), "m1", "interactive", false],
    ["1 micro remaining", grant("g", { remaining: 1 }), "m1", "interactive", true],
    ["expires in the future", grant("g", { expiresAt: now + 1 }), "m1", "interactive", true],
    ["expires exactly now", grant("g", { expiresAt: now }), "m1", "interactive", false],
    ["expired in the past", grant("g", { expiresAt: now - 1 }), "m1", "interactive", false],
    ["never expires", grant("g", { expiresAt: null }), "m1", "interactive", true],
    ["for this member", grant("g", { memberId: "m1" }), "m1", "interactive", true],
    ["for another member", grant("g", { memberId: "m2" }), "m1", "interactive", false],
    ["surface allowed", grant("g", { surfaces: ["sdk", "ci"] }), "m1", "ci", true],
    ["surface not allowed", grant("g", { surfaces: ["sdk", "ci"] }), "m1", "interactive", false],
    ["empty surface list allows nothing", grant("g", { surfaces: [] }), "m1", "sdk", false],
    ["member + surface both match", grant("g", { memberId: "m1", surfaces: ["cli_headless"] }), "m1", "cli_headless", true],
    ["member matches, surface does not", grant("g", { memberId: "m1", surfaces: ["cli_headless"] }), "m1", "sdk", false],
  ];
  for (const [label, g, member, surface, expected] of cases) {
    test(`${label} → ${expected}`, () => {
      assert.equal(isSpendable(g, now, member, surface), expected);
    });
  }
});

describe("isIncluded", () => {
  test("only monthly grants are included credits", () => {
    assert.deepEqual(
      GRANT_KINDS.filter((k) => isIncluded(grant("g", { kind: k }))),
      ["monthly"],
    );
  });
});

describe("drawInOrder", () => {
  const gs = [
    grant("a", { remaining: 300 }),
    grant("b", { remaining: 0 }),
    grant("c", { remaining: 500 }),
    grant("d", { remaining: 200 }),
  ];
  const cases: ReadonlyArray<[string, number, Array<[string, number]>, number]> = [
    ["zero amount draws nothing", 0, [], 0],
    ["fits in the first grant", 100, [["a", 100]], 0],
    ["exactly the first grant", 300, [["a", 300]], 0],
    ["spills over, skipping the empty grant", 301, [["a", 300], ["c", 1]], 0],
    ["spans three grants exactly", 1_000, [["a", 300], ["c", 500], ["d", 200]], 0],
    ["more than available leaves unpaid", 1_250, [["a", 300], ["c", 500], ["d", 200]], 250],
  ];
  for (const [label, amount, draws, unpaid] of cases) {
    test(`${label}: ${amount}`, () => {
      const r = drawInOrder(gs, amount);
      assert.deepEqual(
        r.draws,
        draws.map(([grantId, a]) => ({ grantId, amount: a })),
      );
      assert.equal(r.unpaid, unpaid);
    });
  }

  test("does not mutate grants", () => {
    drawInOrder(gs, 1_000);
    assert.deepEqual(
      gs.map((g) => g.remaining),
      [300, 0, 500, 200],
    );
  });

  test("no grants: everything unpaid", () => {
    assert.deepEqual(drawInOrder([], 42), { draws: [], unpaid: 42 });
  });

  test("property: draws + unpaid = amount, each draw ≤ remaining, order preserved", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 8 }), fc.integer({ min: 0, max: 10_000 }), (remainings, amount) => {
        const grants = remainings.map((r, i) => grant(`g${i}`, { remaining: r }));
        const { draws, unpaid } = drawInOrder(grants, amount);
        const drawn = draws.reduce((s, d) => s + d.amount, 0);
        assert.equal(drawn + unpaid, amount);
        assert.ok(unpaid >= 0);
        const total = remainings.reduce((s, r) => s + r, 0);
        assert.equal(unpaid, Math.max(0, amount - total));
        let lastIndex = -1;
        for (const d of draws) {
          const i = grants.findIndex((g) => g.id === d.grantId);
          assert.ok(i > lastIndex, "draws follow the given order");
          lastIndex = i;
          const g = grants[i];
          assert.ok(g);
          assert.ok(d.amount > 0 && d.amount <= g.remaining);
        }
      }),
    );
  });
});
