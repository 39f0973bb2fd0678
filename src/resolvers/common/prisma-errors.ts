import { AppError, ErrorCode } from '../../errors/index.js';
import { UUID_PATTERN } from '../../tenancy/model.js';


/** Ids are uuids; anything else cannot name a row, so it is simply "not found" (never a hint). */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** Maps Prisma's known request errors to client errors; everything else goes on unchanged. */
export function translatePrismaError(error: unknown, what: string): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'P2025') return new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
  if (code === 'P2002') {
    const fields = conflictFields(error);
    return new AppError(ErrorCode.CONFLICT, `A ${what.toLowerCase()} with this ${fields.length ? fields.join(', ') : 'value'} already exists`, {
      // The field a form marks; absent only when the database did not say which constraint it was.
      details: fields[0] ? { field: fields[0] } : {},
    });
  }
  return error;
}

type UniqueViolationMeta = {
  /** Prisma's own query engine. */
  target?: unknown;
  /** Driver adapters (@prisma/adapter-pg): the constraint's fields, or only its index name. */
  driverAdapterError?: { cause?: { table?: unknown; constraint?: { fields?: unknown; index?: unknown } } };
};

/**
 * The input fields a unique violation is about, as GraphQL names them (camelCase). Read from
 * Prisma's `target`, else the adapter's constraint fields, else PostgreSQL's default constraint
 * name `<table>_<column>[_<column>]_key`.
 */
export function conflictFields(error: unknown): string[] {
  const meta = (error as { meta?: UniqueViolationMeta }).meta;
  const cause = meta?.driverAdapterError?.cause;
  const listed = Array.isArray(meta?.target) ? meta.target : Array.isArray(cause?.constraint?.fields) ? cause.constraint.fields : undefined;
  if (listed) return listed.map((name) => camelCase(String(name).replace(/^"|"$/g, '')));
  const index = cause?.constraint?.index;
  const table = cause?.table;
  if (typeof index !== 'string' || typeof table !== 'string' || !index.startsWith(`${table}_`) || !index.endsWith('_key')) return [];
  const columns = index.slice(table.length + 1, -'_key'.length);
  return columns ? [camelCase(columns)] : [];
}

function camelCase(column: string): string {
  return column.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}
