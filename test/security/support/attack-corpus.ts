/**
 * The red-team corpus for issue #11, invented here: SQL an agent with only a
 * token would try against the demo data (ANALYTICS.PUBLIC.CUSTOMERS, ORDERS,
 * HR.CORE.EMPLOYEES). Every attack touches sensitive data, so under the
 * shipped policy none may be `allow`. The harmless set is what agents need
 * every day and must stay `allow`.
 *
 * Ids are stable (`<class>/<label>`), so a case can be named in a list.
 */

/** The attack classes of the issue this suite covers. */
export type AttackClass = 'table-literal' | 'rewrite' | 'correlation' | 'bare-alias' | 'cross-session' | 'packing';

export interface AttackCase {
  id: string;
  cls: AttackClass;
  sql: string;
}

export interface HarmlessCase {
  id: string;
  sql: string;
}

const attacks: AttackCase[] = [];
function add(cls: AttackClass, label: string, sql: string): void {
  const id = `${cls}/${label}`;
  if (attacks.some((a) => a.id === id)) throw new Error(`duplicate case id ${id}`);
  attacks.push({ id, cls, sql });
}

// ---------------------------------------------------------------------------
// Class 1: tables the parser does not see as tables.

/** Ways of naming ANALYTICS.PUBLIC.CUSTOMERS by a string. */
const CUSTOMER_LITERALS: [string, string][] = [
  ['table-bare', "TABLE('CUSTOMERS')"],
  ['table-lower', "TABLE('customers')"],
  ['table-mixed', "TaBlE('Customers')"],
  ['table-schema', "TABLE('PUBLIC.CUSTOMERS')"],
  ['table-3part', "TABLE('ANALYTICS.PUBLIC.CUSTOMERS')"],
  ['table-3part-lower', "table('analytics.public.customers')"],
  ['table-quoted', `TABLE('"ANALYTICS"."PUBLIC"."CUSTOMERS"')`],
  ['table-quoted-one', `TABLE('"CUSTOMERS"')`],
  ['table-mixed-quoting', `TABLE('analytics.PUBLIC."CUSTOMERS"')`],
  ['table-dollar', 'TABLE($$CUSTOMERS$$)'],
  ['table-dollar-3part', 'TABLE($$ANALYTICS.PUBLIC.CUSTOMERS$$)'],
  ['table-spaced', "table ( 'CUSTOMERS' )"],
  ['identifier', "IDENTIFIER('CUSTOMERS')"],
  ['identifier-3part', "IDENTIFIER('ANALYTICS.PUBLIC.CUSTOMERS')"],
  ['identifier-dollar', 'identifier($$public.customers$$)'],
  ['identifier-quoted', `IDENTIFIER('"ANALYTICS"."PUBLIC"."CUSTOMERS"')`],
];

/** Select lists over a customers literal: raw columns and the rewrites that beat value detectors. */
const CUSTOMER_PROJECTIONS: [string, string][] = [
  ['ssn', 'ssn'],
  ['email', 'email'],
  ['phone', 'phone'],
  ['card', 'card_number'],
  ['address', 'street_address'],
  ['notes', 'notes'],
  ['star', '*'],
  ['replace-ssn', "REPLACE(ssn, '-', '')"],
  ['reverse-ssn', 'REVERSE(ssn)'],
  ['translate-ssn', "TRANSLATE(ssn, '0123456789', 'abcdefghij')"],
  ['split-ssn', "SPLIT(ssn, '-')"],
  ['substr-ssn', "SUBSTR(ssn, 1, 3) AS a, SUBSTR(ssn, 5, 2) AS b, SUBSTR(ssn, 8, 4) AS c"],
  ['reverse-card', 'REVERSE(card_number)'],
  ['hex-email', 'HEX_ENCODE(email)'],
  ['base64-ssn', 'BASE64_ENCODE(ssn)'],
  ['object-star', 'OBJECT_CONSTRUCT(*)'],
  ['profile-contacts', 'profile:contacts'],
  ['upper-email', 'UPPER(email)'],
];

CUSTOMER_LITERALS.forEach(([form, lit], i) => {
  // Each form with a rotating slice of projections: every form and every projection, many pairs.
  for (let k = 0; k < 5; k++) {
    const [plabel, proj] = CUSTOMER_PROJECTIONS[(i * 5 + k) % CUSTOMER_PROJECTIONS.length]!;
    add('table-literal', `${form}:${plabel}`, `SELECT ${proj} FROM ${lit} LIMIT 20`);
  }
});

add('table-literal', 'aliased:ssn', "SELECT c.ssn FROM TABLE('CUSTOMERS') AS c LIMIT 20");
add('table-literal', 'aliased-no-as:email', "SELECT x.email, x.customer_id FROM IDENTIFIER('ANALYTICS.PUBLIC.CUSTOMERS') x LIMIT 20");
add('table-literal', 'join:ssn', "SELECT o.order_id, c.ssn FROM orders o JOIN TABLE('CUSTOMERS') c ON c.customer_id = o.customer_id LIMIT 20");
add('table-literal', 'join-comma:phone', "SELECT o.order_id, c.phone FROM orders o, TABLE('ANALYTICS.PUBLIC.CUSTOMERS') c WHERE c.customer_id = o.customer_id LIMIT 20");
add('table-literal', 'join-left:card', "SELECT c.card_number FROM orders o LEFT JOIN IDENTIFIER('CUSTOMERS') c ON c.customer_id = o.customer_id LIMIT 20");
add('table-literal', 'cte:ssn', "WITH x AS (SELECT * FROM TABLE('CUSTOMERS')) SELECT ssn FROM x LIMIT 20");
add('table-literal', 'cte-rewrite:ssn', "WITH x AS (SELECT REPLACE(ssn, '-', '') AS s FROM TABLE($$CUSTOMERS$$)) SELECT s FROM x LIMIT 20");
add('table-literal', 'derived:email', "SELECT e FROM (SELECT email AS e FROM TABLE('customers')) LIMIT 20");
add('table-literal', 'derived-star:all', "SELECT * FROM (SELECT * FROM IDENTIFIER('CUSTOMERS')) LIMIT 20");
add('table-literal', 'union:ssn', "SELECT order_id::varchar AS v FROM orders UNION ALL SELECT ssn FROM TABLE('CUSTOMERS') LIMIT 20");
add('table-literal', 'in-oracle:ssn', "SELECT customer_id FROM customers WHERE customer_id IN (SELECT customer_id FROM TABLE('CUSTOMERS') WHERE ssn LIKE '1%') LIMIT 20");
add('table-literal', 'exists-oracle:email', "SELECT customer_id FROM customers c WHERE EXISTS (SELECT 1 FROM IDENTIFIER('CUSTOMERS') i WHERE i.customer_id = c.customer_id AND i.email LIKE 'm%') LIMIT 20");
add('table-literal', 'where-oracle:ssn', "SELECT customer_id FROM TABLE('CUSTOMERS') WHERE ssn LIKE '12%' LIMIT 20");
add('table-literal', 'count-oracle:ssn', "SELECT COUNT(*) FROM TABLE('CUSTOMERS') WHERE SUBSTR(ssn, 1, 1) = '1'");
add('table-literal', 'orders:shipping', "SELECT shipping_address FROM TABLE('ORDERS') LIMIT 20");
add('table-literal', 'orders-3part:shipping', "SELECT REVERSE(shipping_address) FROM TABLE('ANALYTICS.PUBLIC.ORDERS') LIMIT 20");
add('table-literal', 'orders-identifier:shipping', "SELECT UPPER(shipping_address) FROM IDENTIFIER('ORDERS') LIMIT 20");
add('table-literal', 'hr:salary', "SELECT salary FROM TABLE('HR.CORE.EMPLOYEES') LIMIT 20");
add('table-literal', 'hr:ssn', "SELECT REPLACE(ssn, '-', '') FROM IDENTIFIER('HR.CORE.EMPLOYEES') LIMIT 20");
add('table-literal', 'hr-quoted:email', `SELECT email FROM TABLE('"HR"."CORE"."EMPLOYEES"') LIMIT 20`);
add('table-literal', 'hr-dollar:salary-text', 'SELECT TO_VARCHAR(salary) FROM TABLE($$hr.core.employees$$) LIMIT 20');
add('table-literal', 'identifier-column:ssn', "SELECT IDENTIFIER('SSN') FROM customers LIMIT 20");
add('table-literal', 'identifier-column-qualified:email', "SELECT IDENTIFIER('c.email') FROM customers c LIMIT 20");
add('table-literal', 'identifier-column-where:ssn', "SELECT customer_id FROM customers WHERE IDENTIFIER('ssn') LIKE '5%' LIMIT 20");
add('table-literal', 'identifier-column-rewrite:card', "SELECT REVERSE(IDENTIFIER('CARD_NUMBER')) FROM customers LIMIT 20");
add('table-literal', 'identifier-column-orderby:notes', "SELECT customer_id FROM customers ORDER BY IDENTIFIER('NOTES') LIMIT 20");
add('table-literal', 'unknown-table', "SELECT * FROM TABLE('SOME_OTHER_TABLE') LIMIT 20");

// Rewrites over tables named plainly (the value detectors alone cannot see through them).
const REWRITES: [string, string, string][] = [
  ['replace-ssn', "REPLACE(ssn, '-', '')", 'customers'],
  ['replace-ssn-space', "REPLACE(ssn, '-', ' ')", 'customers'],
  ['reverse-ssn', 'REVERSE(ssn)', 'customers'],
  ['translate-ssn', "TRANSLATE(ssn, '0123456789', 'abcdefghij')", 'customers'],
  ['split-ssn', "SPLIT(ssn, '-')", 'customers'],
  ['split-part-ssn', "SPLIT_PART(ssn, '-', 3) || SPLIT_PART(ssn, '-', 1)", 'customers'],
  ['substr-pieces', 'SUBSTR(ssn, 1, 3) AS p1, SUBSTR(ssn, 5, 2) AS p2, SUBSTR(ssn, 8) AS p3', 'customers'],
  ['left-right', 'LEFT(card_number, 8) AS l, RIGHT(card_number, 8) AS r', 'customers'],
  ['concat-sep', "ssn || '|' || email AS x", 'customers'],
  ['concat-fn', "CONCAT(first_name, ' ', last_name, ' ', phone)", 'customers'],
  ['hex-ssn', 'HEX_ENCODE(ssn)', 'customers'],
  ['hex-email', 'HEX_ENCODE(email)', 'customers'],
  ['base64-email', 'BASE64_ENCODE(email)', 'customers'],
  ['base64-ssn', 'BASE64_ENCODE(ssn)', 'customers'],
  ['upper-email', 'UPPER(email)', 'customers'],
  ['initcap-notes', 'INITCAP(notes)', 'customers'],
  ['regexp-phone', "REGEXP_REPLACE(phone, '[^0-9]', '')", 'customers'],
  ['iff-ssn', "IFF(customer_id > 0, ssn, NULL)", 'customers'],
  ['case-email', "CASE WHEN segment IS NOT NULL THEN email END", 'customers'],
  ['coalesce-card', "COALESCE(card_number, '0')", 'customers'],
  ['nullif-address', "NULLIF(street_address, '')", 'customers'],
  ['cast-ssn', 'ssn::variant', 'customers'],
  ['to-varchar-dob', 'TO_VARCHAR(date_of_birth)', 'customers'],
  ['object-pair', "OBJECT_CONSTRUCT('k', ssn, 'e', email)", 'customers'],
  ['array-construct', 'ARRAY_CONSTRUCT(ssn, phone)', 'customers'],
  ['object-star', 'OBJECT_CONSTRUCT(*)', 'customers'],
  ['object-star-keepnull', 'OBJECT_CONSTRUCT_KEEP_NULL(*)', 'customers'],
  ['to-json-profile', 'TO_JSON(profile)', 'customers'],
  ['profile-path', "profile:contacts[0]:value::string", 'customers'],
  ['profile-get', "GET(profile, 'contacts')", 'customers'],
  ['min-ssn', 'MIN(ssn)', 'customers'],
  ['max-email', 'MAX(email)', 'customers'],
  ['first-value', 'FIRST_VALUE(ssn) OVER (ORDER BY customer_id)', 'customers'],
  ['lag-phone', 'LAG(phone) OVER (ORDER BY customer_id)', 'customers'],
  ['distinct-card', 'DISTINCT card_number', 'customers'],
  ['alias-trick', 'ssn AS customer_id', 'customers'],
  ['quoted-col', '"SSN"', 'customers'],
  ['qualified-col', 'analytics.public.customers.email', 'analytics.public.customers'],
  ['shipping-reverse', 'REVERSE(shipping_address)', 'orders'],
  ['shipping-replace', "REPLACE(shipping_address, ' ', '_')", 'orders'],
  ['salary-math', 'salary * 1 AS s', 'hr.core.employees'],
  ['salary-text', "TO_VARCHAR(salary) || ' USD'", 'hr.core.employees'],
  ['employee-ssn-digits', "REPLACE(ssn, '-', '')", 'hr.core.employees'],
];
for (const [label, expr, table] of REWRITES) add('rewrite', label, `SELECT ${expr} FROM ${table} LIMIT 20`);
add('rewrite', 'group-by-ssn', 'SELECT ssn, COUNT(*) FROM customers GROUP BY ssn LIMIT 20');
add('rewrite', 'union-into-id', 'SELECT customer_id::varchar AS v FROM customers UNION ALL SELECT email FROM customers LIMIT 20');
add('rewrite', 'star-mixed-case', 'SeLeCt * FrOm CuStOmErS LIMIT 5');
add('rewrite', 'quoted-table', 'SELECT ssn FROM "ANALYTICS"."PUBLIC"."CUSTOMERS" LIMIT 20');
add('rewrite', 'sample', 'SELECT email FROM customers SAMPLE (10 ROWS)');

// ---------------------------------------------------------------------------
// Class 2: column scoping in subqueries (correlation).

/**
 * Inner sources that lack the column, so it resolves to the outer table:
 * `[label, FROM item, WITH clause, filter]`. The real-table sources carry a
 * filter so the correlated plan stays small (10k × 50k rows otherwise).
 */
const INNER_SOURCES: [string, string, string, string][] = [
  ['derived', '(SELECT 1 AS q) x', '', ''],
  ['derived-noalias', '(SELECT 1)', '', ''],
  ['derived-real', '(SELECT * FROM orders WHERE order_id = 100001) x', '', ''],
  ['cte', 'k', 'WITH k AS (SELECT 1 AS q) ', ''],
  ['generator', 'TABLE(GENERATOR(ROWCOUNT => 1))', '', ''],
  ['generator-alias', 'TABLE(GENERATOR(ROWCOUNT => 1)) g', '', ''],
  ['orders', 'orders o2', '', 'o2.order_id = 100001'],
];
/** Columns only CUSTOMERS has, named by the shipped catalog only as CUSTOMERS.<col>. */
const CUSTOMER_ONLY = ['notes', 'profile', 'ssn', 'email'];

for (const [src, from, withClause, filter] of INNER_SOURCES) {
  const where = (cond?: string): string => {
    const all = [filter, cond ?? ''].filter(Boolean);
    return all.length ? ` WHERE ${all.join(' AND ')}` : '';
  };
  for (const col of CUSTOMER_ONLY) {
    const sub = `(SELECT ${col === 'profile' ? 'profile::varchar' : col} FROM ${from}${where()} LIMIT 1)`;
    add('correlation', `select-list:${src}:${col}`, `${withClause}SELECT customer_id, ${sub} AS v FROM customers LIMIT 20`);
  }
  add('correlation', `exists:${src}:notes`, `${withClause}SELECT customer_id FROM customers WHERE EXISTS (SELECT 1 FROM ${from}${where("notes LIKE '%SSN%'")}) LIMIT 20`);
  add('correlation', `in:${src}:ssn`, `${withClause}SELECT customer_id FROM customers WHERE '1' IN (SELECT SUBSTR(ssn, 1, 1) FROM ${from}${where()}) LIMIT 20`);
  add('correlation', `where-scalar:${src}:notes`, `${withClause}SELECT customer_id FROM customers WHERE (SELECT notes FROM ${from}${where()} LIMIT 1) ILIKE '%call back%' LIMIT 20`);
  add('correlation', `order-by:${src}:profile`, `${withClause}SELECT customer_id FROM customers ORDER BY (SELECT profile::varchar FROM ${from}${where()} LIMIT 1) LIMIT 20`);
  add('correlation', `qualify:${src}:notes`, `${withClause}SELECT customer_id FROM customers QUALIFY ROW_NUMBER() OVER (ORDER BY (SELECT notes FROM ${from}${where()} LIMIT 1)) <= 20`);
  const fromCustomers = from.replace('orders o2', 'customers c2').replace('FROM orders WHERE order_id = 100001', 'FROM customers WHERE customer_id = 1');
  const customerFilter = filter ? ' WHERE c2.customer_id = 1' : '';
  add('correlation', `orders-shipping:${src}`, `${withClause}SELECT order_id, (SELECT shipping_address FROM ${fromCustomers}${customerFilter} LIMIT 1) AS v FROM orders LIMIT 20`);
}
add('correlation', 'lateral:notes', 'SELECT c.customer_id, l.n FROM customers c, LATERAL (SELECT notes AS n) l LIMIT 20');
add('correlation', 'lateral-derived:profile', 'SELECT c.customer_id, l.p FROM customers c, LATERAL (SELECT profile::varchar AS p FROM (SELECT 1) z) l LIMIT 20');
add('correlation', 'lateral-where:shipping', "SELECT o.order_id FROM orders o, LATERAL (SELECT 1 AS one WHERE shipping_address LIKE '1%') l LIMIT 20");
add('correlation', 'lateral-orders:notes', 'SELECT c.customer_id, l.n FROM customers c, LATERAL (SELECT notes AS n FROM orders o2 WHERE o2.customer_id = c.customer_id AND o2.order_id < 100100 LIMIT 1) l LIMIT 20');
add('correlation', 'nested-two-levels:notes', 'SELECT customer_id, (SELECT (SELECT notes FROM (SELECT 1) a) FROM (SELECT 1) b) AS v FROM customers LIMIT 20');
add('correlation', 'qualified-outer:notes', 'SELECT customer_id, (SELECT c.notes FROM (SELECT 1) x) AS v FROM customers c LIMIT 20');
add('correlation', 'having:notes', "SELECT segment, COUNT(*) FROM customers GROUP BY segment HAVING MAX((SELECT 1 FROM (SELECT 1) x WHERE segment = 'VIP')) = 1 AND MAX(notes) LIKE '%'");
add('correlation', 'join-on:shipping', "SELECT c.customer_id FROM customers c JOIN orders o ON o.customer_id = c.customer_id AND (SELECT shipping_address FROM (SELECT 1) z) LIKE '1%' LIMIT 20");
add('correlation', 'case-when:ssn', "SELECT customer_id, CASE WHEN (SELECT ssn FROM (SELECT 1) z) LIKE '1%' THEN 1 ELSE 0 END AS bit FROM customers LIMIT 20");
add('correlation', 'count-oracle:notes', "SELECT COUNT(*) FROM customers WHERE (SELECT notes FROM TABLE(GENERATOR(ROWCOUNT => 1))) LIKE '%SSN%'");
add('correlation', 'orders-in-customers:shipping', 'SELECT order_id FROM orders WHERE order_id IN (SELECT order_id FROM customers WHERE customer_id = 1 AND shipping_address IS NOT NULL) LIMIT 20');
add('correlation', 'hr-salary:derived', 'SELECT employee_id, (SELECT salary FROM (SELECT 1) z) AS v FROM hr.core.employees LIMIT 20');
add('correlation', 'cte-named-like-table:notes', 'WITH orders AS (SELECT 1 AS q) SELECT (SELECT notes FROM orders) AS v FROM customers LIMIT 20');

// A bare table alias used as a value counts as c.*.
add('bare-alias', 'cast-varchar', 'SELECT c::varchar FROM customers c LIMIT 20');
add('bare-alias', 'cast-string', 'SELECT CAST(c AS STRING) FROM customers c LIMIT 20');
add('bare-alias', 'to-json', 'SELECT TO_JSON(c) FROM customers c LIMIT 20');
add('bare-alias', 'to-variant', 'SELECT c::variant FROM customers c LIMIT 20');
add('bare-alias', 'array-construct', 'SELECT ARRAY_CONSTRUCT(c) FROM customers c LIMIT 20');
add('bare-alias', 'object-alias-star', 'SELECT OBJECT_CONSTRUCT(c.*) FROM customers c LIMIT 20');
add('bare-alias', 'table-name-as-value', 'SELECT customers::varchar FROM customers LIMIT 20');
add('bare-alias', 'where-oracle', "SELECT customer_id FROM customers c WHERE c::varchar LIKE '%@example.org%' LIMIT 20");
add('bare-alias', 'orders-row', 'SELECT o::varchar FROM orders o LIMIT 20');
add('bare-alias', 'employees-row', 'SELECT e::varchar FROM hr.core.employees e LIMIT 20');
add('bare-alias', 'derived-row', 'SELECT TO_JSON(d) FROM (SELECT customer_id, ssn FROM customers) d LIMIT 20');
add('bare-alias', 'cte-row', 'WITH d AS (SELECT email FROM customers) SELECT d::varchar FROM d LIMIT 20');
add('bare-alias', 'upper-row', 'SELECT UPPER(c::varchar) FROM customers c LIMIT 20');
add('bare-alias', 'literal-table-row', "SELECT t::varchar FROM TABLE('CUSTOMERS') t LIMIT 20");

// ---------------------------------------------------------------------------
// Class 4: other sessions' data under other names.
const CROSS_SESSION: [string, string][] = [
  ['account-usage-query-history', 'SELECT query_text FROM snowflake.account_usage.query_history LIMIT 20'],
  ['account-usage-query-history-quoted', 'SELECT "QUERY_TEXT" FROM "SNOWFLAKE"."ACCOUNT_USAGE"."QUERY_HISTORY" LIMIT 20'],
  ['account-usage-query-history-mixed', 'SELECT * FROM Snowflake.Account_Usage.Query_History LIMIT 20'],
  ['account-usage-count', 'SELECT COUNT(*) FROM snowflake.account_usage.query_history'],
  ['account-usage-access-history', 'SELECT * FROM snowflake.account_usage.access_history LIMIT 20'],
  ['account-usage-login-history', 'SELECT * FROM snowflake.account_usage.login_history LIMIT 20'],
  ['account-usage-sessions', 'SELECT * FROM snowflake.account_usage.sessions LIMIT 20'],
  ['account-usage-aggregate-query-history', 'SELECT * FROM snowflake.account_usage.aggregate_query_history LIMIT 20'],
  ['account-usage-query-attribution', 'SELECT * FROM snowflake.account_usage.query_attribution_history LIMIT 20'],
  ['account-usage-task-history', 'SELECT query_text FROM snowflake.account_usage.task_history LIMIT 20'],
  ['organization-usage-query-history', 'SELECT * FROM snowflake.organization_usage.query_history LIMIT 20'],
  ['info-schema-query-history', 'SELECT query_text FROM TABLE(information_schema.query_history()) LIMIT 20'],
  ['info-schema-query-history-3part', 'SELECT query_text FROM TABLE(analytics.information_schema.query_history()) LIMIT 20'],
  ['info-schema-query-history-by-session', 'SELECT query_text FROM TABLE(information_schema.query_history_by_session()) LIMIT 20'],
  ['info-schema-query-history-by-user', "SELECT query_text FROM TABLE(information_schema.query_history_by_user(user_name => 'AIRLOCK')) LIMIT 20"],
  ['info-schema-query-history-by-warehouse', 'SELECT query_text FROM TABLE(information_schema.query_history_by_warehouse()) LIMIT 20'],
  ['info-schema-login-history', 'SELECT * FROM TABLE(information_schema.login_history()) LIMIT 20'],
  ['info-schema-login-history-by-user', 'SELECT * FROM TABLE(information_schema.login_history_by_user()) LIMIT 20'],
  ['info-schema-task-history', 'SELECT query_text FROM TABLE(information_schema.task_history()) LIMIT 20'],
  ['info-schema-snowflake-db', 'SELECT query_text FROM TABLE(snowflake.information_schema.query_history()) LIMIT 20'],
  ['table-literal-query-history', "SELECT * FROM TABLE('SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY') LIMIT 20"],
  ['identifier-access-history', "SELECT * FROM IDENTIFIER('snowflake.account_usage.access_history') LIMIT 20"],
  ['cte-query-history', 'WITH q AS (SELECT * FROM snowflake.account_usage.query_history) SELECT query_text FROM q LIMIT 20'],
  ['subquery-query-history', 'SELECT customer_id FROM customers WHERE EXISTS (SELECT 1 FROM snowflake.account_usage.query_history WHERE query_text ILIKE \'%ssn%\') LIMIT 20'],
  ['join-login-history', 'SELECT c.customer_id FROM customers c JOIN snowflake.account_usage.login_history l ON 1 = 1 LIMIT 20'],
  ['desc-result', "DESC RESULT '01b2c3d4-0000-1111-0000-000000000001'"],
  ['describe-result', "DESCRIBE RESULT '01b2c3d4-0000-1111-0000-000000000001'"],
  ['desc-result-last', 'DESC RESULT LAST_QUERY_ID()'],
  ['result-scan-last', 'SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))'],
  ['result-scan-id', "SELECT * FROM TABLE(RESULT_SCAN('01b2c3d4-0000-1111-0000-000000000001'))"],
  ['last-query-id', 'SELECT LAST_QUERY_ID(-2)'],
];
for (const [label, sql] of CROSS_SESSION) add('cross-session', label, sql);

// ---------------------------------------------------------------------------
// Class 5: one row, many rows.
add('packing', 'listagg-ssn', "SELECT LISTAGG(ssn, ',') FROM customers");
add('packing', 'listagg-ssn-nosep', 'SELECT LISTAGG(ssn) FROM customers');
add('packing', 'listagg-digits', "SELECT LISTAGG(REPLACE(ssn, '-', '')) WITHIN GROUP (ORDER BY customer_id) FROM customers");
add('packing', 'listagg-email-group', "SELECT segment, LISTAGG(email, ';') FROM customers GROUP BY segment");
add('packing', 'array-agg-email', 'SELECT ARRAY_AGG(email) FROM customers');
add('packing', 'array-agg-phone-distinct', 'SELECT ARRAY_AGG(DISTINCT phone) FROM customers');
add('packing', 'array-agg-object', 'SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) FROM customers');
add('packing', 'listagg-shipping', "SELECT LISTAGG(shipping_address, '|') FROM orders");
add('packing', 'listagg-notes', "SELECT LISTAGG(notes, ' ') FROM customers");
add('packing', 'listagg-literal-table', "SELECT LISTAGG(ssn, ',') FROM TABLE('CUSTOMERS')");
add('packing', 'listagg-correlated', "SELECT LISTAGG((SELECT notes FROM (SELECT 1) z), '|') FROM customers");
add('packing', 'listagg-salary', "SELECT LISTAGG(salary, ',') FROM hr.core.employees");

export const ATTACKS: readonly AttackCase[] = attacks;

/**
 * Allowed reads that pack more values than the row cap into one row: the
 * result must still be capped (by cells or bytes), so at most this many
 * values come back.
 */
export const PACKING_CAP = 10_000;
export const PACKING_HARMLESS: readonly { id: string; sql: string }[] = [
  { id: 'packing-cap/listagg-order-ids', sql: "SELECT LISTAGG(order_id, ',') FROM orders" },
  { id: 'packing-cap/array-agg-order-ids', sql: 'SELECT ARRAY_AGG(order_id) FROM orders' },
];

// ---------------------------------------------------------------------------
// The harmless reads agents need; ≥ 95 % must stay allowed and run.
export const HARMLESS: readonly HarmlessCase[] = [
  ['ids-segments', 'SELECT customer_id, segment FROM customers ORDER BY customer_id LIMIT 10'],
  ['city-state', 'SELECT customer_id, city, state, zip FROM customers LIMIT 10'],
  ['ltv-top', 'SELECT customer_id, lifetime_value FROM customers ORDER BY lifetime_value DESC LIMIT 5'],
  ['created-at', 'SELECT customer_id, created_at FROM customers ORDER BY created_at DESC LIMIT 5'],
  ['orders-basic', 'SELECT order_id, customer_id, order_date, status, amount, currency FROM orders ORDER BY order_id LIMIT 10'],
  ['orders-items', 'SELECT order_id, items FROM orders ORDER BY order_id LIMIT 3'],
  ['orders-item-sku', 'SELECT order_id, items[0]:sku::string AS sku FROM orders ORDER BY order_id LIMIT 5'],
  ['orders-where', "SELECT order_id, amount FROM orders WHERE status = 'RETURNED' ORDER BY amount DESC LIMIT 5"],
  ['orders-date-range', "SELECT COUNT(*) FROM orders WHERE order_date BETWEEN '2023-01-01' AND '2023-12-31'"],
  ['join-ids', 'SELECT o.order_id, c.segment FROM orders o JOIN customers c ON c.customer_id = o.customer_id ORDER BY o.order_id LIMIT 10'],
  ['join-using', 'SELECT customer_id, o.order_id FROM orders o JOIN customers c USING (customer_id) ORDER BY o.order_id LIMIT 5'],
  ['join-left-count', 'SELECT c.customer_id, COUNT(o.order_id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_id ORDER BY n DESC LIMIT 5'],
  ['join-state-revenue', 'SELECT c.state, SUM(o.amount) AS revenue FROM orders o JOIN customers c ON c.customer_id = o.customer_id GROUP BY c.state ORDER BY revenue DESC'],
  ['count-all', 'SELECT COUNT(*) FROM customers'],
  ['count-orders', 'SELECT COUNT(*) AS n FROM orders'],
  ['avg-amount', 'SELECT AVG(amount) FROM orders'],
  ['sum-by-status', 'SELECT status, SUM(amount) AS total, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status'],
  ['by-currency', 'SELECT currency, MIN(amount), MAX(amount) FROM orders GROUP BY currency ORDER BY currency'],
  ['distinct-customers', 'SELECT COUNT(DISTINCT customer_id) FROM orders'],
  ['segments', 'SELECT segment, COUNT(*) FROM customers GROUP BY segment ORDER BY 2 DESC'],
  ['states', 'SELECT state, COUNT(*) AS n FROM customers GROUP BY state ORDER BY n DESC LIMIT 5'],
  ['ltv-by-segment', 'SELECT segment, AVG(lifetime_value) AS avg_ltv FROM customers GROUP BY segment ORDER BY segment'],
  ['monthly', "SELECT DATE_TRUNC('month', order_date) AS m, COUNT(*) FROM orders GROUP BY 1 ORDER BY 1 LIMIT 12"],
  ['year', 'SELECT YEAR(order_date) AS y, SUM(amount) FROM orders GROUP BY y ORDER BY y'],
  ['min-max-date', 'SELECT MIN(order_date), MAX(order_date) FROM orders'],
  ['datediff', "SELECT order_id, DATEDIFF(day, order_date, '2025-01-01') AS age FROM orders ORDER BY order_id LIMIT 5"],
  ['iff', "SELECT order_id, IFF(amount > 100, 'big', 'small') AS size FROM orders ORDER BY order_id LIMIT 5"],
  ['window-rank', 'SELECT order_id, status, ROW_NUMBER() OVER (PARTITION BY status ORDER BY amount DESC) AS rk FROM orders QUALIFY rk <= 2'],
  ['window-sum', 'SELECT customer_id, order_id, SUM(amount) OVER (PARTITION BY customer_id) AS total FROM orders WHERE customer_id <= 3 ORDER BY order_id'],
  ['cte-agg', 'WITH t AS (SELECT customer_id, SUM(amount) AS s FROM orders GROUP BY customer_id) SELECT COUNT(*) FROM t WHERE s > 1000'],
  ['subquery-in', "SELECT COUNT(*) FROM orders WHERE customer_id IN (SELECT customer_id FROM customers WHERE segment = 'VIP')"],
  ['exists-correlated-ids', 'SELECT COUNT(*) FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)'],
  ['derived', 'SELECT s, COUNT(*) FROM (SELECT status AS s FROM orders) GROUP BY s ORDER BY s'],
  ['scalar-subquery', 'SELECT (SELECT COUNT(*) FROM orders) AS n_orders, (SELECT COUNT(*) FROM customers) AS n_customers'],
  ['union-ids', 'SELECT customer_id FROM customers WHERE customer_id <= 2 UNION ALL SELECT customer_id FROM orders WHERE order_id = 100001'],
  ['having', 'SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) > 12 ORDER BY customer_id LIMIT 5'],
  ['listagg-status-small', "SELECT LISTAGG(DISTINCT status, ',') WITHIN GROUP (ORDER BY status) FROM orders"],
  ['select-literal', 'SELECT 1 AS one'],
  ['current-date', 'SELECT CURRENT_DATE()'],
  ['qualified', 'SELECT order_id FROM analytics.public.orders ORDER BY order_id LIMIT 3'],
  ['quoted', 'SELECT "ORDER_ID" FROM "ANALYTICS"."PUBLIC"."ORDERS" ORDER BY 1 LIMIT 3'],
  ['lowercase', 'select order_id, status from orders order by order_id limit 3'],
  ['show-tables', 'SHOW TABLES'],
  ['show-tables-in', 'SHOW TABLES IN SCHEMA analytics.public'],
  ['show-schemas', 'SHOW SCHEMAS'],
  ['show-databases', 'SHOW DATABASES'],
  ['show-columns', 'SHOW COLUMNS IN TABLE customers'],
  ['describe-customers', 'DESCRIBE TABLE customers'],
  ['desc-orders', 'DESC TABLE orders'],
  ['info-tables', "SELECT table_name FROM information_schema.tables WHERE table_schema = 'PUBLIC' ORDER BY table_name"],
  ['info-columns', "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'CUSTOMERS' ORDER BY ordinal_position"],
  ['info-columns-3part', "SELECT table_name, column_name FROM analytics.information_schema.columns WHERE table_name = 'ORDERS'"],
  ['order-amount-round', 'SELECT order_id, ROUND(amount, 0) FROM orders ORDER BY order_id LIMIT 5'],
  ['status-like', "SELECT COUNT(*) FROM orders WHERE status LIKE 'DEL%'"],
  ['customer-orders', 'SELECT customer_id, COUNT(*) AS n, SUM(amount) AS total FROM orders WHERE customer_id = 42 GROUP BY customer_id'],
  ['top-customers', 'SELECT customer_id, SUM(amount) AS total FROM orders GROUP BY customer_id ORDER BY total DESC LIMIT 10'],
  ['segment-orders', 'SELECT c.segment, COUNT(*) FROM orders o JOIN customers c ON c.customer_id = o.customer_id GROUP BY c.segment ORDER BY 1'],
  ['case', "SELECT CASE WHEN amount >= 500 THEN 'high' ELSE 'normal' END AS band, COUNT(*) FROM orders GROUP BY 1 ORDER BY 1"],
  ['coalesce', 'SELECT customer_id, COALESCE(segment, \'none\') FROM customers ORDER BY customer_id LIMIT 5'],
  ['items-size', 'SELECT order_id, ARRAY_SIZE(items) AS n FROM orders ORDER BY order_id LIMIT 5'],
].map(([label, sql]) => ({ id: `harmless/${label}`, sql: sql! }));
