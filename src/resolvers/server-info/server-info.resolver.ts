import { Ctx, Query, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { Health, ServerInfo } from './server-info.type.js';

@Resolver()
export class ServerInfoResolver {
  @Query(() => ServerInfo, { description: 'Version of this server.' })
  serverInfo(@Ctx() context: RequestContext): ServerInfo {
    return { version: context.services.version };
  }

  @Query(() => Health, { description: 'Readiness, as /health/ready reports it.' })
  async health(@Ctx() context: RequestContext): Promise<Health> {
    const readiness = await context.services.readiness();
    if (!readiness.ready) return { status: 'degraded', ready: false, reason: readiness.reason };
    return readiness.degraded === undefined ? { status: 'ok', ready: true, reason: null } : { status: 'degraded', ready: true, reason: readiness.degraded };
  }
}
