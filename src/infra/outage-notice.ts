/**
 * Logs a dependency outage once when it starts and once when it ends, however many calls fail in
 * between: a Redis outage under load would otherwise write a line per request.
 */
import { type Logger } from './logger.js';

export class OutageNotice {
  private reason: string | undefined;

  constructor(
    private readonly logger: Logger,
    /** Who is affected, e.g. "tenant cache". */
    private readonly component: string,
    /** What happens meanwhile, e.g. "reads miss and writes are dropped". */
    private readonly meanwhile: string,
  ) {}

  /** Why it is down, or undefined while it works. */
  get down(): string | undefined {
    return this.reason;
  }

  failed(error: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = error instanceof Error ? error.message : String(error);
    this.logger.warn({ err: error }, `Redis unavailable: ${this.component} ${this.meanwhile} until it returns`);
  }

  recovered(): void {
    if (this.reason === undefined) return;
    this.reason = undefined;
    this.logger.info(`Redis available again: ${this.component} back to normal`);
  }
}
