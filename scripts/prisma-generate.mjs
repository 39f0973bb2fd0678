// Generates one Prisma client per level schema under src/generated/.
// The Prisma CLI wants a schema-engine binary it cannot download here; `generate` never runs it,
// so any existing file satisfies the check (see README, "Why our own migrator").
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
env.CHECKPOINT_DISABLE = '1';

const levels = readdirSync('prisma', { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`prisma/${entry.name}/schema.prisma`))
  .map((entry) => entry.name);

for (const level of levels) {
  const result = spawnSync(
    process.execPath,
    ['node_modules/prisma/build/index.js', 'generate', '--schema', `prisma/${level}/schema.prisma`],
    { stdio: ['ignore', 'pipe', 'inherit'], env },
  );
  if (result.status !== 0) {
    process.stderr.write(result.stdout);
    process.stderr.write(`prisma generate failed for prisma/${level}/schema.prisma\n`);
    process.exit(result.status ?? 1);
  }
  process.stdout.write(`generated Prisma client for ${level}\n`);
}
