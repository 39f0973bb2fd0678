export { loadMigrationFiles, loadDownFiles, checksumOf, type MigrationFile } from './migration-files.js';
export { MigrationError, MigrationChecksumError, MigrationFailedError } from './migration-errors.js';
export {
  migrate,
  readMigrationStatus,
  assertHistoryMatches,
  planRollback,
  rollback,
  MIGRATIONS_TABLE,
  type MigrationTarget,
  type MigrationStatus,
  type MigrateResult,
} from './migrator.js';
