import { Arg, Ctx, Directive, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { listJobs, retryJob } from './job.service.js';
import { Job, JobConnection, JobFilter } from './job.type.js';

@Resolver(() => Job)
export class JobResolver {
  @Query(() => JobConnection, { description: 'Background jobs of every tenant, newest first (system administrators).' })
  @Directive(tenantLevel('CENTRAL'))
  jobs(
    @Arg('filter', () => JobFilter, { nullable: true }) filter: JobFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() context: RequestContext,
  ): Promise<JobConnection> {
    return listJobs(context.services.jobs, { first, after, filter });
  }

  @Mutation(() => Job, { description: 'Queues a FAILED job again for one more attempt (system administrators).' })
  @Directive(tenantLevel('CENTRAL'))
  retryJob(@Arg('id', () => ID) id: string, @Ctx() context: RequestContext): Promise<Job> {
    return retryJob(context.services.jobs, id);
  }
}
