// The wire's formats: money is a string of micro-dollars, times are ISO 8601 (null stays null).

export const MONEY_FORMAT = { currency: "USD", decimal_places: 6 } as const;

export const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
/** An instant that is always set. */
export const isoAt = (t: number): string => new Date(t).toISOString();
export const money = (m: number): string => String(m);
export const moneyOrNull = (m: number | null): string | null => (m === null ? null : String(m));
