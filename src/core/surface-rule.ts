// The one surface rule, for authorize, usage events and the gateway alike: a request may only
// narrow its API key's surface, never widen it. An interactive key may declare sdk, cli_headless
// or ci (that traffic then leaves the plan windows for SDK credits and usage credits, as those
// surfaces' traffic must); a key made for one of those surfaces may declare nothing else, since
// "interactive" would move its traffic onto the plan windows. Platform keys act for any surface.

import { domainError, type Result } from "./errors.js";
import { SURFACES, type Surface } from "./plans.js";

/** The surface a request is metered on: the key's, or the narrower one it declares. */
export function narrowSurface(keySurface: Surface | "any", declared: string | undefined, field = "surface"): Result<Surface> {
  if (declared === undefined) return { ok: true, value: keySurface === "any" ? "interactive" : keySurface };
  const surface = SURFACES.find((s) => s === declared);
  if (!surface) return { ok: false, error: domainError("invalid_request", `${field} must be one of ${SURFACES.join(", ")}.`, { field }) };
  if (keySurface === "any" || surface === keySurface) return { ok: true, value: surface };
  if (keySurface !== "interactive" || surface === "interactive") {
    return {
      ok: false,
      error: domainError("forbidden", `This API key is for the ${keySurface} surface; it may not send ${surface} traffic (a request may only narrow its key's surface).`, {
        field,
        key_surface: keySurface,
      }),
    };
  }
  return { ok: true, value: surface };
}
