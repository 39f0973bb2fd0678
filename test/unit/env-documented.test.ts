/**
 * Every variable src/config.ts reads is in .env.example and in README's Configuration table,
 * so a new variable cannot ship undocumented.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const envSchema = read('src/config.ts').split('const envSchema = z.object({')[1]!.split('\n});')[0]!;
const variables = [...envSchema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]!);

describe('configuration is documented', () => {
  it('finds the variables of config.ts', () => {
    expect(variables).toContain('DATABASE_URL');
    expect(variables).toContain('CORS_ORIGINS');
    expect(variables.length).toBeGreaterThan(30);
  });

  it('.env.example lists every variable', () => {
    const example = read('.env.example');
    const missing = variables.filter((name) => !new RegExp(`^# ${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });

  it('README "Configuration" lists every variable', () => {
    const readme = read('README.md');
    const missing = variables.filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
