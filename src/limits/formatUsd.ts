/**
 * A dollar amount as a breach's message shows it: cents from $1 up (`$12.50`), three significant
 * digits below (`$0.0123`).
 *
 * @param amount US dollars.
 * @return The amount with its `$`.
 * @internal
 */
export function formatUsd(amount: number): string {
  return `$${amount >= 1 ? amount.toFixed(2) : Number(amount.toPrecision(3))}`;
}
