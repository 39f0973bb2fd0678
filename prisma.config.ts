// Prisma CLI configuration. Only `prisma generate` is used (scripts/prisma-generate.mjs passes
// --schema for each level); migrations are applied by our own SQL migrator, not by Prisma.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/central/schema.prisma',
});
