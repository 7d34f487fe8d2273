import { Pacer } from '../../lib/reply/pacer';

describe('Pacer: one streaming write per interval, none during a pause', () => {
  it('runs the first write at once and spaces the next from when the last was answered', async () => {
    // Prepare
    let now = 1_000;
    const pacer = new Pacer(50, () => now);
    const runs: number[] = [];
    // Act
    pacer.schedule(() => runs.push(now));
    pacer.wrote();
    now += 10;
    pacer.schedule(() => runs.push(now));
    // Assess: the second waits for its turn on a timer.
    expect(runs).toEqual([1_000]);
    expect(pacer.waiting).toBe(true);
    expect(pacer.turnMs()).toBe(40);
    now += 40;
    await new Promise((r) => setTimeout(r, 60));
    expect(runs).toEqual([1_000, 1_050]);
    expect(pacer.waiting).toBe(false);
  });

  it('waits out a pause, and cancels a write still waiting', async () => {
    // Prepare
    const pacer = new Pacer(10, Date.now);
    pacer.pausedUntil = Date.now() + 30;
    let ran = false;
    // Act
    pacer.schedule(() => {
      ran = true;
    });
    pacer.cancel();
    await new Promise((r) => setTimeout(r, 50));
    // Assess
    expect(ran).toBe(false);
    expect(pacer.turnMs()).toBe(0); // nothing written yet: a final write need not wait
  });
});
