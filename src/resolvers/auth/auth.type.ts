import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Tokens from a sign-in, a refresh, a tenant switch or an impersonation.' })
export class AuthPayload {
  @Field(() => String, { description: 'Bearer JWT, at most 15 minutes.' })
  accessToken!: string;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => String, { nullable: true, description: 'Rotating refresh token; shown once. Null for impersonation tokens (never refreshable).' })
  refreshToken!: string | null;
}

@ObjectType({ description: 'A single-use impersonation exchange code (60 seconds); trade it with redeemImpersonation.' })
export class ImpersonationCode {
  @Field(() => String)
  code!: string;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => ID, { description: 'The account the code impersonates.' })
  accountId!: string;
}

@ObjectType({ description: 'A new TOTP secret and recovery codes; shown once. Confirm with verifyTwoFactor.' })
export class TwoFactorEnrolment {
  @Field(() => String, { description: 'Base32 secret for authenticator apps.' })
  secret!: string;

  @Field(() => String, { description: 'otpauth:// URI (for a QR code).' })
  otpauthUri!: string;

  @Field(() => [String])
  recoveryCodes!: string[];
}

@ObjectType({ description: 'The roles and abilities the server knows; anything else is refused.' })
export class AccessCatalogue {
  @Field(() => [String])
  roles!: string[];

  @Field(() => [String])
  abilities!: string[];
}

@ObjectType({ description: 'An API token (its secret is shown only when created).' })
export class ApiToken {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  tenantId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The `<prefix>` of `tg_<prefix>_<secret>`, to recognise a token.' })
  prefix!: string;

  @Field(() => [String])
  abilities!: string[];

  @Field(() => Date, { nullable: true, description: 'Updated at most once a minute.' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class CreatedApiToken {
  @Field(() => String, { description: '`tg_<prefix>_<secret>`: shown this once, stored only as a hash.' })
  token!: string;

  @Field(() => ApiToken)
  apiToken!: ApiToken;
}
