/** Shapes shared by the sign-in modules. */
import { type AuditRequest } from './audit.js';

/** What a sign-in, refresh or tenant switch hands back. */
export type Session = {
  accessToken: string;
  expiresAt: Date;
  /** null for impersonation tokens, which are never refreshable. */
  refreshToken: string | null;
};

/** The request facts an auth operation records (IP, user agent, request id). */
export type ClientRequest = AuditRequest;

/** Time source; tests inject one to step past expiries. */
export type Clock = () => Date;

export type AccountRow = {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  is_system_admin: boolean;
  is_active: boolean;
  two_factor_secret_ciphertext: string | null;
  /** Key ring id of the ciphertext; null for secrets stored before the ring (read with ENCRYPTION_KEY). */
  two_factor_secret_key_id: string | null;
  two_factor_enabled_at: Date | null;
  two_factor_recovery_hashes: string[];
};

export const ACCOUNT_COLUMNS =
  'id, email, name, password_hash, is_system_admin, is_active, two_factor_secret_ciphertext, two_factor_secret_key_id, two_factor_enabled_at, two_factor_recovery_hashes';

/** Sign-in access tokens live at most this long (the 15 minutes). */
export const SESSION_ACCESS_TOKEN_MAX_SECONDS = 900;
