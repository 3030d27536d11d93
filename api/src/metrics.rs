//! Prometheus metrics through the `metrics` facade, rendered by `metrics-exporter-prometheus`
//! for the `/metrics` route: requests and latency by operation, errors by code, and database
//! pool use.
//!
//! Each [`Metrics`] has a recorder of its own (used with [`metrics::with_local_recorder`])
//! rather than the process-wide one, which can be installed only once: a test process
//! serves many apps and each counts its own requests.

use metrics::{
    Counter, Histogram, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use sea_orm::DatabaseConnection;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Upper bounds of the latency histogram, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

const REQUESTS: &str = "samverkan_requests_total";
const LATENCY: &str = "samverkan_request_duration_seconds";
const ERRORS: &str = "samverkan_errors_total";
const CONNECTIONS: &str = "samverkan_db_connections";
const PLANNED: &str = "samverkan_planned_answers_total";

/// How many distinct operation names get a label of their own. Names come from clients: past
/// this many, a new name is counted as `other`, so the number of series stays bounded.
const OPERATION_LABELS: usize = 100;

/// How often latency samples are folded into the histogram when nobody scrapes: the
/// recorder keeps raw samples until then.
const UPKEEP: Duration = Duration::from_secs(5);

/// The counters of one app.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    operations: OperationLabels,
    /// The requests counter and the latency histogram of each operation label and status,
    /// registered on first use: registering looks the series up by its labels, which cost
    /// more than the rest of the counting. Bounded, as the labels and statuses are.
    series: Mutex<HashMap<(String, u16), (Counter, Histogram)>>,
    /// The answers a plan wrote without the resolver engine.
    planned: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty counters with their descriptions.
    pub fn new() -> Self {
        // `set_buckets_for_metric` fails only for an empty list of buckets.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.to_owned()), &BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let planned = metrics::with_local_recorder(&recorder, || {
            describe_counter!(REQUESTS, "GraphQL requests by operation and HTTP status.");
            describe_histogram!(LATENCY, "GraphQL request latency by operation.");
            describe_counter!(ERRORS, "GraphQL errors by extensions.code.");
            describe_gauge!(CONNECTIONS, "Database pool connections by state.");
            describe_counter!(
                PLANNED,
                "GraphQL answers written by a compiled plan, without the resolver engine."
            );
            counter!(PLANNED)
        });
        Self {
            recorder,
            handle,
            operations: OperationLabels::default(),
            series: Mutex::default(),
            planned,
        }
    }

    /// Records an answer that a plan wrote.
    pub fn planned(&self) {
        self.planned.increment(1);
    }

    /// Folds latency samples into the histogram every few seconds while `metrics` lives
    /// (when a Tokio runtime is running; otherwise rendering does it).
    pub fn keep_up(metrics: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let metrics: Weak<Self> = Arc::downgrade(metrics);
        runtime.spawn(async move {
            let mut ticks = tokio::time::interval(UPKEEP);
            loop {
                ticks.tick().await;
                match metrics.upgrade() {
                    Some(metrics) => metrics.handle.run_upkeep(),
                    None => break,
                }
            }
        });
    }

    /// Records one finished request.
    pub fn observe(
        &self,
        operation: Option<&str>,
        status: u16,
        seconds: f64,
        error_codes: &[String],
    ) {
        let key = (self.operations.label(operation), status);
        let kept = self.series.lock().ok().and_then(|s| s.get(&key).cloned());
        let (requests, latency) = kept.unwrap_or_else(|| {
            let (operation, status) = key.clone();
            let series = metrics::with_local_recorder(&self.recorder, || {
                (
                    counter!(REQUESTS, "operation" => operation.clone(), "status" => status.to_string()),
                    histogram!(LATENCY, "operation" => operation),
                )
            });
            if let Ok(mut kept) = self.series.lock() {
                kept.insert(key, series.clone());
            }
            series
        });
        requests.increment(1);
        latency.record(seconds);
        if error_codes.is_empty() {
            return;
        }
        metrics::with_local_recorder(&self.recorder, || {
            for code in error_codes {
                counter!(ERRORS, "code" => clean(code).unwrap_or_else(|| "none".into()))
                    .increment(1);
            }
        });
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = pool_use(db);
        metrics::with_local_recorder(&self.recorder, || {
            gauge!(CONNECTIONS, "state" => "open").set(f64::from(size));
            gauge!(CONNECTIONS, "state" => "idle").set(idle as f64);
        });
        self.handle.render()
    }
}

/// Keeps a label value short and safe: letters, digits and `_`, at most 64.
fn clean(value: &str) -> Option<String> {
    let clean: String = value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// The `operation` label: `anonymous` for an unnamed operation, its name while fewer than
/// [`OPERATION_LABELS`] names are known, else `other`. The names a server sees first are
/// almost always its clients' own few documents.
#[derive(Default)]
struct OperationLabels {
    known: Mutex<HashSet<String>>,
}

impl OperationLabels {
    fn label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation.and_then(clean) else {
            return "anonymous".into();
        };
        let Ok(mut known) = self.known.lock() else {
            return "other".into();
        };
        if known.contains(&name) {
            return name;
        }
        if known.len() < OPERATION_LABELS {
            known.insert(name.clone());
            return name;
        }
        "other".into()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let labels = OperationLabels::default();
        assert_eq!(labels.label(None), "anonymous");
        assert_eq!(labels.label(Some("")), "anonymous");
        assert_eq!(
            labels.label(Some("{}!")),
            "anonymous",
            "nothing left once cleaned"
        );
        assert_eq!(labels.label(Some("Named")), "Named");
        assert_eq!(labels.label(Some("Na-me\"d")), "Named", "cleaned");
        assert_eq!(labels.label(Some(&"x".repeat(200))).len(), 64);
        for i in 0..OPERATION_LABELS {
            labels.label(Some(&format!("Client{i}")));
        }
        assert_eq!(labels.label(Some("LateComer")), "other");
        assert_eq!(
            labels.label(Some("Named")),
            "Named",
            "known names keep theirs"
        );
        assert_eq!(
            labels.known.lock().map(|k| k.len()).ok(),
            Some(OPERATION_LABELS)
        );
    }

    #[test]
    fn a_flood_of_names_adds_no_series_past_the_bound() {
        let metrics = Metrics::new();
        for i in 0..(OPERATION_LABELS * 3) {
            metrics.observe(Some(&format!("Op{i}")), 200, 0.001, &[]);
        }
        let text = metrics.handle.render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("samverkan_requests_total{"))
            .count();
        assert_eq!(series, OPERATION_LABELS + 1, "{text}");
        assert!(text.contains("samverkan_requests_total{operation=\"other\",status=\"200\"} 200"));
    }

    #[test]
    fn rendering_keeps_the_metric_names() {
        let metrics = Metrics::new();
        metrics.observe(Some("Named"), 200, 0.002, &["BAD_USER_INPUT".into()]);
        metrics.observe(None, 400, 0.5, &[]);
        let text = metrics.handle.render();
        for needle in [
            "# TYPE samverkan_requests_total counter",
            "samverkan_requests_total{operation=\"Named\",status=\"200\"} 1",
            "samverkan_requests_total{operation=\"anonymous\",status=\"400\"} 1",
            "samverkan_request_duration_seconds_bucket{operation=\"Named\",le=\"0.0025\"} 1",
            "samverkan_request_duration_seconds_count{operation=\"anonymous\"} 1",
            "samverkan_errors_total{code=\"BAD_USER_INPUT\"} 1",
        ] {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
    }
}
