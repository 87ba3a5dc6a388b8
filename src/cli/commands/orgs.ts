// `usage-credits orgs|members|keys …`: organizations, their members and their API keys.

import { randomBytes } from "node:crypto";
import { ROLES, type Role } from "../../core/model.js";
import { SEAT_TIERS, SURFACES, type SeatTier, type Surface } from "../../core/plans.js";
import { presentCreatedKey, presentKey, presentMember, presentOrg } from "../../presenters/core.js";
import { CliError, str, opt, oneOf, unwrap, table, ORG, type Command } from "./shared.js";

export const ORG_COMMANDS: readonly Command[] = [
  {
    name: "orgs list",
    summary: "List organizations.",
    options: {},
    run: async (s) => {
      const orgs = await s.admin.listOrgs(1000, 0);
      return { json: orgs.map(presentOrg), text: table([["ID", "NAME", "PLAN", "USAGE CREDITS"], ...orgs.map((o) => [o.id, o.name, o.planId, o.usageCreditsEnabled ? "on" : "off"])]) };
    },
  },
  {
    name: "orgs create",
    summary: "Create an organization with its owner; prints the owner's API key once.",
    options: {
      name: { type: "string", help: "organization name", required: true },
      plan: { type: "string", help: "plan id (see `plans list`), default pro" },
      "owner-email": { type: "string", help: "owner's email", required: true },
      "owner-name": { type: "string", help: "owner's name (default: the email)" },
      "usage-credits": { type: "boolean", help: "enable usage credits" },
    },
    run: async (s, o) => {
      const v = unwrap(
        await s.admin.createOrg({
          name: str(o, "name"),
          planId: opt(o, "plan") ?? "pro",
          usageCreditsEnabled: o["usage-credits"] === true,
          fastModeEnabled: true,
          fastModeFallback: false,
          owner: { email: str(o, "owner-email"), name: opt(o, "owner-name") ?? str(o, "owner-email") },
        }),
      );
      return {
        json: { ...presentOrg(v.org), owner: presentMember(v.owner), api_key: presentCreatedKey(v.key) },
        text: `created ${v.org.id} (${v.org.name}, plan ${v.org.planId})\nowner ${v.owner.id} <${v.owner.email}>\napi key (shown once): ${v.key.secret}`,
      };
    },
  },
  {
    name: "members list",
    summary: "List an organization's members.",
    options: { ...ORG },
    run: async (s, o) => {
      const ms = await s.admin.listMembers(str(o, "org"));
      return { json: ms.map(presentMember), text: table([["ID", "EMAIL", "ROLE", "SEAT"], ...ms.map((m) => [m.id, m.email, m.role, m.seatTier])]) };
    },
  },
  {
    name: "members add",
    summary: "Add a member to an organization.",
    options: {
      ...ORG,
      email: { type: "string", help: "email", required: true },
      name: { type: "string", help: "name (default: the email)" },
      role: { type: "string", help: `one of ${ROLES.join(", ")} (default member)` },
      "seat-tier": { type: "string", help: `one of ${SEAT_TIERS.join(", ")} (default standard)` },
    },
    run: async (s, o) => {
      const m = unwrap(
        await s.admin.createMember(str(o, "org"), {
          email: str(o, "email"),
          name: opt(o, "name") ?? str(o, "email"),
          role: oneOf<Role>(opt(o, "role") ?? "member", ROLES, "role"),
          seatTier: oneOf<SeatTier>(opt(o, "seat-tier") ?? "standard", SEAT_TIERS, "seat-tier"),
          workspaceId: null,
          usageCreditsEnabled: true,
        }),
      );
      return { json: presentMember(m), text: `added ${m.id} <${m.email}> as ${m.role}` };
    },
  },
  {
    name: "members set-password",
    summary: "Set a member's dashboard password (a random one is generated and printed once if --password is absent).",
    options: {
      ...ORG,
      member: { type: "string", help: "member id (mem_…)", required: true },
      password: { type: "string", help: "the new password, at least 12 characters (default: a random one, printed once)" },
    },
    run: async (s, o) => {
      const password = opt(o, "password") ?? randomBytes(12).toString("base64url");
      const r = await s.sessions.setPassword(str(o, "org"), str(o, "member"), password);
      if (!r.ok) throw new CliError(r.error.message);
      const shown = opt(o, "password") === undefined;
      return {
        json: { member_id: r.value.id, email: r.value.email, ...(shown ? { password } : {}) },
        text: `dashboard password set for ${r.value.id} <${r.value.email}>${shown ? `\npassword (shown once): ${password}` : ""}`,
      };
    },
  },
  {
    name: "keys list",
    summary: "List an organization's API keys (never their secrets).",
    options: { ...ORG },
    run: async (s, o) => {
      const ks = await s.admin.listApiKeys(str(o, "org"));
      return { json: ks.map(presentKey), text: table([["ID", "PREFIX", "MEMBER", "SURFACE", "REVOKED"], ...ks.map((k) => [k.id, k.prefix, k.memberId ?? "", k.surface, k.revokedAt ? "yes" : ""])]) };
    },
  },
  {
    name: "keys create",
    summary: "Create an API key for a member; the secret is printed once.",
    options: {
      ...ORG,
      member: { type: "string", help: "member id (mem_…)", required: true },
      name: { type: "string", help: "a label for the key" },
      surface: { type: "string", help: `one of ${SURFACES.join(", ")} (default interactive)` },
    },
    run: async (s, o) => {
      const k = unwrap(
        await s.admin.createApiKey(str(o, "org"), {
          memberId: str(o, "member"),
          name: opt(o, "name") ?? "CLI key",
          surface: oneOf<Surface>(opt(o, "surface") ?? "interactive", SURFACES, "surface"),
        }),
      );
      return { json: presentCreatedKey(k), text: `created ${k.key.id}\napi key (shown once): ${k.secret}` };
    },
  },
  {
    name: "keys revoke",
    summary: "Revoke an API key.",
    options: { ...ORG, key: { type: "string", help: "key id (key_…)", required: true } },
    run: async (s, o) => {
      const k = unwrap(await s.admin.revokeApiKey(str(o, "org"), str(o, "key")));
      return { json: presentKey(k), text: `revoked ${k.id}` };
    },
  },
];
