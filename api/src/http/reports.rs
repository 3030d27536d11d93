//! `GET /reports/goals.csv` and `GET /reports/dialogues.csv?from=&to=`: the reports a network
//! sends its funder, with the same credentials and visibility as `/graphql`. CSV as a Swedish
//! spreadsheet opens it: UTF-8 with a byte-order mark, a header row, semicolons between
//! fields, CRLF between records and quoting per RFC 4180. The dialogues are written page by
//! page as they are read, so a year of them is never in memory at once.

use crate::graphql::endpoint::Endpoint;
use crate::limits::{COUNT_COST, SEARCH_COST};
use crate::report;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use std::net::SocketAddr;
use std::sync::Arc;

/// What a report is charged to the caller's budget: it reads every record of its kind the
/// caller may see in the period, as a text search may.
const REPORT_COST: usize = SEARCH_COST;

/// How many dialogues one page of the report reads.
const PAGE: usize = report::DIALOGUE_PAGE as usize;

/// The byte-order mark that tells a spreadsheet the file is UTF-8.
const BOM: &str = "\u{feff}";

/// A field as a spreadsheet may safely read it: text that would start a formula (`=`, `+`,
/// `-`, `@`, a tab or a carriage return) is prefixed with `'`, so that what an editor wrote
/// in a title is shown, never run. Numbers stay numbers.
fn inert(field: &str) -> std::borrow::Cow<'_, str> {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && field.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{field}"))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

/// One CSV record: fields made inert ([`inert`]), quoted when they hold a separator, a quote
/// or a line break, quotes doubled, ended by CRLF.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|field| {
            let field = inert(field.as_ref());
            if field.contains([';', '"', '\r', '\n']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(";");
    line.push_str("\r\n");
    line
}

/// The address the request came from.
fn client(request: &Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

fn csv(body: Body, name: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// `GET /reports/goals.csv`: every goal the caller may see with its progress.
pub async fn goals(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    let (headers, client) = (request.headers(), client(&request));
    let principal = match endpoint.caller(headers).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    if let Err(response) = endpoint.charge(&principal, client, REPORT_COST).await {
        return response;
    }
    match report::goal_rows(endpoint.db(), &principal).await {
        Ok(rows) => {
            let mut text = String::from(BOM);
            text.push_str(&record(&report::GOAL_COLUMNS));
            for row in rows {
                text.push_str(&record(&row));
            }
            csv(Body::from(text), "goals.csv")
        }
        Err(error) => Endpoint::failed(&error),
    }
}

/// The period of the dialogues report, as given.
#[derive(serde::Deserialize)]
pub struct Period {
    from: Option<String>,
    to: Option<String>,
}

#[allow(
    clippy::result_large_err,
    reason = "the error is the response itself, sent at once"
)]
fn day(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, Response> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            let day = v.parse::<NaiveDate>().map_err(|_| {
                Endpoint::bad_parameter(
                    field,
                    &format!("{field} must be a date written as YYYY-MM-DD, such as 2026-11-20"),
                )
            })?;
            crate::validate::date(field, day)
                .map_err(|e| Endpoint::bad_parameter(field, &e.message()))
        })
        .transpose()
}

/// `GET /reports/dialogues.csv?from=&to=`: the dialogues held in the period that the caller
/// may see, oldest first, with their participants and themes by name.
pub async fn dialogues(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    let Ok(period) = serde_urlencoded::from_str::<Period>(request.uri().query().unwrap_or(""))
    else {
        return Endpoint::bad_parameter(
            "query",
            "the query string must be from=YYYY-MM-DD&to=YYYY-MM-DD",
        );
    };
    let (from, to) = match (
        day("from", period.from.as_deref()),
        day("to", period.to.as_deref()),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Endpoint::bad_parameter("to", "to must not be before from");
    }
    let principal = match endpoint.caller(request.headers()).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    // Priced by what it will read: a count's price for every page of the report, and at
    // least a report's.
    let pages = match report::dialogue_count(endpoint.db(), &principal, (from, to)).await {
        Ok(count) => usize::try_from(count).unwrap_or(usize::MAX) / PAGE + 1,
        Err(error) => return Endpoint::failed(&error),
    };
    let cost = REPORT_COST.max(pages.saturating_mul(COUNT_COST));
    if let Err(response) = endpoint.charge(&principal, client(&request), cost).await {
        return response;
    }
    // The first page is read before answering, so that bad input is a clean 400.
    let first = match report::dialogue_rows(endpoint.db(), &principal, (from, to), None).await {
        Ok(first) => first,
        Err(error) => return Endpoint::failed(&error),
    };
    let mut head = String::from(BOM);
    head.push_str(&record(&report::DIALOGUE_COLUMNS));
    let page = |rows: Vec<Vec<String>>| -> Bytes {
        Bytes::from(rows.iter().map(|row| record(row)).collect::<String>())
    };
    let start = Bytes::from(head);
    let (rows, next) = first;
    let first = page(rows);
    let rest = futures_util::stream::unfold(next, move |resume| {
        let endpoint = endpoint.clone();
        let principal = principal.clone();
        async move {
            let resume = resume?;
            match report::dialogue_rows(endpoint.db(), &principal, (from, to), Some(resume)).await {
                Ok((rows, next)) => Some((Ok(page(rows)), next)),
                Err(error) => {
                    tracing::error!(?error, "the dialogues report stopped");
                    Some((
                        Err(std::io::Error::other("the report could not be read")),
                        None,
                    ))
                }
            }
        }
    });
    let head = futures_util::stream::iter([Ok::<_, std::io::Error>(start), Ok(first)]);
    csv(
        Body::from_stream(futures_util::StreamExt::chain(head, rest)),
        "dialogues.csv",
    )
}

#[cfg(test)]
mod tests {
    use super::record;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(record(&["a", "b"]), "a;b\r\n");
        assert_eq!(
            record(&["Göteborg; Malmö", "sa \"hej\"", "två\nrader", "åäö"]),
            "\"Göteborg; Malmö\";\"sa \"\"hej\"\"\";\"två\nrader\";åäö\r\n"
        );
        assert_eq!(
            record(&["=HYPERLINK(\"x\")", "-1", "@SUM(A1)", "+46 8 123"]),
            "\"'=HYPERLINK(\"\"x\"\")\";-1;'@SUM(A1);'+46 8 123\r\n"
        );
    }
}
