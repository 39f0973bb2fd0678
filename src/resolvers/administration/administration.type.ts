import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A PostgreSQL server tenants are placed on. Its admin password is stored encrypted and never returned.' })
export class DbServer {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  host!: string;

  @Field(() => Int)
  port!: number;

  @Field(() => String)
  adminUsername!: string;

  @Field(() => Int, { nullable: true, description: 'Most tenants placed here; null: no limit.' })
  maxTenants!: number | null;

  @Field(() => Boolean, { description: 'The central server (DATABASE_URL), registered on first use.' })
  isDefault!: boolean;

  @Field(() => Boolean)
  isActive!: boolean;

  @Field(() => Int, { description: 'TENANT-level tenants stored here.' })
  tenantCount!: number;

  @Field(() => Date)
  createdAt!: Date;
}

@InputType()
export class AddDbServerInput {
  @Field(() => String, { description: 'Lower-case letters, digits and -.' })
  name!: string;

  @Field(() => String)
  host!: string;

  @Field(() => Int, { nullable: true, defaultValue: 5432 })
  port?: number | null;

  @Field(() => String, { description: 'A role that may create databases and roles.' })
  adminUsername!: string;

  @Field(() => String, { description: 'Stored encrypted (TENANCY_ENCRYPTION_KEYS); never returned.' })
  adminPassword!: string;

  @Field(() => Int, { nullable: true })
  maxTenants?: number | null;
}

@ObjectType({ description: 'A stored value that could not be re-encrypted (its key is no longer listed, or it was altered).' })
export class KeyRotationFailure {
  @Field(() => String, { description: 'What kind of value, e.g. "tenant database password".' })
  kind!: string;

  @Field(() => ID)
  rowId!: string;

  @Field(() => String)
  reason!: string;
}

@ObjectType({ description: 'What a key rotation did. Rerun it after an interruption: it continues where it stopped.' })
export class KeyRotationReport {
  @Field(() => String, { description: 'The key id every rotated secret is encrypted with now.' })
  keyId!: string;

  @Field(() => Int)
  rotated!: number;

  @Field(() => Int, { description: 'Stored values on the newest key after the run.' })
  current!: number;

  @Field(() => [KeyRotationFailure])
  failures!: KeyRotationFailure[];
}
