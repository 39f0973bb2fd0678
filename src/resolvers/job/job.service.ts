/**
 * The admin API over the job queue: list with filters and cursors, retry a failed job.
 * The resolver's shield rule already required a system administrator.
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { JOB_NAME_PATTERN, type JobQueue, type JobRecord } from '../../infra/jobs/index.js';
import { decodeCursor, encodeCursor, pageSize } from '../common/cursor.js';
import { isUuid } from '../common/prisma-errors.js';
import { type Job, type JobConnection, type JobFilter, type JobState } from './job.type.js';

/** Job cursors are refused in any other list. */
const JOB_CURSOR_SCOPE = 'jobs';
const EPOCH = /^\d{1,12}(\.\d{1,6})?$/;

type Jobs = Pick<JobQueue<unknown>, 'list' | 'retry'>;

export async function listJobs(jobs: Jobs, args: { first?: number | null; after?: string | null; filter?: JobFilter | null }): Promise<JobConnection> {
  const first = pageSize(args.first);
  const filter = args.filter ?? {};
  if (filter.tenantId != null && !isUuid(filter.tenantId)) throw badInput('filter.tenantId', 'filter.tenantId must be a tenant id (a UUID)');
  if (filter.name != null && !JOB_NAME_PATTERN.test(filter.name)) throw badInput('filter.name', 'filter.name is not a job name');
  let after: { createdEpoch: string; id: string } | undefined;
  if (args.after) {
    const [createdEpoch, id] = decodeCursor(args.after, JOB_CURSOR_SCOPE, ['text', 'uuid']) as [string, string];
    if (!EPOCH.test(createdEpoch)) throw badInput('after', 'This cursor is not valid here');
    after = { createdEpoch, id };
  }
  const page = await jobs.list(
    { state: filter.state ? (filter.state.toLowerCase() as JobRecord['state']) : null, name: filter.name ?? null, tenantId: filter.tenantId?.toLowerCase() ?? null },
    first,
    after,
  );
  const edges = page.jobs.map(({ record, position }) => ({ node: toJob(record), cursor: encodeCursor(JOB_CURSOR_SCOPE, [position.createdEpoch, position.id]) }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}

export async function retryJob(jobs: Jobs, id: string): Promise<Job> {
  const result = await jobs.retry(id);
  switch (result.status) {
    case 'retried':
      return toJob(result.job);
    case 'not-failed':
      throw new AppError(ErrorCode.CONFLICT, `Only a failed job can be retried; this one is ${result.job.state.toUpperCase()}`, {
        details: { state: result.job.state.toUpperCase() },
      });
    case 'not-found':
      throw new AppError(ErrorCode.NOT_FOUND, 'Job not found');
    default: {
      const unreachable: never = result;
      throw new Error(`unknown retry result ${JSON.stringify(unreachable)}`);
    }
  }
}

export function toJob(record: JobRecord): Job {
  return { ...record, state: record.state.toUpperCase() as JobState };
}

function badInput(field: string, message: string): AppError {
  return new AppError(ErrorCode.BAD_USER_INPUT, message, { details: { field } });
}
