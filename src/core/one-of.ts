// Narrowing a value to a member of an `as const` list of literals: the type guard the lists need,
// so call sites neither widen the list to string[] nor cast the value afterwards.

/** Whether `value` is one of `list` (and then typed as such). */
export function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return list.some((x) => x === value);
}
