/**
 * The GraphQL requests not answered yet, each with its deadline. A request is interrupted when
 * its deadline passes (TIMEOUT) or when shutdown stops waiting for it (SHUTTING_DOWN); the server
 * then answers it and cancels its database work instead of leaving the client to time out.
 */
import { ErrorCode } from '../errors/index.js';

export type Interruption = { code: ErrorCode.TIMEOUT | ErrorCode.SHUTTING_DOWN; message: string; retryAfterSeconds?: number };

export type InFlight = {
  /** Settles when the request is interrupted; never rejects. */
  readonly interrupted: Promise<Interruption>;
  /** The request was answered: stop its deadline and stop counting it. */
  done(): void;
};

type Entry = { interrupt: (interruption: Interruption) => void; timer: NodeJS.Timeout };

export class InFlightRequests {
  private readonly running = new Set<Entry>();
  private idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.running.size;
  }

  start(timeoutMs: number): InFlight {
    let interrupt!: (interruption: Interruption) => void;
    const interrupted = new Promise<Interruption>((resolve) => (interrupt = resolve));
    const timer = setTimeout(
      () => interrupt({ code: ErrorCode.TIMEOUT, message: `The request took longer than ${timeoutMs} ms and was stopped; retry, or ask for less` }),
      timeoutMs,
    );
    const entry: Entry = { interrupt, timer };
    this.running.add(entry);
    return {
      interrupted,
      done: () => {
        clearTimeout(entry.timer);
        if (!this.running.delete(entry) || this.running.size > 0) return;
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      },
    };
  }

  interruptAll(interruption: Interruption): void {
    for (const entry of this.running) entry.interrupt(interruption);
  }

  /** Resolves true once no request is in flight, false when `timeoutMs` passed first. */
  waitUntilIdle(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
