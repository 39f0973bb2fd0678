/**
 * Input validation that reports every bad field at once, so a form can mark them all:
 * BAD_USER_INPUT with `extensions.fields: [{ field, message }]` (and `extensions.field`, the
 * first of them, for clients that read one). Schemas are zod; the message of each issue is
 * written for the person filling in the form.
 */
import { type z } from 'zod';
import { AppError, ErrorCode } from '../../errors/index.js';

export type FieldProblem = { field: string; message: string };

/** BAD_USER_INPUT naming every field in `problems` (at least one). */
export function invalidFields(problems: readonly FieldProblem[]): AppError {
  const [first, ...rest] = problems;
  if (!first) throw new Error('invalidFields needs at least one problem');
  const message = rest.length === 0 ? first.message : `${first.message} (and ${rest.length} more: ${rest.map((problem) => problem.field).join(', ')})`;
  return new AppError(ErrorCode.BAD_USER_INPUT, message, { details: { field: first.field, fields: problems } });
}

/** `schema.parse(input)`, with every issue turned into one BAD_USER_INPUT (one entry per field). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const issue of result.error.issues) {
    const field = issue.path.map(String).join('.') || 'input';
    if (seen.has(field)) continue; // the first problem of a field is the one to fix first
    seen.add(field);
    problems.push({ field, message: issue.message });
  }
  throw invalidFields(problems);
}
