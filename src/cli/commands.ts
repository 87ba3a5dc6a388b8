// The `usage-credits` command line: every command is a row with its options and help, one file per
// resource under cli/commands/. Commands act on the database directly through the same use cases as
// the API. The order here is the order of `usage-credits --help`.

import { CREDIT_COMMANDS } from "./commands/credits.js";
import { LEDGER_COMMANDS } from "./commands/ledger.js";
import { MONEY_IN_COMMANDS } from "./commands/money-in.js";
import { ORG_COMMANDS } from "./commands/orgs.js";
import { PRICE_BOOK_COMMANDS } from "./commands/price-books.js";
import { REPORTING_COMMANDS } from "./commands/reporting.js";
import { WEBHOOK_COMMANDS } from "./commands/webhooks.js";
import type { Command } from "./commands/shared.js";

export { CliError, commandHelp, parseCommandArgs, type Command, type Option } from "./commands/shared.js";

export const COMMANDS: readonly Command[] = [
  ...ORG_COMMANDS,
  ...CREDIT_COMMANDS,
  ...MONEY_IN_COMMANDS,
  ...WEBHOOK_COMMANDS,
  ...REPORTING_COMMANDS,
  ...PRICE_BOOK_COMMANDS,
  ...LEDGER_COMMANDS,
];
