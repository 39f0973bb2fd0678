import { Arg, Ctx, Directive, Field, ID, InputType, Mutation, ObjectType, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type LifecycleActor } from '../../tenancy/lifecycle/tenant-lifecycle.js';
import { toInvitation } from '../account/member.resolver.js';
import { toTenant } from './tenant.service.js';
import { Tenant } from './tenant.type.js';
import { TenantIsolation, TenantLevel } from '../common/tenant-level.enum.js';

@InputType()
export class FirstAdminInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true, description: 'Default: the email.' })
  name?: string | null;
}

@InputType()
export class CreateTenantInput {
  @Field(() => TenantLevel, { description: 'APP, CENTRAL_TENANT or TENANT.' })
  level!: TenantLevel;

  @Field(() => ID, { nullable: true, description: 'The APP of a CENTRAL_TENANT, the CENTRAL_TENANT of a TENANT; none for an APP.' })
  parentId?: string | null;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true, description: 'Names its storage; default: the slug with - as _.' })
  key?: string | null;

  @Field(() => TenantIsolation, { nullable: true, description: 'TENANT only; default DATABASE.' })
  isolation?: TenantIsolation | null;

  @Field(() => [String], { nullable: true, description: 'Host names; the first is primary.' })
  domains?: string[] | null;

  @Field(() => String, { nullable: true, description: 'TENANT only: a database server name or id; default the active one with the fewest tenants.' })
  dbServer?: string | null;

  @Field(() => String, { nullable: true, description: "TENANT only: the plan's key; its default seeders run in the new tenant." })
  planKey?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone name, e.g. Europe/Berlin; default UTC.' })
  timezone?: string | null;

  @Field(() => FirstAdminInput, { nullable: true, description: 'TENANT and CENTRAL_TENANT: the first admin (an account, made without a password when new, with an admin membership). Its invitation token is in this answer’s firstAdminInvitation, once.' })
  admin?: FirstAdminInput | null;
}

@ObjectType({ description: 'What deleteTenant did.' })
export class TenantDeletion {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => Boolean, { description: 'true: storage, role, files and the row are gone for good.' })
  hard!: boolean;

  @Field(() => Date, { nullable: true, description: 'Soft delete: restoreTenant works until then.' })
  restorableUntil!: Date | null;
}

/** The actor the lifecycle service checks: permissions.ts admitted only system admins and tenant admins. */
export function actorOf(context: RequestContext): LifecycleActor {
  const principal = context.principal;
  if (principal.kind === 'user' && principal.isSystemAdmin) return { kind: 'system' };
  if (principal.kind === 'user' && principal.tenantId) return { kind: 'admin', tenantId: principal.tenantId };
  throw new AppError(ErrorCode.FORBIDDEN, 'You are not allowed to do this');
}

/** Lifecycle mutations for system admins and admins of an ancestor of the tenant. */
@Resolver()
export class TenantLifecycleResolver {
  @Mutation(() => Tenant, {
    description:
      'Creates a tenant and queues its provisioning (storage, migrations, role, cluster schemas, seeders, first admin, domains); answers at once with status PROVISIONING. Follow tenant.provisioning until ACTIVE or FAILED.',
  })
  @Directive(tenantLevel('CENTRAL'))
  async createTenant(@Arg('input', () => CreateTenantInput) input: CreateTenantInput, @Ctx() context: RequestContext): Promise<Tenant> {
    const made = await context.services.administration.createTenant(actorOf(context), input);
    return { ...toTenant({ ...made, status: 'PROVISIONING', maintenance: false }), firstAdminInvitation: toInvitation(made.firstAdminInvitation) };
  }

  @Mutation(() => Tenant, { description: 'Starts a new attempt of a FAILED provisioning from the beginning; answers PROVISIONING.' })
  @Directive(tenantLevel('CENTRAL'))
  async retryProvisioning(@Arg('id', () => ID) id: string, @Ctx() context: RequestContext): Promise<Tenant> {
    const administration = context.services.administration;
    await administration.provisioning.retry(actorOf(context), id);
    return toTenant(await administration.lifecycle.get({ kind: 'system' }, id));
  }

  @Mutation(() => Tenant, { description: 'Makes an ACTIVE tenant read-only for everyone but system admins.' })
  @Directive(tenantLevel('CENTRAL'))
  async suspendTenant(@Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string, @Ctx() context: RequestContext): Promise<Tenant> {
    return toTenant(await context.services.administration.lifecycle.suspend(actorOf(context), id, reason));
  }

  @Mutation(() => Tenant)
  @Directive(tenantLevel('CENTRAL'))
  async resumeTenant(@Arg('id', () => ID) id: string, @Ctx() context: RequestContext): Promise<Tenant> {
    return toTenant(await context.services.administration.lifecycle.resume(actorOf(context), id));
  }

  @Mutation(() => Tenant, { description: 'Maintenance mode: the tenant answers TENANT_MAINTENANCE (with the message) to everyone but admins.' })
  @Directive(tenantLevel('CENTRAL'))
  async setTenantMaintenance(
    @Arg('id', () => ID) id: string,
    @Arg('enabled', () => Boolean) enabled: boolean,
    @Arg('message', () => String, { nullable: true }) message: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Tenant> {
    return toTenant(await context.services.administration.lifecycle.setMaintenance(actorOf(context), id, enabled, message));
  }

  @Mutation(() => TenantDeletion, {
    description: 'Soft delete by default (status DELETED, data kept, domains released, restorable for TENANT_DELETE_GRACE_DAYS). hard: true with confirm = the slug removes storage, role, files and the row for good.',
  })
  @Directive(tenantLevel('CENTRAL'))
  deleteTenant(
    @Arg('id', () => ID) id: string,
    @Arg('hard', () => Boolean, { nullable: true, defaultValue: false }) hard: boolean,
    @Arg('confirm', () => String, { nullable: true }) confirm: string | null,
    @Ctx() context: RequestContext,
  ): Promise<TenantDeletion> {
    const lifecycle = context.services.administration.lifecycle;
    return hard ? lifecycle.hardDelete(actorOf(context), id, confirm) : lifecycle.softDelete(actorOf(context), id);
  }

  @Mutation(() => Tenant, { description: 'Undoes a soft delete within TENANT_DELETE_GRACE_DAYS.' })
  @Directive(tenantLevel('CENTRAL'))
  async restoreTenant(@Arg('id', () => ID) id: string, @Ctx() context: RequestContext): Promise<Tenant> {
    return toTenant(await context.services.administration.lifecycle.restore(actorOf(context), id));
  }
}
