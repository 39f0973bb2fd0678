/**
 * The global connection budget (DESIGN §3): a counting semaphore over physical connections of
 * every registry pool. It does no I/O; the registry decides what to close when a slot is short
 * (see `onWait`).
 */
import { DATABASE_BUSY_MARKER } from './registry-types.js';

/** Gives a slot back. Calling it more than once is harmless: only the first call counts. */
export type SlotRelease = () => void;

/** Called with a slot, or with the error that ended the wait (timeout, budget closed). */
export type SlotCallback = (error: Error | undefined, release: SlotRelease | undefined) => void;

export type ConnectionBudgetOptions = {
  /** Most slots held at once; never exceeded. */
  max: number;
  /** How long an `acquire` waits in line before it fails with {@link DatabaseBusyError}. */
  timeoutMs: number;
  /**
   * Called synchronously each time an `acquire` has to queue, after it is queued, so the owner
   * can free a slot (close an idle connection). Default: nothing.
   */
  onWait?: () => void;
};

/** The error a connection gets when no slot frees in time; its message carries the marker. */
export class DatabaseBusyError extends Error {
  override readonly name = 'DatabaseBusyError';

  constructor(max: number, timeoutMs: number) {
    super(
      `${DATABASE_BUSY_MARKER}: no database connection became free within ${timeoutMs} ms; all ${max} connections of the ` +
        'global budget (DB_MAX_CONNECTIONS) are in use. Retry shortly, or raise DB_MAX_CONNECTIONS if the database server allows it.',
    );
  }
}

/** The error of waits cut short by `close()`. */
export class BudgetClosedError extends Error {
  override readonly name = 'BudgetClosedError';
}

/** One caller in line. A doubly linked list keeps FIFO order and O(1) removal on timeout. */
type Waiter = {
  callback: SlotCallback;
  /** performance.now() when it joined the line (waits are the slow path; the clock read is cheap there). */
  queuedAt: number;
  timer: NodeJS.Timeout | undefined;
  previous: Waiter | undefined;
  next: Waiter | undefined;
};

export class ConnectionBudget {
  readonly max: number;
  readonly timeoutMs: number;
  private readonly onWait: (() => void) | undefined;
  private held = 0;
  private highest = 0;
  private queued = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  private waitCount = 0;
  private timeoutCount = 0;
  private servedWaitMs = 0;
  private longestServedWaitMs = 0;
  private closedBy: Error | undefined;

  constructor(options: ConnectionBudgetOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`budget max must be a positive integer, got ${options.max}`);
    if (!(options.timeoutMs >= 0)) throw new RangeError(`budget timeoutMs must be >= 0, got ${options.timeoutMs}`);
    this.max = options.max;
    this.timeoutMs = options.timeoutMs;
    this.onWait = options.onWait;
  }

  /** Slots held now. */
  get inUse(): number {
    return this.held;
  }

  /** Highest `inUse` ever. */
  get peak(): number {
    return this.highest;
  }

  /** Callers in line now. */
  get waiting(): number {
    return this.queued;
  }

  /** Times a caller had to queue. */
  get waits(): number {
    return this.waitCount;
  }

  /** Total milliseconds callers that got a slot spent in line (for an average wait per interval). */
  get waitedMs(): number {
    return this.servedWaitMs;
  }

  /** The longest time a caller spent in line before it got a slot. */
  get longestWaitMs(): number {
    return this.longestServedWaitMs;
  }

  /** Times a wait ended in {@link DatabaseBusyError}. */
  get timeouts(): number {
    return this.timeoutCount;
  }

  /** A slot now, or `undefined` when none is free (or others are already in line: FIFO). */
  tryAcquire(): SlotRelease | undefined {
    if (this.closedBy || this.queued > 0 || this.held >= this.max) return undefined;
    return this.take();
  }

  /**
   * Calls back with a slot: at once (synchronously) when one is free, else in FIFO order when
   * one is released, else with {@link DatabaseBusyError} after `timeoutMs`.
   */
  acquire(callback: SlotCallback): void {
    if (this.closedBy) {
      callback(this.closedBy, undefined);
      return;
    }
    const slot = this.tryAcquire();
    if (slot) {
      callback(undefined, slot);
      return;
    }
    const waiter: Waiter = { callback, queuedAt: performance.now(), timer: undefined, previous: this.tail, next: undefined };
    if (this.tail) this.tail.next = waiter;
    else this.head = waiter;
    this.tail = waiter;
    this.queued++;
    this.waitCount++;
    waiter.timer = setTimeout(() => {
      this.unlink(waiter);
      this.timeoutCount++;
      callback(new DatabaseBusyError(this.max, this.timeoutMs), undefined);
    }, this.timeoutMs);
    this.onWait?.();
  }

  /** Promise form of {@link acquire}. */
  acquireAsync(): Promise<SlotRelease> {
    return new Promise((resolve, reject) => {
      this.acquire((error, release) => (error ? reject(error) : resolve(release!)));
    });
  }

  /** Fails every wait with `reason` and every later acquire too. Held slots stay counted until released. */
  close(reason: Error = new BudgetClosedError('the connection budget is closed')): void {
    if (this.closedBy) return;
    this.closedBy = reason;
    for (let waiter = this.head; waiter; waiter = this.head) {
      this.unlink(waiter);
      waiter.callback(reason, undefined);
    }
  }

  private take(): SlotRelease {
    this.held++;
    if (this.held > this.highest) this.highest = this.held;
    return this.releaser();
  }

  private releaser(): SlotRelease {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.handOver();
    };
  }

  /** A released slot goes straight to the first in line, so `inUse` never dips and overshoots. */
  private handOver(): void {
    const waiter = this.head;
    if (!waiter) {
      this.held--;
      return;
    }
    this.unlink(waiter);
    const waited = performance.now() - waiter.queuedAt;
    this.servedWaitMs += waited;
    if (waited > this.longestServedWaitMs) this.longestServedWaitMs = waited;
    waiter.callback(undefined, this.releaser());
  }

  private unlink(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    if (waiter.previous) waiter.previous.next = waiter.next;
    else this.head = waiter.next;
    if (waiter.next) waiter.next.previous = waiter.previous;
    else this.tail = waiter.previous;
    waiter.previous = undefined;
    waiter.next = undefined;
    this.queued--;
  }
}
