import { reserveMs } from '../../lib/worker/time-reserve';

describe('reserveMs: the time an answer keeps for its final writes', () => {
  it.each([
    [120_000, 15_000],
    [60_000, 9_000],
    [15_000, 3_000],
    [5_000, 3_000],
  ])('an invocation with %d ms left keeps %d ms', (remaining, kept) => {
    expect(reserveMs(remaining)).toBe(kept);
  });

  it('leaves a 15-second invocation most of its time for the model', () => {
    expect(15_000 - reserveMs(15_000)).toBeGreaterThanOrEqual(12_000);
  });
});
