/**
 * One access line per request, written when the response is complete (src/server.ts).
 * It names the request, its operation, tenant and principal, its status, duration and error
 * codes — never headers, bodies, variables or tokens.
 */
import { type Logger } from '../infra/logger.js';

export type RequestSummary = {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** The client went away before the response was complete. */
  aborted: boolean;
  operationName: string | undefined;
  operationType: string | undefined;
  /** The tenant the request ran in (the app, group or clinic), when one was identified. */
  tenantId: string | undefined;
  tenant: string | undefined;
  tenantLevel: string | undefined;
  /** `anonymous`, `user` or `system_admin`; undefined when identification failed. */
  principal: string | undefined;
  identifiedBy: string | undefined;
  errorCodes: readonly string[];
};

/** Health probes and scrapes arrive every few seconds: they are logged at debug, the rest at info. */
export function logAccess(logger: Logger, summary: RequestSummary, quiet: boolean): void {
  const level = quiet ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      requestId: summary.requestId,
      method: summary.method,
      path: summary.path,
      status: summary.status,
      durationMs: Math.round(summary.durationMs * 10) / 10,
      ...(summary.aborted ? { aborted: true } : {}),
      ...(summary.operationType ? { operationType: summary.operationType, operationName: summary.operationName ?? null } : {}),
      // Not `level`: pino's own key for the log level.
      ...(summary.tenantLevel ? { tenantLevel: summary.tenantLevel } : {}),
      ...(summary.tenantId ? { tenantId: summary.tenantId, tenant: summary.tenant } : {}),
      ...(summary.principal ? { principal: summary.principal, identifiedBy: summary.identifiedBy } : {}),
      ...(summary.errorCodes.length ? { errorCodes: summary.errorCodes } : {}),
    },
    'request',
  );
}
