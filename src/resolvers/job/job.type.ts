import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../common/page-info.type.js';

/** pg-boss job states, upper-cased for GraphQL. */
export enum JobState {
  CREATED = 'CREATED',
  RETRY = 'RETRY',
  ACTIVE = 'ACTIVE',
  COMPLETED = 'COMPLETED',
  CANCELLED = 'CANCELLED',
  FAILED = 'FAILED',
}

registerEnumType(JobState, {
  name: 'JobState',
  description: 'CREATED (waiting) → ACTIVE (running) → COMPLETED, or RETRY (waiting to run again) → … → FAILED (no retries left). CANCELLED: stopped by an operator.',
});

@ObjectType({ description: 'A durable background job (system administrators only). Its payload is not shown.' })
export class Job {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The job definition (and queue) name.' })
  name!: string;

  @Field(() => ID, { nullable: true, description: 'The tenant it runs for; null for a central job.' })
  tenantId!: string | null;

  @Field(() => JobState)
  state!: JobState;

  @Field(() => Int, { description: 'Attempts started so far.' })
  attempts!: number;

  @Field(() => Int, { description: 'Retries allowed after the first attempt.' })
  retryLimit!: number;

  @Field(() => String, { nullable: true })
  singletonKey!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { description: 'Not run before this time (the next retry, while retrying).' })
  runAfter!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Message of the last failure.' })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the job was completed without running, e.g. its tenant was deleted.' })
  discardedReason!: string | null;
}

@ObjectType()
export class JobEdge {
  @Field(() => Job)
  node!: Job;

  @Field(() => String)
  cursor!: string;
}

@ObjectType({ description: 'Jobs, newest first.' })
export class JobConnection {
  @Field(() => [JobEdge])
  edges!: JobEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class JobFilter {
  @Field(() => JobState, { nullable: true })
  state?: JobState | null;

  @Field(() => String, { nullable: true, description: 'Exact job name.' })
  name?: string | null;

  @Field(() => ID, { nullable: true })
  tenantId?: string | null;
}
