/**
 * Stops the database work of a request that was answered before it finished (deadline, shutdown).
 *
 * Each statement the request still runs is cancelled at PostgreSQL with the protocol's
 * CancelRequest (what `pg_cancel_backend` does, without needing a session or a privilege: the
 * backend's process id and secret key are enough), and later statements are refused before they
 * are sent (`noteStatement`). The statement fails with 57014, pg hands the connection back to its
 * pool, and the pool's budget slot stays accounted for.
 */
import pg from 'pg';
import { type Logger } from '../infra/logger.js';
import { lastStatementWasFrom, type ScopeState } from '../tenancy/bootstrappers/index.js';

/** pg.Client fields pg sets on connect but does not declare. */
type ConnectedClient = pg.Client & {
  processID: number | null;
  secretKey: number | null;
  connectionParameters: { host: string; port: number; ssl?: pg.ConnectionConfig['ssl'] };
};

/** Marks the request answered and cancels the statements it is running. */
export function abandonRequest(state: ScopeState, logger: Logger): void {
  state.abandoned = true;
  for (const connection of state.connections ?? []) {
    // The connection may already serve another request: cancel only while it still works for this one.
    if (lastStatementWasFrom(connection, state)) cancelStatement(connection as ConnectedClient, logger);
  }
}

function cancelStatement(client: ConnectedClient, logger: Logger): void {
  const { processID, secretKey, connectionParameters: target } = client;
  if (processID === null || secretKey === null) return;
  const canceller = new pg.Connection({ ssl: target.ssl } as ConstructorParameters<typeof pg.Connection>[0]) as pg.Connection & {
    connect(port: number | string, host?: string): void;
    cancel(processID: number, secretKey: number): void;
  };
  // PostgreSQL closes the socket once it read the request; nothing else to wait for.
  canceller.on('error', (error: Error) => logger.warn({ err: error.message, processID }, 'could not cancel a statement'));
  canceller.once('connect', () => canceller.cancel(processID, secretKey));
  if (target.host.startsWith('/')) canceller.connect(`${target.host}/.s.PGSQL.${target.port}`);
  else canceller.connect(target.port, target.host);
}
