/** Compares a Prisma client's runtime model with the tables the migrations built. */
import type pg from 'pg';

type RuntimeField = { name: string; kind: string; type: string; dbName?: string | null };
type RuntimeModel = { dbName: string | null; fields: RuntimeField[] };

/** Which PostgreSQL column types each Prisma scalar may map to. */
const COMPATIBLE: Record<string, string[]> = {
  String: ['text', 'uuid', 'character', 'character varying', 'inet'],
  Int: ['integer', 'smallint'],
  BigInt: ['bigint'],
  Boolean: ['boolean'],
  DateTime: ['timestamp with time zone', 'timestamp without time zone', 'date'],
  Json: ['jsonb', 'json'],
  Float: ['double precision', 'real'],
  Decimal: ['numeric'],
};

/** Compares Prisma's runtime model of a level with what the migrations built in `schema`. */
export async function drift(pool: Pick<pg.Pool, 'query'>, client: unknown, schema: string, onlyModels?: readonly string[]): Promise<string[]> {
  const model = (client as { _runtimeDataModel: { models: Record<string, RuntimeModel> } })._runtimeDataModel;
  const columns = await pool.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = $1 AND table_name <> '_tenantgraph_migrations'`,
    [schema],
  );
  const database = new Map<string, Map<string, string>>();
  for (const row of columns.rows) {
    if (!database.has(row.table_name)) database.set(row.table_name, new Map());
    database.get(row.table_name)!.set(row.column_name, row.data_type);
  }
  const problems: string[] = [];
  const modelled = new Set<string>();
  for (const [name, { dbName, fields }] of Object.entries(model.models)) {
    if (onlyModels && !onlyModels.includes(name)) continue;
    const table = dbName ?? name;
    modelled.add(table);
    const dbColumns = database.get(table);
    if (!dbColumns) {
      problems.push(`model ${name}: table ${table} does not exist`);
      continue;
    }
    const scalarColumns = new Set<string>();
    for (const field of fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum')) {
      const column = field.dbName ?? field.name;
      scalarColumns.add(column);
      const type = dbColumns.get(column);
      if (!type) problems.push(`${name}.${field.name}: column ${table}.${column} does not exist`);
      else if (field.kind === 'scalar' && !COMPATIBLE[field.type]?.includes(type)) {
        problems.push(`${name}.${field.name}: Prisma ${field.type} but column ${table}.${column} is ${type}`);
      }
    }
    for (const column of dbColumns.keys()) {
      if (!scalarColumns.has(column)) problems.push(`table ${table}: column ${column} is not in model ${name}`);
    }
  }
  for (const table of database.keys()) if (!modelled.has(table)) problems.push(`table ${table} has no Prisma model`);
  return problems;
}

