//! The application the advice is measured on: the shop built by `sql/app.sql`,
//! its workload (query templates with seeded random parameters), and the two
//! index sets pgadvise is compared with: an expert's and the naive one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_postgres::types::ToSql;

/// Rows at scale 1, as `sql/app.sql` generates them.
pub const CUSTOMERS: u64 = 500_000;
pub const PRODUCTS: u64 = 20_000;
pub const ORDERS: u64 = 3_000_000;

/// The data spans 2025 and 2026; the workload's "now" is 2027-01-01T00:00Z.
const NOW_UNIX: u64 = 1_798_761_600;
const DAY: u64 = 86_400;
const DATA_DAYS: u64 = 730;

/// One parameter value, typed as PostgreSQL infers the placeholder.
#[derive(Debug, Clone)]
pub enum Param {
    Bigint(i64),
    Int(i32),
    Text(String),
    Time(SystemTime),
}

impl Param {
    pub fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Bigint(v) => v,
            Param::Int(v) => v,
            Param::Text(v) => v,
            Param::Time(v) => v,
        }
    }
}

/// A statement the application sends, how often per run of the workload, and
/// how its parameters are drawn.
pub struct Template {
    pub name: &'static str,
    pub sql: &'static str,
    pub calls: usize,
    params: fn(&mut Rng, u64) -> Vec<Param>,
}

impl Template {
    /// The parameter sets of one run: the same every run and every configuration
    /// (seeded by the template's position), so that runs compare like with like.
    pub fn parameter_sets(&self, position: usize, scale: u64) -> Vec<Vec<Param>> {
        let mut rng = Rng::new(0x5eed_0000 + position as u64);
        (0..self.calls).map(|_| (self.params)(&mut rng, scale)).collect()
    }
}

/// splitmix64: small, fast and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn days_before_now(days: u64) -> Param {
    Param::Time(UNIX_EPOCH + Duration::from_secs(NOW_UNIX - days * DAY))
}

fn day_in_data(day: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_UNIX - DATA_DAYS * DAY + day * DAY)
}

/// The order reference `sql/app.sql` gives order `id`.
pub fn order_reference(id: u64) -> String {
    format!("ORD-{:x}", id * 2_654_435_761 % 4_294_967_296)
}

fn customer(rng: &mut Rng, scale: u64) -> i64 {
    rng.between(1, CUSTOMERS * scale) as i64
}

/// The workload: point lookups an application makes on every page, a few
/// reports, and writes. At scale 1 the slowest (daily sales) takes about 0.8 s
/// with primary keys only on this 2-core machine.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "customer by email",
        sql: "SELECT id, name, status FROM customers WHERE email = $1",
        calls: 10,
        params: |rng, scale| vec![Param::Text(format!("user{}@example.com", customer(rng, scale)))],
    },
    Template {
        name: "customer search",
        sql: "SELECT id, name FROM customers WHERE email LIKE $1 ORDER BY email LIMIT 20",
        calls: 10,
        // A prefix matching about a hundred customers: user1234% is user1234@ and user12340..12349, ...
        params: |rng, scale| vec![Param::Text(format!("user{}%", customer(rng, scale) / 100 + 1))],
    },
    Template {
        name: "customer's recent orders",
        sql: "SELECT id, status, total_cents, created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20",
        calls: 10,
        params: |rng, scale| vec![Param::Bigint(customer(rng, scale))],
    },
    Template {
        name: "order lines",
        sql: "SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = $1",
        calls: 10,
        params: |rng, scale| vec![Param::Bigint(rng.between(1, ORDERS * scale) as i64)],
    },
    Template {
        name: "order by reference",
        sql: "SELECT id, customer_id, status, total_cents FROM orders WHERE reference = $1",
        calls: 10,
        params: |rng, scale| vec![Param::Text(order_reference(rng.between(1, ORDERS * scale)))],
    },
    Template {
        name: "product by SKU",
        sql: "SELECT id, name, price_cents FROM products WHERE sku = $1",
        calls: 10,
        params: |rng, scale| vec![Param::Text(format!("SKU-{:08}", rng.between(1, PRODUCTS * scale)))],
    },
    Template {
        name: "category page",
        sql: "SELECT id, name, price_cents FROM products WHERE category_id = $1 AND price_cents BETWEEN $2 AND $3 \
              ORDER BY price_cents LIMIT 24",
        calls: 10,
        params: |rng, _| {
            let low = rng.between(100, 15_000) as i32;
            vec![Param::Int(rng.between(1, 200) as i32), Param::Int(low), Param::Int(low + 2_000)]
        },
    },
    Template {
        name: "customer's activity",
        sql: "SELECT kind, created_at FROM events WHERE customer_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT 50",
        calls: 10,
        params: |rng, scale| vec![Param::Bigint(customer(rng, scale)), days_before_now(180)],
    },
    Template {
        name: "pending backlog",
        sql: "SELECT id, customer_id, created_at FROM orders WHERE status = 'pending' AND created_at < $1 ORDER BY created_at LIMIT 100",
        calls: 3,
        params: |rng, _| vec![days_before_now(rng.between(1, 30))],
    },
    Template {
        name: "daily sales",
        sql: "SELECT oi.product_id, sum(oi.quantity) AS units FROM orders o JOIN order_items oi ON oi.order_id = o.id \
              WHERE o.created_at >= $1 AND o.created_at < $2 GROUP BY oi.product_id ORDER BY units DESC LIMIT 10",
        calls: 3,
        params: |rng, _| {
            let day = rng.between(365, DATA_DAYS - 1);
            vec![Param::Time(day_in_data(day)), Param::Time(day_in_data(day + 1))]
        },
    },
    Template {
        name: "status dashboard",
        sql: "SELECT status, count(*) FROM orders WHERE created_at >= $1 GROUP BY status",
        calls: 3,
        params: |rng, _| vec![days_before_now(rng.between(1, 7))],
    },
    Template {
        name: "signups by country",
        sql: "SELECT country, count(*) FROM customers WHERE created_at >= $1 AND created_at < $2 GROUP BY country ORDER BY 2 DESC",
        calls: 3,
        params: |rng, _| {
            let day = rng.between(0, DATA_DAYS - 7);
            vec![Param::Time(day_in_data(day)), Param::Time(day_in_data(day + 7))]
        },
    },
    Template {
        name: "event counts",
        sql: "SELECT count(*) FROM events WHERE kind = $1 AND created_at >= $2",
        calls: 3,
        params: |rng, _| vec![Param::Text(rng.pick(&["checkout", "signup", "search"]).into()), days_before_now(1)],
    },
    Template {
        name: "top customers in a country",
        sql: "SELECT c.id, c.name, sum(o.total_cents) AS spent FROM customers c JOIN orders o ON o.customer_id = c.id \
              WHERE c.country = $1 AND o.created_at >= $2 GROUP BY c.id, c.name ORDER BY spent DESC LIMIT 10",
        calls: 3,
        params: |rng, _| vec![Param::Text(rng.pick(&["DE", "FR", "GB", "US", "NL"]).into()), days_before_now(30)],
    },
    Template {
        name: "dormant customers",
        sql: "SELECT id, email FROM customers WHERE status = 'active' AND last_seen_at < $1 ORDER BY last_seen_at LIMIT 100",
        calls: 3,
        params: |rng, _| vec![days_before_now(rng.between(60, 365))],
    },
    Template {
        name: "ship an order",
        sql: "UPDATE orders SET status = 'shipped', shipped_at = $2 WHERE id = $1",
        calls: 20,
        params: |rng, scale| vec![Param::Bigint(rng.between(1, ORDERS * scale) as i64), days_before_now(0)],
    },
    Template {
        name: "track an event",
        sql: "INSERT INTO events (customer_id, kind, created_at) VALUES ($1, $2, $3)",
        calls: 20,
        params: |rng, scale| {
            vec![Param::Bigint(customer(rng, scale)), Param::Text(rng.pick(&["page_view", "click"]).into()), days_before_now(0)]
        },
    },
];

/// What an experienced DBA would create for this workload, one index per need,
/// written down before pgadvise's advice was looked at.
pub const EXPERT_INDEXES: &[&str] = &[
    // customer by email and customer search: equality and LIKE 'prefix%' on a
    // unique-ish column; under the database's C.utf8 collation only
    // text_pattern_ops serves the prefix, and it serves the equality too.
    "CREATE INDEX expert_customers_email ON customers (email text_pattern_ops)",
    // customer's recent orders: equality, then the ORDER BY column; read backwards for DESC.
    "CREATE INDEX expert_orders_customer_created ON orders (customer_id, created_at)",
    // order lines and daily sales: the foreign key every ORM forgets.
    "CREATE INDEX expert_order_items_order ON order_items (order_id)",
    // order by reference.
    "CREATE INDEX expert_orders_reference ON orders (reference)",
    // product by SKU.
    "CREATE INDEX expert_products_sku ON products (sku)",
    // category page: equality, then the range that is also the ORDER BY.
    "CREATE INDEX expert_products_category_price ON products (category_id, price_cents)",
    // customer's activity: equality, then the range and ORDER BY.
    "CREATE INDEX expert_events_customer_created ON events (customer_id, created_at)",
    // pending backlog: 3% of orders are pending; a partial index is tiny and already sorted.
    "CREATE INDEX expert_orders_pending_created ON orders (created_at) WHERE status = 'pending'",
    // daily sales, status dashboard, top customers: time ranges over orders.
    "CREATE INDEX expert_orders_created ON orders (created_at)",
    // signups by country: a week of sign-ups.
    "CREATE INDEX expert_customers_created ON customers (created_at)",
    // event counts: equality on the kind, then the time range.
    "CREATE INDEX expert_events_kind_created ON events (kind, created_at)",
    // dormant customers: 90% are active, so the partial index mostly saves the filter, and gives the order.
    "CREATE INDEX expert_customers_active_last_seen ON customers (last_seen_at) WHERE status = 'active'",
];

/// "Index every filtered column": one single-column index on each column any
/// template compares or joins on, except primary keys.
pub const NAIVE_INDEXES: &[&str] = &[
    "CREATE INDEX naive_customers_email ON customers (email)",
    "CREATE INDEX naive_customers_country ON customers (country)",
    "CREATE INDEX naive_customers_status ON customers (status)",
    "CREATE INDEX naive_customers_created_at ON customers (created_at)",
    "CREATE INDEX naive_customers_last_seen_at ON customers (last_seen_at)",
    "CREATE INDEX naive_products_sku ON products (sku)",
    "CREATE INDEX naive_products_category_id ON products (category_id)",
    "CREATE INDEX naive_products_price_cents ON products (price_cents)",
    "CREATE INDEX naive_orders_customer_id ON orders (customer_id)",
    "CREATE INDEX naive_orders_reference ON orders (reference)",
    "CREATE INDEX naive_orders_status ON orders (status)",
    "CREATE INDEX naive_orders_created_at ON orders (created_at)",
    "CREATE INDEX naive_order_items_order_id ON order_items (order_id)",
    "CREATE INDEX naive_events_customer_id ON events (customer_id)",
    "CREATE INDEX naive_events_kind ON events (kind)",
    "CREATE INDEX naive_events_created_at ON events (created_at)",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_the_same_every_run_and_differ_between_calls() {
        for (position, template) in TEMPLATES.iter().enumerate() {
            let first = format!("{:?}", template.parameter_sets(position, 1));
            assert_eq!(first, format!("{:?}", template.parameter_sets(position, 1)), "{}", template.name);
            let sets = template.parameter_sets(position, 1);
            assert_eq!(sets.len(), template.calls);
            assert!(sets.iter().any(|s| format!("{s:?}") != format!("{:?}", sets[0])), "{}: every call alike", template.name);
        }
    }

    #[test]
    fn parameter_counts_match_the_placeholders() {
        for (position, template) in TEMPLATES.iter().enumerate() {
            let placeholders = (1..10).filter(|n| template.sql.contains(&format!("${n}"))).count();
            assert_eq!(template.parameter_sets(position, 1)[0].len(), placeholders, "{}", template.name);
        }
    }

    #[test]
    fn order_references_match_the_generator() {
        // 'ORD-' || to_hex(i * 2654435761 % 4294967296) in sql/app.sql, for i = 1 and 2.
        assert_eq!(order_reference(1), "ORD-9e3779b1");
        assert_eq!(order_reference(2), "ORD-3c6ef362");
    }

    #[test]
    fn the_naive_set_indexes_every_column_the_expert_set_does() {
        let columns = |sql: &str| {
            let table = sql.split(" ON ").nth(1).unwrap().split(' ').next().unwrap().to_string();
            let list = sql.split('(').nth(1).unwrap().split(')').next().unwrap().to_string();
            // The column, not its operator class: the naive set knows none.
            list.split(", ").map(|c| format!("{table}.{}", c.split(' ').next().unwrap())).collect::<Vec<_>>()
        };
        let naive: Vec<String> = NAIVE_INDEXES.iter().flat_map(|sql| columns(sql)).collect();
        for sql in EXPERT_INDEXES {
            for column in columns(sql) {
                assert!(naive.contains(&column), "{column} from {sql} is missing from the naive set");
            }
        }
    }
}
