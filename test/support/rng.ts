// A small, fast, seedable PRNG (mulberry32): the same seed replays the same choices. Shared by the
// fault suites, the soak and the legacy-export generator (same seed, same file); it is the one the
// charge router's property tests use (src/core/router.fixture.ts).

export { prng as rng } from "../../src/core/router.fixture.js";
