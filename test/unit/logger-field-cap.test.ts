import { createLogger, MAX_LOGGED_FIELD_CHARS } from '../../lib/logger';
import { captureLogs } from '../support/capture-logs';

describe('every logged field is capped', () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  it('writes a 900 KB value as its first characters and its length, in any field, message and error', () => {
    // Prepare: what a signed interaction may carry in a field the ingress logs.
    const huge = 'x'.repeat(900_000);
    const logger = createLogger('cap-test', { logLevel: 'INFO' });
    // Act
    logger.warn(`rejected: ${huge}`, {
      reason: `interaction type ${huge}`,
      nested: { list: [huge] },
      error: new Error(huge),
    });
    // Assess
    const [line, ...more] = logs.text();
    expect(more).toEqual([]);
    expect(line!.length).toBeLessThan(8 * MAX_LOGGED_FIELD_CHARS);
    const entry = JSON.parse(line!) as {
      message: string;
      reason: string;
      nested: { list: string[] };
      error: { message: string };
    };
    for (const value of [entry.message, entry.reason, entry.nested.list[0]!, entry.error.message]) {
      expect(value.length).toBeLessThanOrEqual(MAX_LOGGED_FIELD_CHARS + 40);
      expect(value).toMatch(/xxx…\[cut: \d+ characters\]$/);
    }
    expect(entry.reason.startsWith('interaction type xxx')).toBe(true);
  });

  it('leaves fields within the cap as they are', () => {
    // Prepare
    const logger = createLogger('cap-test', { logLevel: 'INFO' });
    const exact = 'y'.repeat(MAX_LOGGED_FIELD_CHARS);
    // Act
    logger.info('short', { eventId: 'Ev1', exact, count: 3 });
    // Assess
    expect(JSON.parse(logs.text()[0]!)).toMatchObject({ message: 'short', eventId: 'Ev1', exact, count: 3 });
  });
});
