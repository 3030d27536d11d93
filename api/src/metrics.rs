//! Prometheus metrics, kept in memory and rendered in the text exposition format: requests
//! and latency by operation, errors by code, and database pool use.

use sea_orm::DatabaseConnection;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency histogram, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Latency {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The counters of this process.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Latency>>,
    errors: Mutex<BTreeMap<String, u64>>,
}

/// Keeps label values short and safe: operation names come from clients.
fn label(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if clean.is_empty() {
        "anonymous".into()
    } else {
        clean
    }
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(
        &self,
        operation: Option<&str>,
        status: u16,
        seconds: f64,
        error_codes: &[String],
    ) {
        let operation = operation.map_or_else(|| "anonymous".to_owned(), label);
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((operation.clone(), status)).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let entry = latency.entry(operation).or_default();
            entry.count += 1;
            entry.sum += seconds;
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    entry.buckets[i] += 1;
                }
            }
        }
        if let Ok(mut errors) = self.errors.lock() {
            for code in error_codes {
                *errors.entry(label(code)).or_default() += 1;
            }
        }
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP samverkan_requests_total GraphQL requests by operation and HTTP status.\n# TYPE samverkan_requests_total counter"
        );
        if let Ok(requests) = self.requests.lock() {
            for ((operation, status), n) in requests.iter() {
                let _ = writeln!(
                    out,
                    "samverkan_requests_total{{operation=\"{operation}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP samverkan_request_duration_seconds GraphQL request latency by operation.\n# TYPE samverkan_request_duration_seconds histogram"
        );
        if let Ok(latency) = self.latency.lock() {
            for (operation, l) in latency.iter() {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "samverkan_request_duration_seconds_bucket{{operation=\"{operation}\",le=\"{bound}\"}} {}",
                        l.buckets[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "samverkan_request_duration_seconds_bucket{{operation=\"{operation}\",le=\"+Inf\"}} {}",
                    l.count
                );
                let _ = writeln!(
                    out,
                    "samverkan_request_duration_seconds_sum{{operation=\"{operation}\"}} {}",
                    l.sum
                );
                let _ = writeln!(
                    out,
                    "samverkan_request_duration_seconds_count{{operation=\"{operation}\"}} {}",
                    l.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP samverkan_errors_total GraphQL errors by extensions.code.\n# TYPE samverkan_errors_total counter"
        );
        if let Ok(errors) = self.errors.lock() {
            for (code, n) in errors.iter() {
                let _ = writeln!(out, "samverkan_errors_total{{code=\"{code}\"}} {n}");
            }
        }
        let (size, idle) = pool_use(db);
        let _ = writeln!(
            out,
            "# HELP samverkan_db_connections Database pool connections by state.\n# TYPE samverkan_db_connections gauge"
        );
        let _ = writeln!(out, "samverkan_db_connections{{state=\"open\"}} {size}");
        let _ = writeln!(out, "samverkan_db_connections{{state=\"idle\"}} {idle}");
        out
    }
}

fn pool_use(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}
