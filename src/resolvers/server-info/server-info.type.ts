import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'What this server is.' })
export class ServerInfo {
  @Field(() => String, { description: 'tenantgraph version (package.json).' })
  version!: string;
}

@ObjectType({ description: 'Whether this server can serve requests.' })
export class Health {
  @Field(() => String, { description: '`ok` when ready with every dependency up, otherwise `degraded`.' })
  status!: string;

  @Field(() => Boolean, { description: 'Central database reachable and its migrations current.' })
  ready!: boolean;

  @Field(() => String, { nullable: true, description: 'Why the server is not ready, or which optional dependency (Redis) is down.' })
  reason?: string | null;
}
