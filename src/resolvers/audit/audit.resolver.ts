import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { listAuditLogs } from '../../auth/audit-query.js';
import { type RequestContext } from '../../context/request-context.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { AuditLogConnection, AuditLogFilter } from './audit.type.js';

@Resolver()
export class AuditResolver {
  @Query(() => AuditLogConnection, { description: 'The audit log, newest first: system admins see all rows, admins their subtree’s.' })
  async auditLogs(
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter: AuditLogFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() context: RequestContext,
  ): Promise<AuditLogConnection> {
    if (context.principal.kind !== 'user') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in or send a bearer token');
    const { rows, hasNextPage } = await listAuditLogs(context.services.auth.pool, context.principal, { filter: filter ?? null, first: first ?? 20, after: after ?? null });
    const edges = rows.map((row) => ({
      cursor: row.id,
      node: {
        id: row.id,
        tenantId: row.tenant_id,
        actorAccountId: row.actor_account_id,
        impersonatorAccountId: row.impersonator_account_id,
        actorLabel: row.actor_label,
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        requestId: row.request_id,
        ipAddress: row.ip_address,
        userAgent: row.user_agent,
        details: JSON.stringify(row.details),
        createdAt: row.created_at,
      },
    }));
    return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
