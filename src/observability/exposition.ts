/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), as prom-client writes
 * it. prom-client has no parser of its own; this one refuses what it does not understand (a sample
 * without a `# TYPE`, a malformed line) rather than guessing, so a monitor never shows made-up numbers.
 */

export type Sample = { name: string; labels: Readonly<Record<string, string>>; value: number };
export type Exposition = { types: ReadonlyMap<string, string>; samples: readonly Sample[] };

export class ExpositionError extends Error {
  override readonly name = 'ExpositionError';
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) `);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line === '' || HELP_LINE.test(line)) continue;
    const type = TYPE_LINE.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue; // other comments are allowed by the format
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new ExpositionError(`line ${index + 1} is not a sample: ${line.slice(0, 120)}`);
    const [, name, rawLabels, rawValue] = sample;
    const family = familyOf(name!, types);
    if (family === undefined) throw new ExpositionError(`line ${index + 1}: ${name} has no # TYPE`);
    samples.push({ name: name!, labels: parseLabels(rawLabels ?? '', index + 1), value: parseValue(rawValue!, index + 1) });
  }
  return { types, samples };
}

function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count|total|created)$/, '');
  return types.has(base) ? base : undefined;
}

function parseLabels(raw: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < raw.length) {
    const at = LABEL.lastIndex;
    const match = LABEL.exec(raw);
    if (!match || match.index !== at) throw new ExpositionError(`line ${line}: malformed labels {${raw.slice(0, 120)}}`);
    labels[match[1]!] = match[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(raw: string, line: number): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (/^nan$/i.test(raw)) return NaN;
  const value = Number(raw);
  if (raw === '' || Number.isNaN(value)) throw new ExpositionError(`line ${line}: ${JSON.stringify(raw)} is not a number`);
  return value;
}

/** The sum of every sample called `name` whose labels include `where`. */
export function sumOf(exposition: Exposition, name: string, where: Record<string, string> = {}): number {
  let total = 0;
  for (const sample of exposition.samples) {
    if (sample.name !== name) continue;
    if (Object.entries(where).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
  }
  return total;
}

/** Samples called `name`, summed by the value of one label. */
export function sumBy(exposition: Exposition, name: string, label: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const sample of exposition.samples) {
    if (sample.name !== name) continue;
    const key = sample.labels[label] ?? '';
    totals.set(key, (totals.get(key) ?? 0) + sample.value);
  }
  return totals;
}
