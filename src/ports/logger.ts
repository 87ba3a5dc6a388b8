// Structured logs as a port: JSON lines on stdout in production, silence or capture in tests.
// Never pass API keys or passwords to a logger.

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => undefined, error: () => undefined };

export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l), level: "info" | "error" = "info"): Logger {
  const emit = (lvl: string, msg: string, fields?: Record<string, unknown>) => write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`);
  return {
    info: (msg, fields) => {
      if (level === "info") emit("info", msg, fields);
    },
    error: (msg, fields) => emit("error", msg, fields),
  };
}
