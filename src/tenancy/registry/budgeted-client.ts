/**
 * A pg.Client that holds a slot of the global connection budget for as long as its socket
 * lives. pg.Pool creates its connections with it (pool option `Client`), so every physical
 * connection of every registry pool is counted, whichever code path opened it.
 */
import pg from 'pg';
import { type ConnectionBudget, type SlotRelease } from './connection-budget.js';

export type BudgetedClientHooks = {
  budget: ConnectionBudget;
  /** Called before every statement is sent (metrics, request tracking); may throw to refuse it. */
  onQuery(client: BudgetedClient, statement: unknown): void;
  /** Called once per client when its slot goes back to the budget. */
  onSlotReleased(client: BudgetedClient): void;
};

type ConnectCallback = (error: Error | null, client?: pg.Client) => void;

/** What the registry keeps on each connection; the class itself is made per registry. */
export interface BudgetedClient extends pg.Client {
  /** Set by the registry when it asked this connection to close to free its slot. */
  closingForBudget: boolean;
  /** The registry's record of the pool this connection belongs to (set on the pool's `connect`). */
  owner: unknown;
}

export type BudgetedClientClass = new (config?: string | pg.ClientConfig) => BudgetedClient;

/** Makes the Client class of one registry, bound to its budget and metrics. */
export function makeBudgetedClientClass(hooks: BudgetedClientHooks): BudgetedClientClass {
  const { budget } = hooks;

  class RegistryClient extends pg.Client implements BudgetedClient {
    closingForBudget = false;
    owner: unknown = undefined;
    private slot: SlotRelease | undefined;
    private slotReturned = false;

    /** Once: on 'end' (the socket closed) or when connecting failed. */
    private readonly returnSlot = (): void => {
      if (this.slotReturned || !this.slot) return;
      this.slotReturned = true;
      const release = this.slot;
      this.slot = undefined;
      release();
      hooks.onSlotReleased(this);
    };

    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): Promise<pg.Client> | void {
      if (!callback) {
        return new Promise<pg.Client>((resolve, reject) => {
          this.connectWithSlot((error) => (error ? reject(error) : resolve(this)));
        });
      }
      this.connectWithSlot(callback as ConnectCallback);
    }

    private connectWithSlot(callback: ConnectCallback): void {
      budget.acquire((error, release) => {
        if (error) {
          callback(error);
          return;
        }
        this.slot = release;
        // pg emits 'end' after the socket closed, and the server drops the backend from
        // pg_stat_activity before it closes the socket: the slot never frees early.
        this.once('end', this.returnSlot);
        super.connect((connectError: Error | null) => {
          if (connectError) {
            this.returnSlot();
            callback(connectError);
            return;
          }
          callback(null, this);
        });
      });
    }
  }

  // Every statement goes through Client#query (pool.query, Prisma's adapter, transactions).
  // Patched on the prototype because its overloads cannot be restated in an override.
  const baseQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  (RegistryClient.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function query(
    this: pg.Client,
    ...args: unknown[]
  ): unknown {
    hooks.onQuery(this as BudgetedClient, args[0]);
    return baseQuery.apply(this, args);
  };

  return RegistryClient;
}
