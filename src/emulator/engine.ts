/**
 * The DuckDB side of the emulator: one shared instance, one attached catalog
 * per Snowflake database (same upper-case name), one connection per session.
 *
 * Storage: in memory by default (`ATTACH ':memory:' AS "ANALYTICS"`). With a
 * `dbFile`, that file is DuckDB's main catalog and every Snowflake database
 * lives in a sibling file `<stem>.<DATABASE>.duckdb` next to it; sibling files
 * found at start are attached again, so data survives restarts.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { TIMESTAMP_TZ_COMMENT } from './sql/type-map.ts';

/** Quote a DuckDB identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote a DuckDB string literal. */
function quoteString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Snowflake database names the engine accepts as catalog names. */
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** DuckDB instance plus the catalogs standing for Snowflake databases. */
export class Engine {
  /** Column names per `DB\0SCHEMA\0TABLE`, for the translator's `columnsOf` (it is synchronous). */
  private columns = new Map<string, string[]>();
  /** Declared Snowflake type per column where DuckDB's type does not tell it (see sql/type-map.ts); tables without any are absent. */
  private declared = new Map<string, (string | null)[]>();
  private refreshing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly admin: DuckDBConnection,
    private readonly dbFile: string | undefined,
  ) {}

  /** Open the instance (in memory, or on `dbFile` with sibling database files re-attached). */
  static async open(options: { dbFile?: string } = {}): Promise<Engine> {
    const instance = await DuckDBInstance.create(options.dbFile ?? ':memory:');
    const admin = await instance.connect();
    // No SQL an agent sends may reach the host's files: DuckDB would read `"/."."/."."/etc/x.json"`
    // or `read_text(…)` as a file. Only the database's own folder stays reachable (to attach the
    // sibling database files); once off, external access cannot be turned back on.
    if (options.dbFile) await admin.run(`SET allowed_directories = [${quoteString(`${dirname(resolve(options.dbFile))}/`)}]`);
    await admin.run('SET enable_external_access = false');
    const engine = new Engine(instance, admin, options.dbFile);
    if (options.dbFile) {
      for (const name of engine.siblingDatabases()) await engine.createDatabase(name);
    }
    return engine;
  }

  private siblingDatabases(): string[] {
    if (!this.dbFile) return [];
    const dir = dirname(this.dbFile);
    const prefix = `${this.stem()}.`;
    return readdirSync(dir)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.duckdb') && f !== basename(this.dbFile!))
      .map((f) => f.slice(prefix.length, -'.duckdb'.length))
      .filter((name) => DATABASE_NAME.test(name));
  }

  private stem(): string {
    const file = basename(this.dbFile!);
    return file.slice(0, file.length - extname(file).length);
  }

  /** Where a Snowflake database is stored: ':memory:' or its sibling file. */
  storageFor(name: string): string {
    return this.dbFile ? join(dirname(this.dbFile), `${this.stem()}.${name}.duckdb`) : ':memory:';
  }

  /** True when a catalog of that exact name is attached. */
  async hasDatabase(name: string): Promise<boolean> {
    const r = await this.admin.runAndReadAll('SELECT 1 FROM duckdb_databases() WHERE database_name = $1', [name]);
    return r.currentRowCount > 0;
  }

  /**
   * Create (attach) a Snowflake database with its PUBLIC schema. Returns false
   * when it already existed.
   */
  async createDatabase(name: string): Promise<boolean> {
    if (!DATABASE_NAME.test(name)) throw new Error(`Invalid database name: ${name}`);
    const existed = await this.hasDatabase(name);
    if (!existed) await this.admin.run(`ATTACH IF NOT EXISTS ${quoteString(this.storageFor(name))} AS ${quoteIdent(name)}`);
    await this.admin.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(name)}.${quoteIdent('PUBLIC')}`);
    await this.refreshCatalog();
    return !existed;
  }

  /** Column names of a table, from the last catalog refresh. */
  columnsOf(database: string, schema: string, table: string): string[] | undefined {
    return this.columns.get(`${database}\0${schema}\0${table}`);
  }

  /** Declared Snowflake types of a table's columns (`'TIMESTAMP_TZ'` or null each), from the last catalog refresh. */
  declaredTypesOf(database: string, schema: string, table: string): (string | null)[] | undefined {
    return this.declared.get(`${database}\0${schema}\0${table}`);
  }

  /** Re-read table columns (after DDL); concurrent calls run one after another. */
  refreshCatalog(): Promise<void> {
    const run = async (): Promise<void> => {
      const r = await this.admin.runAndReadAll(
        'SELECT database_name, schema_name, table_name, column_name, data_type, comment FROM duckdb_columns() WHERE NOT internal ' +
          'ORDER BY database_name, schema_name, table_name, column_index',
      );
      const next = new Map<string, string[]>();
      const declared = new Map<string, (string | null)[]>();
      for (const [db, schema, table, column, dataType, comment] of r.getRows()) {
        const key = `${String(db)}\0${String(schema)}\0${String(table)}`;
        let list = next.get(key);
        if (!list) next.set(key, (list = []));
        list.push(String(column));
        if (comment === TIMESTAMP_TZ_COMMENT && dataType === 'TIMESTAMP WITH TIME ZONE') {
          let types = declared.get(key);
          if (!types) declared.set(key, (types = []));
          types[list.length - 1] = 'TIMESTAMP_TZ';
        }
      }
      for (const [key, types] of declared) {
        const n = next.get(key)!.length;
        declared.set(key, Array.from({ length: n }, (_, i) => types[i] ?? null));
      }
      this.columns = next;
      this.declared = declared;
    };
    this.refreshing = this.refreshing.then(run, run);
    return this.refreshing;
  }

  /**
   * A connection for one session (or for seeding). Sessions start in UTC, as
   * their TIMEZONE parameter says, whatever the host's zone is.
   */
  async connect(): Promise<DuckDBConnection> {
    const conn = await this.instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return conn;
  }

  /** Checkpoint persistent catalogs and release the instance. */
  async close(): Promise<void> {
    if (this.dbFile) {
      const r = await this.admin.runAndReadAll('SELECT database_name FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL');
      for (const [name] of r.getRows()) {
        try {
          await this.admin.run(`CHECKPOINT ${quoteIdent(String(name))}`);
        } catch {
          // Best effort: a failed checkpoint still leaves the WAL to replay.
        }
      }
    }
    this.admin.disconnectSync();
    this.instance.closeSync();
  }
}
