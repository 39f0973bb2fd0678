import { Arg, Ctx, Directive, Field, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type LifecycleActor } from '../../tenancy/lifecycle/tenant-lifecycle.js';
import { type PlanInfo } from '../../tenancy/plans/plans.js';

@ObjectType({ description: 'Limits of a plan; null: unlimited.' })
export class PlanLimits {
  @Field(() => Int, { nullable: true, description: 'Patients a tenant may hold (createPatient answers QUOTA_EXCEEDED beyond).' })
  maxPatients!: number | null;
}

@InputType()
export class PlanLimitsInput {
  @Field(() => Int, { nullable: true })
  maxPatients?: number | null;
}

@ObjectType({ description: 'A subscription plan: the cluster modules it enables, its limits and trial.' })
export class Plan {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [String], { description: 'Cluster modules (emr, pos, scm).' })
  modules!: string[];

  @Field(() => PlanLimits)
  limits!: PlanLimits;

  @Field(() => Int)
  trialDays!: number;

  @Field(() => Boolean)
  isActive!: boolean;
}

@InputType()
export class CreatePlanInput {
  @Field(() => String)
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => [String], { nullable: true, description: 'Default: every cluster module.' })
  modules?: string[] | null;

  @Field(() => PlanLimitsInput, { nullable: true })
  limits?: PlanLimitsInput | null;

  @Field(() => Int, { nullable: true, description: 'Days a new subscription is TRIALING; default 0 (ACTIVE at once).' })
  trialDays?: number | null;

  @Field(() => Boolean, { nullable: true })
  isActive?: boolean | null;
}

@InputType({ description: 'Only the fields given change; limits replace the whole set.' })
export class UpdatePlanInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => [String], { nullable: true })
  modules?: string[] | null;

  @Field(() => PlanLimitsInput, { nullable: true })
  limits?: PlanLimitsInput | null;

  @Field(() => Int, { nullable: true })
  trialDays?: number | null;

  @Field(() => Boolean, { nullable: true })
  isActive?: boolean | null;
}

@ObjectType({ description: 'A subscription started by changePlan.' })
export class Subscription {
  @Field(() => ID)
  tenantId!: string;

  @Field(() => String)
  planKey!: string;

  @Field(() => String, { description: 'TRIALING (the plan has trial days) or ACTIVE.' })
  status!: string;

  @Field(() => Date)
  startsAt!: Date;

  @Field(() => Date, { nullable: true })
  trialEndsAt!: Date | null;
}

const toPlan = (plan: PlanInfo): Plan => ({ ...plan, limits: { maxPatients: plan.limits.maxPatients ?? null } });

/** Strips type-graphql's class instances to plain objects for zod's strict object checks. */
const plain = <T extends object>(input: T): T => JSON.parse(JSON.stringify(input)) as T;

function actorOf(context: RequestContext): LifecycleActor {
  const principal = context.principal;
  if (principal.kind === 'user' && principal.isSystemAdmin) return { kind: 'system' };
  if (principal.kind === 'user' && principal.tenantId) return { kind: 'admin', tenantId: principal.tenantId };
  throw new AppError(ErrorCode.FORBIDDEN, 'You are not allowed to do this');
}

@Resolver()
export class PlanResolver {
  @Query(() => [Plan], { description: 'Every plan, by key (administrators).' })
  @Directive(tenantLevel('CENTRAL'))
  async plans(@Ctx() context: RequestContext): Promise<Plan[]> {
    return (await context.services.administration.plans.list()).map(toPlan);
  }

  @Mutation(() => Plan, { description: 'System admins. BAD_USER_INPUT names every bad field (extensions.fields).' })
  @Directive(tenantLevel('CENTRAL'))
  async createPlan(@Arg('input', () => CreatePlanInput) input: CreatePlanInput, @Ctx() context: RequestContext): Promise<Plan> {
    return toPlan(await context.services.administration.plans.create(plain(input)));
  }

  @Mutation(() => Plan, { description: 'System admins. Tenants on the plan see the change at once.' })
  @Directive(tenantLevel('CENTRAL'))
  async updatePlan(@Arg('key', () => String) key: string, @Arg('input', () => UpdatePlanInput) input: UpdatePlanInput, @Ctx() context: RequestContext): Promise<Plan> {
    return toPlan(await context.services.administration.plans.update(key, plain(input)));
  }

  @Mutation(() => Subscription, { description: 'Moves a TENANT to a plan and starts a subscription (TRIALING when the plan has trial days).' })
  @Directive(tenantLevel('CENTRAL'))
  changePlan(@Arg('tenantId', () => ID) tenantId: string, @Arg('planKey', () => String) planKey: string, @Ctx() context: RequestContext): Promise<Subscription> {
    return context.services.administration.plans.changePlan(actorOf(context), tenantId, planKey);
  }

  @Mutation(() => [String], { description: "Enables a cluster module (emr, pos, scm) for one tenant over its plan; answers the tenant's modules." })
  @Directive(tenantLevel('CENTRAL'))
  enableModule(@Arg('tenantId', () => ID) tenantId: string, @Arg('module', () => String) module: string, @Ctx() context: RequestContext): Promise<string[]> {
    return context.services.administration.plans.setModule(actorOf(context), tenantId, module, true);
  }

  @Mutation(() => [String], { description: "Disables a cluster module for one tenant (its fields answer FORBIDDEN naming the module); answers the tenant's modules." })
  @Directive(tenantLevel('CENTRAL'))
  disableModule(@Arg('tenantId', () => ID) tenantId: string, @Arg('module', () => String) module: string, @Ctx() context: RequestContext): Promise<string[]> {
    return context.services.administration.plans.setModule(actorOf(context), tenantId, module, false);
  }
}
