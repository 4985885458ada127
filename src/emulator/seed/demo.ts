/**
 * The deterministic demo data set: fake but realistic PII for showing masking.
 * Rows are generated in JS from a seeded PRNG, bulk-loaded as text through a
 * DuckDB appender, which casts each cell to its column's type.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { createRng, fakeCardNumber, fakePhone, fakeSsn, type Rng } from './pii.ts';

export interface SeedOptions {
  /** Create a Snowflake database (DuckDB catalog) if missing; provided by the engine. */
  createDatabase(name: string): Promise<void>;
  /** Row counts; defaults are the demo sizes. */
  customers?: number;
  orders?: number;
  employees?: number;
  /** A line for people after each table is in (`airlock dev` prints them: seeding takes seconds). */
  progress?: (line: string) => void;
}

/** Default sizes of the demo tables. */
export const DEMO_SIZES = { customers: 10_000, orders: 50_000, employees: 500 } as const;

const SEED = 20240601;

const FIRST_NAMES = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William',
  'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Christopher', 'Lisa',
  'Daniel', 'Nancy', 'Matthew', 'Betty', 'Anthony', 'Margaret', 'Mark', 'Sandra', 'Donald', 'Ashley', 'Steven',
  'Kimberly', 'Paul', 'Emily', 'Andrew', 'Donna', 'Joshua', 'Michelle', 'Kenneth', 'Carol', 'Kevin', 'Amanda', 'Brian',
  'Melissa', 'George', 'Deborah', 'Timothy', 'Stephanie', 'Ronald', 'Rebecca', 'Jason', 'Sharon', 'Edward', 'Laura',
  'Jeffrey', 'Cynthia', 'Ryan', 'Amy', 'Jacob', 'Angela', 'Gary', 'Shirley', 'Nicholas', 'Anna', 'Eric', 'Brenda',
  'Jonathan', 'Pamela', 'Priya', 'Wei', 'Carlos', 'Sofia', 'Mohammed', 'Aisha', 'Hiroshi', 'Yuki', 'Diego', 'Lucia',
] as const;

const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez',
  'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King',
  'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera',
  'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Patel', 'Kim', 'Chen', 'Singh', 'Okafor', 'Tanaka', 'Müller', "O'Brien",
] as const;

const CITIES: readonly [string, string, string][] = [
  ['New York', 'NY', '100'], ['Los Angeles', 'CA', '900'], ['Chicago', 'IL', '606'], ['Houston', 'TX', '770'],
  ['Phoenix', 'AZ', '850'], ['Philadelphia', 'PA', '191'], ['San Antonio', 'TX', '782'], ['San Diego', 'CA', '921'],
  ['Dallas', 'TX', '752'], ['Austin', 'TX', '787'], ['San Francisco', 'CA', '941'], ['Seattle', 'WA', '981'],
  ['Denver', 'CO', '802'], ['Boston', 'MA', '021'], ['Portland', 'OR', '972'], ['Atlanta', 'GA', '303'],
  ['Miami', 'FL', '331'], ['Minneapolis', 'MN', '554'], ['Nashville', 'TN', '372'], ['Las Vegas', 'NV', '891'],
];

const STREETS = [
  'Main', 'Oak', 'Pine', 'Maple', 'Cedar', 'Elm', 'Washington', 'Lake', 'Hill', 'Park', 'Sunset', 'Highland',
  'Church', 'Mill', 'River', 'Spring', 'Valley', 'Walnut', 'Chestnut', 'Franklin',
] as const;
const STREET_SUFFIXES = ['St', 'Ave', 'Blvd', 'Rd', 'Ln', 'Dr', 'Ct', 'Way', 'Pl'] as const;
const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;
const SEGMENTS = ['CONSUMER', 'CONSUMER', 'CONSUMER', 'SMB', 'SMB', 'ENTERPRISE', 'VIP'] as const;
const TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;
const CHANNELS = ['email', 'sms', 'phone', 'none'] as const;
const NOTE_TEMPLATES = [
  'Prefers contact in the afternoon.',
  'Asked about the loyalty program.',
  'Requested paper invoices.',
  'Long-time customer; handle with care.',
  'Complained about late delivery in the spring.',
  'Interested in the enterprise plan.',
  'Moved recently; confirm the shipping address.',
  'Uses the mobile app for most orders.',
  '',
] as const;
const STATUSES = ['DELIVERED', 'DELIVERED', 'DELIVERED', 'SHIPPED', 'SHIPPED', 'PLACED', 'CANCELLED', 'RETURNED'] as const;
const CURRENCIES = ['USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'EUR', 'GBP', 'CAD'] as const;
const PRODUCTS: readonly [string, string, number][] = [
  ['SKU-1001', 'Wireless Mouse', 24.99], ['SKU-1002', 'Mechanical Keyboard', 89.0], ['SKU-1003', 'USB-C Hub', 39.5],
  ['SKU-1004', '27" Monitor', 279.99], ['SKU-1005', 'Laptop Stand', 45.0], ['SKU-1006', 'Noise-Cancelling Headphones', 199.0],
  ['SKU-1007', 'Webcam HD', 69.99], ['SKU-1008', 'Desk Lamp', 32.25], ['SKU-1009', 'Ergonomic Chair', 349.0],
  ['SKU-1010', 'Notebook (3-pack)', 12.99], ['SKU-1011', 'Coffee Beans 1kg', 28.4], ['SKU-1012', 'Water Bottle', 18.0],
];
const DEPARTMENTS: readonly [string, readonly string[]][] = [
  ['Engineering', ['Software Engineer', 'Senior Software Engineer', 'Staff Engineer', 'Engineering Manager']],
  ['Sales', ['Account Executive', 'Sales Development Rep', 'Sales Manager']],
  ['Marketing', ['Marketing Specialist', 'Content Strategist', 'Marketing Manager']],
  ['Finance', ['Accountant', 'Financial Analyst', 'Controller']],
  ['People', ['HR Generalist', 'Recruiter', 'People Partner']],
  ['Support', ['Support Specialist', 'Support Lead']],
  ['Data', ['Data Analyst', 'Data Engineer', 'Analytics Manager']],
];

const DAY_MS = 86_400_000;

const dateCache = new Map<number, string>();

function isoDate(epochDay: number): string {
  let s = dateCache.get(epochDay);
  if (s === undefined) {
    s = new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
    dateCache.set(epochDay, s);
  }
  return s;
}

function isoTimestamp(epochMs: number): string {
  const day = Math.floor(epochMs / DAY_MS);
  const secs = Math.floor((epochMs - day * DAY_MS) / 1000);
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${isoDate(day)} ${two(Math.floor(secs / 3600))}:${two(Math.floor(secs / 60) % 60)}:${two(secs % 60)}`;
}

function dayOf(iso: string): number {
  return Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
}

function money(cents: number): string {
  return (cents / 100).toFixed(2);
}

function emailFor(rng: Rng, first: string, last: string, n: number): string {
  const clean = (s: string) => s.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '');
  return `${clean(first)}.${clean(last)}${n}@${rng.pick(EMAIL_DOMAINS)}`;
}

/** A cell: text (cast by the appender) or an integer (appended as INTEGER; text→DECIMAL(38,0) casts are slow). */
type Cell = string | number | null;

/** Create `catalog.schema.table` and bulk-load text rows into it. */
async function load(
  conn: DuckDBConnection,
  catalog: string,
  schema: string,
  table: string,
  columns: readonly [name: string, type: string][],
  rows: Cell[][],
): Promise<void> {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const full = `${q(catalog)}.${q(schema)}.${q(table)}`;
  await conn.run(`CREATE OR REPLACE TABLE ${full} (${columns.map(([n, t]) => `${q(n)} ${t}`).join(', ')})`);
  // The appender casts each text cell to the column type (JSON stays text).
  const appender = await conn.createAppender(table, schema, catalog);
  for (const row of rows) {
    for (const cell of row) {
      if (cell === null) appender.appendNull();
      else if (typeof cell === 'number') appender.appendInteger(cell);
      else appender.appendVarchar(cell);
    }
    appender.endRow();
  }
  appender.closeSync();
}

interface Customer {
  address: string;
  first: string;
  last: string;
  email: string;
  phone: string;
}

function customerRows(n: number): { rows: Cell[][]; customers: Customer[] } {
  const rng = createRng(SEED);
  const rows: Cell[][] = [];
  const customers: Customer[] = [];
  const dobFrom = dayOf('1945-01-01');
  const dobTo = dayOf('2005-12-31');
  const createdFrom = Date.parse('2019-01-01T00:00:00Z');
  const createdSpan = Date.parse('2024-12-31T23:59:59Z') - createdFrom;
  for (let id = 1; id <= n; id++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const email = emailFor(rng, first, last, id);
    const ssn = fakeSsn(rng);
    const card = fakeCardNumber(rng);
    const phone = fakePhone(rng);
    const [city, state, zip3] = rng.pick(CITIES);
    const street = `${rng.int(1, 9999)} ${rng.pick(STREETS)} ${rng.pick(STREET_SUFFIXES)}`;
    const zip = `${zip3}${String(rng.int(0, 99)).padStart(2, '0')}`;
    const dob = isoDate(rng.int(dobFrom, dobTo));
    const createdAt = isoTimestamp(createdFrom + Math.floor(rng.next() * createdSpan / 1000) * 1000);
    let notes: string = rng.pick(NOTE_TEMPLATES);
    // A few notes leak PII in free text, for the value detectors.
    if (id % 97 === 0) notes = `Verified identity over the phone, SSN ${fakeSsn(rng)}. ${notes}`.trim();
    else if (id % 89 === 0) notes = `Asked us to also email ${emailFor(rng, rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES), id + 100000)} about orders.`;
    else if (id % 83 === 0) notes = `Call back on ${fakePhone(rng)} before shipping.`;
    const tier = rng.pick(TIERS);
    const profile: Record<string, unknown> = {
      loyalty: { tier, points: rng.int(0, 50_000), since: dob.slice(0, 4) < '1990' ? '2019-03-01' : '2021-07-15' },
      preferences: { newsletter: rng.chance(0.4), channel: rng.pick(CHANNELS), language: rng.pick(['en', 'en', 'es', 'fr']) },
      tags: rng.chance(0.3) ? ['early-adopter', tier] : [tier],
    };
    if (rng.chance(0.25)) {
      profile.contacts = [
        { type: 'email', value: emailFor(rng, first, last, id + 200000) },
        { type: 'phone', value: fakePhone(rng) },
      ];
    }
    const segment = rng.pick(SEGMENTS);
    const ltv = money(rng.int(0, segment === 'ENTERPRISE' || segment === 'VIP' ? 5_000_000 : 500_000));
    rows.push([
      id, first, last, email, ssn, card, phone, street, city, state, zip, dob, createdAt,
      notes === '' ? null : notes, JSON.stringify(profile), segment, ltv,
    ]);
    customers.push({ address: `${street}, ${city}, ${state} ${zip}`, first, last, email, phone });
  }
  return { rows, customers };
}

function orderRows(n: number, customers: Customer[]): Cell[][] {
  const rng = createRng(SEED + 1);
  const rows: Cell[][] = [];
  const from = dayOf('2020-01-01');
  const to = dayOf('2024-12-31');
  for (let id = 1; id <= n; id++) {
    const customerId = rng.int(1, customers.length);
    const customer = customers[customerId - 1]!;
    const day = rng.int(from, to);
    const count = rng.int(1, 4);
    const items: { sku: string; name: string; qty: number; price: number }[] = [];
    let cents = 0;
    for (let k = 0; k < count; k++) {
      const [sku, name, price] = rng.pick(PRODUCTS);
      const qty = rng.int(1, 3);
      items.push({ sku, name, qty, price });
      cents += Math.round(price * 100) * qty;
    }
    const shipping = rng.chance(0.9) ? customer.address : `${rng.int(1, 9999)} ${rng.pick(STREETS)} ${rng.pick(STREET_SUFFIXES)}, ${rng.pick(CITIES).slice(0, 2).join(', ')}`;
    const createdAt = isoTimestamp(day * DAY_MS + rng.int(0, DAY_MS / 1000 - 1) * 1000);
    rows.push([
      100000 + id, customerId, isoDate(day), rng.pick(STATUSES), money(cents), rng.pick(CURRENCIES),
      shipping, JSON.stringify(items), createdAt,
    ]);
  }
  return rows;
}

function employeeRows(n: number): Cell[][] {
  const rng = createRng(SEED + 2);
  const rows: Cell[][] = [];
  const heads = new Map<string, number>();
  const dobFrom = dayOf('1960-01-01');
  const dobTo = dayOf('2002-12-31');
  const hireFrom = dayOf('2012-01-01');
  const hireTo = dayOf('2024-12-31');
  for (let i = 1; i <= n; i++) {
    const id = 1000 + i;
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    let department: string;
    let title: string;
    let manager: number | null;
    if (i === 1) {
      department = 'Executive';
      title = 'Chief Executive Officer';
      manager = null;
    } else {
      const [dept, titles] = rng.pick(DEPARTMENTS);
      department = dept;
      const head = heads.get(dept);
      if (head === undefined) {
        heads.set(dept, id);
        title = `VP of ${dept}`;
        manager = 1001;
      } else {
        title = rng.pick(titles);
        manager = head;
      }
    }
    const base = title.startsWith('Chief') ? 420_000 : title.startsWith('VP') ? 260_000 : 70_000;
    const salary = money(rng.int(base, base + 110_000) * 100);
    rows.push([
      id, `${first} ${last}`, emailFor(rng, first, last, id).replace(/@.*/, '@corp.example.com'), fakeSsn(rng),
      salary, department, title, isoDate(rng.int(hireFrom, hireTo)), manager,
      isoDate(rng.int(dobFrom, dobTo)),
    ]);
  }
  return rows;
}

/**
 * Seed the deterministic demo data set: ANALYTICS.PUBLIC.CUSTOMERS and
 * ORDERS, HR.CORE.EMPLOYEES. Existing tables of those names are replaced.
 */
export async function seedDemo(conn: DuckDBConnection, options: SeedOptions): Promise<void> {
  const nCustomers = options.customers ?? DEMO_SIZES.customers;
  const nOrders = options.orders ?? DEMO_SIZES.orders;
  const nEmployees = options.employees ?? DEMO_SIZES.employees;
  await options.createDatabase('ANALYTICS');
  await options.createDatabase('HR');
  await conn.run('CREATE SCHEMA IF NOT EXISTS "ANALYTICS"."PUBLIC"');
  await conn.run('CREATE SCHEMA IF NOT EXISTS "HR"."CORE"');

  // Rows are generated synchronously, so a timer cannot tick meanwhile: say when each table is in.
  const loaded = (table: string, rows: number, since: number) =>
    options.progress?.(`loaded ${table}: ${rows.toLocaleString('en-US')} rows in ${((Date.now() - since) / 1000).toFixed(1)} s`);
  let since = Date.now();
  const { rows: customers, customers: people } = customerRows(nCustomers);
  await load(conn, 'ANALYTICS', 'PUBLIC', 'CUSTOMERS', [
    ['CUSTOMER_ID', 'DECIMAL(38,0)'], ['FIRST_NAME', 'VARCHAR'], ['LAST_NAME', 'VARCHAR'], ['EMAIL', 'VARCHAR'],
    ['SSN', 'VARCHAR'], ['CARD_NUMBER', 'VARCHAR'], ['PHONE', 'VARCHAR'], ['STREET_ADDRESS', 'VARCHAR'], ['CITY', 'VARCHAR'],
    ['STATE', 'VARCHAR'], ['ZIP', 'VARCHAR'], ['DATE_OF_BIRTH', 'DATE'], ['CREATED_AT', 'TIMESTAMP'], ['NOTES', 'VARCHAR'],
    ['PROFILE', 'JSON'], ['SEGMENT', 'VARCHAR'], ['LIFETIME_VALUE', 'DECIMAL(12,2)'],
  ], customers);
  loaded('ANALYTICS.PUBLIC.CUSTOMERS', nCustomers, since);
  since = Date.now();

  await load(conn, 'ANALYTICS', 'PUBLIC', 'ORDERS', [
    ['ORDER_ID', 'DECIMAL(38,0)'], ['CUSTOMER_ID', 'DECIMAL(38,0)'], ['ORDER_DATE', 'DATE'], ['STATUS', 'VARCHAR'],
    ['AMOUNT', 'DECIMAL(12,2)'], ['CURRENCY', 'VARCHAR'], ['SHIPPING_ADDRESS', 'VARCHAR'], ['ITEMS', 'JSON'],
    ['CREATED_AT', 'TIMESTAMP'],
  ], orderRows(nOrders, people));
  loaded('ANALYTICS.PUBLIC.ORDERS', nOrders, since);
  since = Date.now();

  await load(conn, 'HR', 'CORE', 'EMPLOYEES', [
    ['EMPLOYEE_ID', 'DECIMAL(38,0)'], ['FULL_NAME', 'VARCHAR'], ['EMAIL', 'VARCHAR'], ['SSN', 'VARCHAR'],
    ['SALARY', 'DECIMAL(12,2)'], ['DEPARTMENT', 'VARCHAR'], ['TITLE', 'VARCHAR'], ['HIRE_DATE', 'DATE'],
    ['MANAGER_ID', 'DECIMAL(38,0)'], ['DATE_OF_BIRTH', 'DATE'],
  ], employeeRows(nEmployees));
  loaded('HR.CORE.EMPLOYEES', nEmployees, since);
}
