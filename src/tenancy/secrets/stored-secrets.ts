/**
 * Every secret the central database stores, encrypted under the key ring (TENANCY_ENCRYPTION_KEYS): where it lives and the
 * context bound into its ciphertext (so a ciphertext moved to another row does not decrypt).
 * A new secret column is added here, and rotation covers it.
 */
export type StoredSecret = {
  /** Human name, for reports. */
  name: string;
  table: 'db_servers' | 'tenants' | 'accounts';
  ciphertextColumn: string;
  keyIdColumn: string;
  context(rowId: string): string;
};

export const adminPasswordContext = (serverId: string) => `db_servers:${serverId}:admin_password`;
export const tenantPasswordContext = (tenantId: string) => `tenants:${tenantId}:db_password`;
export const totpSecretContext = (accountId: string) => `accounts:${accountId}:totp_secret`;

export const STORED_SECRETS: readonly StoredSecret[] = [
  {
    name: 'database server admin password',
    table: 'db_servers',
    ciphertextColumn: 'admin_password_ciphertext',
    keyIdColumn: 'admin_password_key_id',
    context: adminPasswordContext,
  },
  {
    name: 'tenant database password',
    table: 'tenants',
    ciphertextColumn: 'db_password_ciphertext',
    keyIdColumn: 'db_password_key_id',
    context: tenantPasswordContext,
  },
  {
    name: 'two-factor (TOTP) secret',
    table: 'accounts',
    ciphertextColumn: 'two_factor_secret_ciphertext',
    keyIdColumn: 'two_factor_secret_key_id',
    context: totpSecretContext,
  },
];
