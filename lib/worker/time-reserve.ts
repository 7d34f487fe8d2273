/** Kept for the final writes and bookkeeping: a share of the invocation, within these bounds. */
const RESERVE = { share: 0.15, minMs: 3_000, maxMs: 15_000 };
/** Kept after the last Slack write for saving the claim and the history. */
export const BOOKKEEPING_MS = 1_000;
/** A final write cut short by the end of the invocation is tried again this soon. */
export const FINAL_WRITE_RETRY_SECONDS = 2;

/**
 * The time an answer keeps for its final writes: 15 % of what the invocation has when it starts,
 * at least 3 s and at most 15 s, so a short function timeout still leaves the model most of it.
 */
export function reserveMs(remainingAtStartMs: number): number {
  return Math.min(RESERVE.maxMs, Math.max(RESERVE.minMs, Math.round(remainingAtStartMs * RESERVE.share)));
}
