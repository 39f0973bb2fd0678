import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ description: 'An account’s membership of a tenant: its role and abilities there.' })
export class Member {
  @Field(() => ID, { description: 'The membership id.' })
  id!: string;

  @Field(() => ID)
  accountId!: string;

  @Field(() => ID)
  tenantId!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { description: 'admin or member.' })
  role!: string;

  @Field(() => [String])
  abilities!: string[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the pending invitation runs out (in the past: expired, resendInvitation makes a new one); null when none is pending (accepted, or a password set). The token is never readable.' })
  invitationExpiresAt!: Date | null;
}

@ObjectType({
  description:
    'A one-time invitation to choose a password and sign in (acceptInvitation). Appears only in the answer of the mutation that made it; the server keeps only a hash, so it cannot be read again.',
})
export class Invitation {
  @Field(() => String, { description: 'The invited email.' })
  email!: string;

  @Field(() => String, { description: '`inv_…`: give it to the invited person privately; it signs them in once.' })
  token!: string;

  @Field(() => String, { nullable: true, description: 'INVITATION_URL with `#token=…`; null when INVITATION_URL is unset.' })
  url!: string | null;

  @Field(() => Date, { description: 'After this (INVITATION_TTL_HOURS) it is refused; resendInvitation makes a new one.' })
  expiresAt!: Date;
}

@ObjectType({ description: 'inviteMember and resendInvitation: the membership, and the invitation when the account has no password yet.' })
export class MemberInvitation {
  @Field(() => Member)
  member!: Member;

  @Field(() => Invitation, { nullable: true, description: 'Null when the account has a password already: the person signs in with it (switchTenant).' })
  invitation!: Invitation | null;
}
