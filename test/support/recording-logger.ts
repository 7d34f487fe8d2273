import type { LogItem } from '@aws-lambda-powertools/logger';
import { Logger } from '@aws-lambda-powertools/logger';
import { logReplacer } from '../../lib/logger';

/** One entry as the project's logger would print it (JSON, through lib/logger.ts's replacer). */
export type LogEntry = Record<string, unknown> & { level: string; message: string };

/**
 * The project's logger (Powertools, with lib/logger.ts's replacer) that keeps its entries in memory
 * instead of printing them: `printLog` is Powertools' documented extension point for subclasses.
 * Entries are what would have been printed, so a test sees exactly which fields reach the logs.
 */
export class RecordingLogger extends Logger {
  readonly entries: LogEntry[] = [];

  constructor(level: 'DEBUG' | 'INFO' = 'INFO') {
    super({ serviceName: 'unit-test', logLevel: level, jsonReplacerFn: logReplacer });
  }

  /** The entries at `level` (`INFO`, `WARN`, `ERROR`, …). */
  at(level: string): LogEntry[] {
    return this.entries.filter((e) => e.level === level);
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    this.entries.push(JSON.parse(JSON.stringify(log.getAttributes(), this.getJsonReplacer())) as LogEntry);
  }
}
