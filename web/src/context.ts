// What every page gets: the signed-in member, the organization's API base and what they may do.

import type { Session } from "./wire.js";

export interface PageCtx {
  readonly session: Session;
  readonly base: string;
  /** What follows the page id in the address ("#/receipt/<payment id>"), "" when nothing. */
  readonly param: string;
  /** May add funds, set auto-reload and spending limits (owner, admin, billing). */
  readonly canBill: boolean;
  /** May manage members, keys, webhooks and credit requests (owner, admin). */
  readonly canManage: boolean;
  /** Re-renders the current page (after a change). */
  readonly reload: () => void;
}

export type Page = (ctx: PageCtx, main: HTMLElement) => Promise<void>;
