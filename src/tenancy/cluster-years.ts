/**
 * Which year a record belongs to, and which years requests may name. A record's year is taken in
 * its tenant's time zone (`tenants.timezone`, default UTC): a visit at 23:30 on 31 December in
 * Asia/Tokyo (14:30 UTC) is still that year, one at 00:30 on 1 January Tokyo time (15:30 UTC on
 * 31 December) is next year's.
 */
import { AppError, ErrorCode } from '../errors/index.js';
import { CLUSTER_YEARS } from './model.js';

/** Formatters by zone. Bounded by the IANA zone list (~600), not by tenants; holds no tenant data. */
const yearFormatters = new Map<string, Intl.DateTimeFormat>();

function yearFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = yearFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' });
    yearFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether `timeZone` is an IANA zone this runtime knows (e.g. `Asia/Tokyo`, `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    yearFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The calendar year of `date` in `timeZone`. An unknown zone (the column is free text) counts as
 * UTC rather than failing every write of the tenant.
 */
export function yearInTimeZone(date: Date, timeZone: string | null | undefined): number {
  const zone = timeZone && isTimeZone(timeZone) ? timeZone : 'UTC';
  const part = yearFormatter(zone)
    .formatToParts(date)
    .find((p) => p.type === 'year');
  return Number(part?.value ?? date.getUTCFullYear());
}

/** Years a request may name: CLUSTER_YEARS_MIN up to next year (in the tenant's zone). */
/**
 * The year of a new tenant's cluster schemas (UTC): what provisioning makes unless told otherwise,
 * and what storage made ahead of need carries (the DATABASE template, spare SCHEMA storage).
 */
export function newTenantClusterYear(now: Date = new Date()): number {
  return now.getUTCFullYear();
}

export type ClusterYearRange = { min: number; max: number };

export function clusterYearRange(minYear: number, timeZone: string | null | undefined, now: Date = new Date()): ClusterYearRange {
  return { min: Math.max(minYear, CLUSTER_YEARS.min), max: Math.min(yearInTimeZone(now, timeZone) + 1, CLUSTER_YEARS.max) };
}

/** BAD_USER_INPUT for a year outside the range; nothing is read or written. */
export function assertYearInRange(year: number, range: ClusterYearRange): void {
  if (!Number.isInteger(year) || year < range.min || year > range.max) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `year must be a whole number from ${range.min} to ${range.max}`, {
      details: { field: 'year', min: range.min, max: range.max },
    });
  }
}
