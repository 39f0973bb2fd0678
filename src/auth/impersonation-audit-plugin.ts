/**
 * Every operation run with an impersonation token is audited under both identities (the issue's
 * "every request made while impersonating"): one row per operation, naming its type and name.
 * Other requests pay one property check: no per-operation hooks are returned for them.
 */
import { type ApolloServerPlugin } from '@apollo/server';
import { type RequestContext } from '../context/request-context.js';
import { actorOf } from './audit.js';

export const impersonationAuditPlugin: ApolloServerPlugin<RequestContext> = {
  async requestDidStart({ contextValue }) {
    const principal = contextValue.principal;
    if (principal.kind !== 'user' || principal.impersonatorId === null) return undefined;
    return {
      async didResolveOperation({ operation, operationName }) {
        await contextValue.services.auth.audit.record(actorOf(principal), contextValue.client, {
          action: 'impersonation.request',
          tenantId: principal.tenantId,
          details: { operation: operation?.operation ?? null, operationName: operationName ?? null },
        });
      },
    };
  },
};
