//! The cost guard: after validation has computed a document's cost, refuse it above the
//! limit, charge it to the caller's budget, note both for the response, and, unless it is
//! cheap ([`crate::limits::UNQUEUED_COST`]), wait until the server has room for that much
//! cost in flight.
//!
//! The guard is an extension of the schema that checks requests. An extension, any
//! extension, makes async-graphql pass every resolved field and every list item through
//! the extension chain (a boxed future and two registry lookups each), a fifth of the
//! server's CPU in a nested query. So a request over HTTP is checked by that schema with
//! [`CheckOnly`], which stops after the guard, and then run by a schema without extensions
//! ([`super::Schemas`]). Subscriptions are checked and run by the guarded schema.
//!
//! A document that passed the full validation once, and whose validation holds for any
//! request ([`super::documents::Parsed::validated`]), is not checked by a schema again: the
//! endpoint applies the guard's rule ([`judge`]) to the cost computed the first time.

pub use crate::limits::RateKey;
use crate::limits::{Limits, RateLimiter};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, ServerError, ValidationResult};
use std::sync::{Arc, Mutex};

/// Whether a connection field's selection may ask for `totalCount`: directly, in an inline
/// fragment, or in any named fragment (which the complexity hook cannot see into, so it is
/// assumed to). Used in the `complexity` of top-level lists as `asks_total(__field)`,
/// `__field` being the field async-graphql's derive hands its complexity closures.
pub fn asks_total(field: &Field) -> bool {
    fn within(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => field.node.name.node == "totalCount",
            Selection::InlineFragment(fragment) => within(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => true,
        })
    }
    within(&field.selection_set.node)
}

/// A list filter input whose domain filter may search text, which the cost of a list
/// counts ([`crate::records::ListFilter::searches`]).
pub trait Searches {
    /// Whether it searches text.
    fn searches(&self) -> bool;
}

impl<F> Searches for F
where
    F: super::connection::Input + Clone,
    F::Domain: crate::records::ListFilter,
{
    fn searches(&self) -> bool {
        use crate::records::ListFilter;
        self.clone()
            .into_domain()
            .is_ok_and(|filter| filter.searches())
    }
}

/// What a request cost and what is left, filled in during validation.
#[derive(Debug, Clone, Default)]
pub struct CostReport {
    /// The document's cost.
    pub cost: usize,
    /// The largest cost allowed.
    pub limit: usize,
    /// Points per minute.
    pub budget: usize,
    /// Points left.
    pub remaining: usize,
    /// When refused for the budget: seconds to wait.
    pub retry_after: Option<u64>,
    /// Whether the request passed validation, its cost and its budget: execution began.
    pub executed: bool,
}

/// Marks a request that does not wait for room in the cost in flight: mutations, which are
/// cheap and, on SQLite, hold the write gate while they run.
pub struct NotQueued;

/// Marks a request that the guarded schema only checks: the guard stops it after charging
/// it, with no errors, and hands its share of the cost in flight to the [`Admission`].
pub struct CheckOnly;

/// Where a checked request's share of the cost in flight is kept while another schema runs
/// it; dropping it releases the share.
pub type Admission = Arc<Mutex<Option<tokio::sync::OwnedSemaphorePermit>>>;

/// Where the guard writes its report for the HTTP layer.
pub type CostSlot = Arc<Mutex<Option<CostReport>>>;

/// Builds the guard for every request.
pub struct CostGuard {
    /// The limits.
    pub limits: Arc<Limits>,
    /// The budgets.
    pub limiter: Arc<RateLimiter>,
}

impl ExtensionFactory for CostGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard {
            limits: self.limits.clone(),
            limiter: self.limiter.clone(),
            admitted: Admission::default(),
        })
    }
}

struct Guard {
    limits: Arc<Limits>,
    limiter: Arc<RateLimiter>,
    /// The request's share of the cost in flight, released when the request ends (the
    /// guard is created per request and dropped with it), unless the request brings its
    /// own [`Admission`].
    admitted: Admission,
}

/// A refusal of the whole document: no location, since no one place in it is at fault.
fn refusal(message: String, code: &'static str, retry_after: Option<u64>) -> Vec<ServerError> {
    let error = async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        if let Some(seconds) = retry_after {
            e.set("retryAfter", seconds);
        }
    });
    vec![super::error::request_error(error)]
}

/// What a document of a known cost may do: its report, and either its share of the cost in
/// flight (none when it is cheap or not queued) or why it is refused. The one rule for a
/// document's cost and the caller's budget, applied by the guard after validation, and by
/// the endpoint to a document whose cost an earlier request already computed
/// ([`super::documents::Parsed::validated`]).
pub async fn judge(
    limits: &Limits,
    limiter: &RateLimiter,
    key: &RateKey,
    cost: usize,
    queued: bool,
) -> (
    CostReport,
    Result<Option<tokio::sync::OwnedSemaphorePermit>, Vec<ServerError>>,
) {
    let mut report = CostReport {
        cost,
        limit: limits.max_cost,
        budget: limiter.budget(),
        ..Default::default()
    };
    if cost > limits.max_cost {
        let message = format!(
            "the query costs {cost} points; the limit is {}",
            limits.max_cost
        );
        return (report, Err(refusal(message, "BAD_USER_INPUT", None)));
    }
    let charge = limiter.spend(key, cost).await;
    report.remaining = charge.remaining;
    report.retry_after = charge.retry_after;
    if let Some(seconds) = charge.retry_after {
        let message = format!(
            "rate limit: the query costs {cost} points and {} of {} per minute are left; retry in {seconds} s",
            charge.remaining,
            limiter.budget()
        );
        return (report, Err(refusal(message, "RATE_LIMITED", Some(seconds))));
    }
    report.executed = true;
    let permit = if queued && cost > crate::limits::UNQUEUED_COST {
        limiter.admit(cost).await
    } else {
        None
    };
    (report, Ok(permit))
}

#[async_graphql::async_trait::async_trait]
impl Extension for Guard {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let anonymous;
        let key = match ctx.data_opt::<RateKey>() {
            Some(key) => key,
            None => {
                anonymous = RateKey("anonymous".into());
                &anonymous
            }
        };
        let queued = ctx.data_opt::<NotQueued>().is_none();
        let (report, outcome) =
            judge(&self.limits, &self.limiter, key, result.complexity, queued).await;
        if let Some(slot) = ctx.data_opt::<CostSlot>()
            && let Ok(mut slot) = slot.lock()
        {
            *slot = Some(report);
        }
        let permit = outcome?;
        if permit.is_some() {
            let keeper = ctx.data_opt::<Admission>().unwrap_or(&self.admitted);
            if let Ok(mut admitted) = keeper.lock() {
                *admitted = permit;
            }
        }
        if ctx.data_opt::<CheckOnly>().is_some() {
            // No error stops the request without adding one to the response.
            Err(Vec::new())
        } else {
            Ok(result)
        }
    }
}
