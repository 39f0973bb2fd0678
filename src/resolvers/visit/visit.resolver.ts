import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { Practitioner } from '../practitioner/practitioner.type.js';
import { practitionerLoader } from '../practitioner/practitioner.service.js';
import { listVisits, recordVisit } from './visit.service.js';
import { RecordVisitInput, Visit } from './visit.type.js';

@Resolver(() => Visit)
export class VisitResolver {
  @Query(() => [Visit], { description: 'Visits of a year (newest first, at most 500), optionally of one patient.' })
  @Directive(tenantLevel('TENANT'))
  visits(
    @Arg('year', () => Int) year: number,
    @Arg('patientId', () => ID, { nullable: true }) patientId: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Visit[]> {
    return listVisits(context, year, patientId);
  }

  @Mutation(() => Visit, { description: 'Records a visit in the EMR cluster schema of its year.' })
  @Directive(tenantLevel('TENANT'))
  recordVisit(@Arg('input', () => RecordVisitInput) input: RecordVisitInput, @Ctx() context: RequestContext): Promise<Visit> {
    return recordVisit(context, input);
  }

  @FieldResolver(() => Practitioner, { nullable: true, description: "From the clinic's group (batched per request)." })
  @Directive(tenantLevel('CENTRAL_TENANT'))
  practitioner(@Root() visit: Visit, @Ctx() context: RequestContext): Promise<Practitioner | null> | null {
    return visit.practitionerId ? practitionerLoader(context).load(visit.practitionerId) : null;
  }
}
