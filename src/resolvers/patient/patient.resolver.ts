import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { LevelDb, tenantLevel } from '../../directives/tenant-level.directive.js';
import { type TenantClient } from '../../tenancy/level-clients.js';
import { tenantYear } from '../visit/cluster-guard.js';
import { Invoice } from '../invoice/invoice.type.js';
import { invoicesByPatientLoader } from '../invoice/invoice.service.js';
import { Visit } from '../visit/visit.type.js';
import { visitsByPatientLoader } from '../visit/visit.service.js';
import { createPatient, getPatient, listPatients, updatePatient } from './patient.service.js';
import { CreatePatientInput, Patient, PatientConnection, UpdatePatientInput } from './patient.type.js';

@Resolver(() => Patient)
export class PatientResolver {
  @Query(() => PatientConnection, { description: "The clinic's patients, by name; `search` matches names or the exact MRN." })
  @Directive(tenantLevel('TENANT'))
  patients(
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('search', () => String, { nullable: true }) search: string | null,
    @LevelDb() db: TenantClient,
    @Ctx() context: RequestContext,
  ): Promise<PatientConnection> {
    return listPatients(db, context.db.tenantRecord().id, { first, after, search });
  }

  @Query(() => Patient, { description: 'One patient of the clinic; NOT_FOUND for any id that is not one.' })
  @Directive(tenantLevel('TENANT'))
  patient(@Arg('id', () => ID) id: string, @LevelDb() db: TenantClient): Promise<Patient> {
    return getPatient(db, id);
  }

  @Mutation(() => Patient)
  @Directive(tenantLevel('TENANT'))
  async createPatient(@Arg('input', () => CreatePatientInput) input: CreatePatientInput, @LevelDb() db: TenantClient, @Ctx() context: RequestContext): Promise<Patient> {
    const tenantId = context.db.tenantRecord().id;
    const { limits } = await context.services.planState(tenantId);
    return createPatient(db, input, { tenantId, maxPatients: limits.maxPatients });
  }

  @Mutation(() => Patient)
  @Directive(tenantLevel('TENANT'))
  updatePatient(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdatePatientInput) input: UpdatePatientInput,
    @LevelDb() db: TenantClient,
  ): Promise<Patient> {
    return updatePatient(db, id, input);
  }

  @FieldResolver(() => [Visit], { description: 'Visits of a year (default this year), batched per request.' })
  visits(
    @Root() patient: Patient,
    @Arg('year', () => Int, { nullable: true }) year: number | null,
    @Ctx() context: RequestContext,
  ): Promise<Visit[]> {
    const y = year ?? tenantYear(context, new Date());
    return visitsByPatientLoader(context, y).load(patient.id);
  }

  @FieldResolver(() => [Invoice], { description: 'Invoices of a year (default this year), batched per request.' })
  invoices(
    @Root() patient: Patient,
    @Arg('year', () => Int, { nullable: true }) year: number | null,
    @Ctx() context: RequestContext,
  ): Promise<Invoice[]> {
    const y = year ?? tenantYear(context, new Date());
    return invoicesByPatientLoader(context, y).load(patient.id);
  }
}
