//! The dead letter console: one server-rendered page and a JSON API over
//! any [`Replay`] store, served by `event-ops console`.
//!
//! ```no_run
//! # async fn run(pool: sqlx::PgPool) -> Result<(), event_postgres::console::ConsoleError> {
//! use event_postgres::Tables;
//! use event_postgres::console::{Auth, Console, PgReplay};
//!
//! let store = PgReplay::new(pool, &Tables::default());
//! let console = Console::new(store)
//!     .auth(Auth::from_env()?)
//!     .bind("127.0.0.1:8080".parse().unwrap())
//!     .await?;
//! println!("console at http://{}/", console.local_addr());
//! console.serve(std::future::pending()).await
//! # }
//! ```
//!
//! The page shows the depth per consumer and event type (warning above 0,
//! critical above 10, the brief's alert thresholds), the entries filtered
//! by consumer and type, and one entry's decoded payload, raw bytes,
//! error, class, attempts and failure times. Retry, discard and bulk retry
//! by type each go through a confirmation step, then a POST that carries
//! the CSRF token; the answer is a redirect to the page with the result
//! on top. What protects those POSTs is described in [`security`] and in
//! `docs/console.md`.
//!
//! The JSON API, for scripts (POSTs need the `X-CSRF-Token` header; the
//! token is in `GET /api/session`):
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /api/depth` | total and per (consumer, type) depth with its state |
//! | `GET /api/entries?consumer=&type=` | the entries, oldest first |
//! | `GET /api/entries/{id}` | one entry with its payload |
//! | `POST /api/entries/{id}/retry` | 200, or 409 if the entry is gone |
//! | `POST /api/entries/{id}/discard` | 200, or 409 if the entry is gone |
//! | `POST /api/retry?type=&consumer=` | bulk retry: 200, or 409 if none was left |
//! | `GET /api/actions/{n}` | an action and, for a retry, how it went |

mod actions;
mod page;
mod replay;
pub mod security;

pub use event_delivery::Replay;
pub use replay::PgReplay;
pub use security::{Auth, check_listen};

use actions::{Action, Actions, Outcome};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId};
use serde_json::{Value, json};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A failure to start or run the console.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConsoleError {
    /// A setting was refused; the message says which and why.
    Config(String),
    /// The listening socket failed.
    Io(std::io::Error),
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsoleError::Config(message) => f.write_str(message),
            ConsoleError::Io(e) => write!(f, "the console's socket: {e}"),
        }
    }
}

impl std::error::Error for ConsoleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConsoleError::Config(_) => None,
            ConsoleError::Io(e) => Some(e),
        }
    }
}

/// A depth above this is critical; above 0 it is a warning.
pub const CRITICAL_DEPTH: usize = 10;

/// The state a depth is shown in: `ok`, `warning` (above 0) or `critical`
/// (above [`CRITICAL_DEPTH`]).
pub fn depth_state(depth: usize) -> &'static str {
    match depth {
        0 => "ok",
        d if d > CRITICAL_DEPTH => "critical",
        _ => "warning",
    }
}

/// The console over `store`, not yet listening.
#[derive(Debug)]
pub struct Console<R> {
    store: R,
    auth: Auth,
}

impl<R: Replay> Console<R> {
    /// A console over `store` that requires no credentials (and so listens
    /// on loopback addresses only).
    pub fn new(store: R) -> Self {
        Console {
            store,
            auth: Auth::none(),
        }
    }

    /// The credentials every request must carry.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// The router, for a console reached at `addr` (its `Host` check and
    /// CSRF token are fixed here). [`bind`](Self::bind) is the usual way;
    /// this one serves tests and embedding in another server.
    pub fn router(self, addr: SocketAddr) -> Result<Router, ConsoleError> {
        check_listen(addr, &self.auth)?;
        let guard = Arc::new(security::Guard::new(addr, self.auth)?);
        let shared = Arc::new(Shared {
            store: self.store,
            actions: Actions::default(),
            csrf: guard.csrf.clone(),
        });
        Ok(Router::new()
            .route("/", get(page_view::<R>))
            .route("/assets/console.css", get(stylesheet))
            .route("/entries/{id}/retry", post(form_retry::<R>))
            .route("/entries/{id}/discard", post(form_discard::<R>))
            .route("/retry", post(form_bulk_retry::<R>))
            .route("/api/session", get(api_session::<R>))
            .route("/api/depth", get(api_depth::<R>))
            .route("/api/entries", get(api_entries::<R>))
            .route("/api/entries/{id}", get(api_entry::<R>))
            .route("/api/entries/{id}/retry", post(api_retry::<R>))
            .route("/api/entries/{id}/discard", post(api_discard::<R>))
            .route("/api/retry", post(api_bulk_retry::<R>))
            .route("/api/actions/{n}", get(api_action::<R>))
            .with_state(shared)
            .layer(axum::middleware::from_fn_with_state(guard, security::guard)))
    }

    /// Checks `addr` ([`check_listen`]) and listens on it; port 0 picks a
    /// free port ([`Bound::local_addr`] says which).
    pub async fn bind(self, addr: SocketAddr) -> Result<Bound, ConsoleError> {
        check_listen(addr, &self.auth)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(ConsoleError::Io)?;
        let local = listener.local_addr().map_err(ConsoleError::Io)?;
        let router = self.router(local)?;
        Ok(Bound {
            listener,
            router,
            local,
        })
    }
}

/// A console listening, not yet answering.
#[derive(Debug)]
pub struct Bound {
    listener: tokio::net::TcpListener,
    router: Router,
    local: SocketAddr,
}

impl Bound {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Answers until `shutdown` completes, then finishes the requests in
    /// flight and returns.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ConsoleError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ConsoleError::Io)
    }
}

struct Shared<R> {
    store: R,
    actions: Actions,
    csrf: String,
}

type AppState<R> = State<Arc<Shared<R>>>;

/// `dl_12` or `12`.
pub fn parse_id(id: &str) -> Option<DeadLetterId> {
    id.strip_prefix("dl_")
        .unwrap_or(id)
        .parse::<u64>()
        .ok()
        .map(DeadLetterId)
}

fn bad_id(id: &str) -> String {
    format!("`{id}` is not a dead letter id (expected dl_<number>)")
}

fn gone(id: DeadLetterId) -> String {
    format!(
        "{id} is no longer in the dead letter queue: someone else retried or discarded it \
         (or it never existed). Nothing was done."
    )
}

fn storage_failed(e: &DeadLetterError) -> String {
    format!("{e}. Nothing is known to have changed; reload to see the queue as it is.")
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// The filter of a request: the `consumer` and `type` query or form fields.
#[derive(Debug, Default, Clone, serde::Deserialize)]
struct FilterQuery {
    consumer: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
}

impl FilterQuery {
    fn filter(&self) -> DeadLetterFilter {
        DeadLetterFilter {
            consumer: nonempty(self.consumer.clone()),
            event_type: nonempty(self.event_type.clone()),
        }
    }
}

/// The result of an action: its HTTP status, its number in the log.
struct Done {
    status: StatusCode,
    number: u64,
    message: String,
}

async fn retry_one<R: Replay>(shared: &Shared<R>, id: DeadLetterId) -> Done {
    let what = format!("retry {id}");
    let (status, message, retried) = match shared.store.replay(id).await {
        Ok(Some(entry)) => (
            StatusCode::OK,
            format!(
                "Retried {id}: its event went back to {}'s queue as a first delivery.",
                entry.consumer
            ),
            vec![entry],
        ),
        Ok(None) => (StatusCode::CONFLICT, gone(id), vec![]),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            storage_failed(&e),
            vec![],
        ),
    };
    let number = shared
        .actions
        .record(what, status == StatusCode::OK, message.clone(), &retried);
    Done {
        status,
        number,
        message,
    }
}

async fn discard_one<R: Replay>(shared: &Shared<R>, id: DeadLetterId) -> Done {
    let what = format!("discard {id}");
    let (status, message) = match shared.store.discard(id).await {
        Ok(true) => (StatusCode::OK, format!("Discarded {id} for good.")),
        Ok(false) => (StatusCode::CONFLICT, gone(id)),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, storage_failed(&e)),
    };
    let number = shared
        .actions
        .record(what, status == StatusCode::OK, message.clone(), &[]);
    Done {
        status,
        number,
        message,
    }
}

fn scope(filter: &DeadLetterFilter) -> String {
    let t = filter.event_type.as_deref().unwrap_or("?");
    match &filter.consumer {
        Some(c) => format!("{t} for {c}"),
        None => format!("{t} for every consumer"),
    }
}

async fn retry_type<R: Replay>(shared: &Shared<R>, filter: DeadLetterFilter) -> Done {
    if filter.event_type.is_none() {
        let message = "a bulk retry needs an event type (the `type` field)".to_owned();
        return Done {
            status: StatusCode::BAD_REQUEST,
            number: 0,
            message,
        };
    }
    let what = format!("retry every {}", scope(&filter));
    let (status, message, retried) = match shared.store.replay_all(&filter).await {
        Ok(entries) if entries.is_empty() => (
            StatusCode::CONFLICT,
            format!(
                "No entry of {} was left to retry: someone else retried or discarded them. \
                 Nothing was done.",
                scope(&filter)
            ),
            entries,
        ),
        Ok(entries) => (
            StatusCode::OK,
            format!(
                "Retried {} entr{} of {}.",
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" },
                scope(&filter)
            ),
            entries,
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            storage_failed(&e),
            vec![],
        ),
    };
    let number = shared
        .actions
        .record(what, status == StatusCode::OK, message.clone(), &retried);
    Done {
        status,
        number,
        message,
    }
}

// ---- the page and its forms ----

async fn page_view<R: Replay>(
    State(shared): AppState<R>,
    Query(query): Query<page::PageQuery>,
) -> Response {
    match page::render(&shared.store, &shared.actions, &shared.csrf, query).await {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("the dead letter store failed: {e}"),
        )
            .into_response(),
    }
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/console.css"),
    )
        .into_response()
}

/// The fields the page's action forms send besides the CSRF token: the
/// list's filter to return to, and for a bulk retry its scope.
#[derive(Debug, Default, serde::Deserialize)]
struct ActionForm {
    consumer: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    back_consumer: Option<String>,
    back_type: Option<String>,
}

fn back_to(form: &ActionForm, done: u64) -> Response {
    let mut url = String::from("/?");
    let mut push = |key: &str, value: &Option<String>| {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            url.push_str(key);
            url.push('=');
            url.extend(percent_encoding::utf8_percent_encode(
                v,
                percent_encoding::NON_ALPHANUMERIC,
            ));
            url.push('&');
        }
    };
    push("consumer", &form.back_consumer);
    push("type", &form.back_type);
    url.push_str(&format!("done={done}"));
    Redirect::to(&url).into_response()
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

async fn form_retry<R: Replay>(
    State(shared): AppState<R>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return plain(StatusCode::BAD_REQUEST, bad_id(&id));
    };
    let done = retry_one(&shared, id).await;
    back_to(&form, done.number)
}

async fn form_discard<R: Replay>(
    State(shared): AppState<R>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return plain(StatusCode::BAD_REQUEST, bad_id(&id));
    };
    let done = discard_one(&shared, id).await;
    back_to(&form, done.number)
}

async fn form_bulk_retry<R: Replay>(
    State(shared): AppState<R>,
    Form(form): Form<ActionForm>,
) -> Response {
    let filter = DeadLetterFilter {
        consumer: nonempty(form.consumer.clone()),
        event_type: nonempty(form.event_type.clone()),
    };
    let done = retry_type(&shared, filter).await;
    if done.number == 0 {
        return plain(done.status, done.message);
    }
    back_to(&form, done.number)
}

// ---- the JSON API ----

pub(crate) fn entry_json(e: &DeadLetter, with_payload: bool) -> Value {
    use base64::Engine;
    let mut v = json!({
        "id": e.id.to_string(),
        "consumer": e.consumer,
        "eventId": e.event_id,
        "type": e.event_type,
        "version": e.version.map(|v| v.to_string()),
        "tenantId": e.tenant_id,
        "partitionKey": e.partition_key,
        "error": e.error,
        "class": crate::class_name(e.class),
        "attempts": e.attempts,
        "firstFailure": rfc3339(e.first_failure),
        "lastFailure": rfc3339(e.last_failure),
    });
    if with_payload {
        v["payload"] = serde_json::from_slice(&e.payload).unwrap_or(Value::Null);
        v["payloadBase64"] =
            Value::String(base64::engine::general_purpose::STANDARD.encode(&e.payload));
    }
    v
}

fn api_error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn store_error(e: DeadLetterError) -> Response {
    api_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn api_session<R: Replay>(State(shared): AppState<R>) -> Response {
    Json(json!({ "csrf": shared.csrf })).into_response()
}

/// Depth per (consumer, type), largest first.
pub(crate) fn breakdown(entries: &[DeadLetter]) -> Vec<(String, Option<String>, usize)> {
    let mut counts: std::collections::BTreeMap<(String, Option<String>), usize> =
        Default::default();
    for e in entries {
        *counts
            .entry((e.consumer.clone(), e.event_type.clone()))
            .or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().map(|((c, t), n)| (c, t, n)).collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
    rows
}

async fn api_depth<R: Replay>(State(shared): AppState<R>) -> Response {
    let entries = match shared.store.list(&DeadLetterFilter::all()).await {
        Ok(entries) => entries,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = breakdown(&entries)
        .into_iter()
        .map(|(consumer, event_type, depth)| {
            json!({"consumer": consumer, "type": event_type, "depth": depth, "state": depth_state(depth)})
        })
        .collect();
    Json(json!({
        "total": entries.len(),
        "state": depth_state(entries.len()),
        "breakdown": rows,
    }))
    .into_response()
}

async fn api_entries<R: Replay>(
    State(shared): AppState<R>,
    Query(query): Query<FilterQuery>,
) -> Response {
    match shared.store.list(&query.filter()).await {
        Ok(entries) => Json(Value::Array(
            entries.iter().map(|e| entry_json(e, false)).collect(),
        ))
        .into_response(),
        Err(e) => store_error(e),
    }
}

async fn api_entry<R: Replay>(State(shared): AppState<R>, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return api_error(StatusCode::BAD_REQUEST, bad_id(&id));
    };
    match shared.store.get(id).await {
        Ok(Some(entry)) => Json(entry_json(&entry, true)).into_response(),
        Ok(None) => api_error(StatusCode::NOT_FOUND, format!("no dead letter {id}")),
        Err(e) => store_error(e),
    }
}

fn done_json(done: Done) -> Response {
    let body = if done.status == StatusCode::OK {
        json!({ "action": done.number, "message": done.message })
    } else {
        json!({ "action": done.number, "error": done.message })
    };
    (done.status, Json(body)).into_response()
}

async fn api_retry<R: Replay>(State(shared): AppState<R>, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return api_error(StatusCode::BAD_REQUEST, bad_id(&id));
    };
    done_json(retry_one(&shared, id).await)
}

async fn api_discard<R: Replay>(State(shared): AppState<R>, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return api_error(StatusCode::BAD_REQUEST, bad_id(&id));
    };
    done_json(discard_one(&shared, id).await)
}

async fn api_bulk_retry<R: Replay>(
    State(shared): AppState<R>,
    Query(query): Query<FilterQuery>,
) -> Response {
    let done = retry_type(&shared, query.filter()).await;
    if done.number == 0 {
        return api_error(done.status, done.message);
    }
    let retried = shared
        .actions
        .get(done.number)
        .map(|a| a.retried.len())
        .unwrap_or(0);
    let status = done.status;
    let mut body = json!({ "action": done.number, "retried": retried });
    body[if status == StatusCode::OK {
        "message"
    } else {
        "error"
    }] = Value::String(done.message);
    (status, Json(body)).into_response()
}

pub(crate) fn action_json(action: &Action, outcome: Option<Outcome>) -> Value {
    json!({
        "action": action.number,
        "at": rfc3339(action.at),
        "what": action.what,
        "done": action.done,
        "message": action.message,
        "outcome": outcome,
    })
}

async fn api_action<R: Replay>(State(shared): AppState<R>, Path(n): Path<u64>) -> Response {
    let Some(action) = shared.actions.get(n) else {
        return api_error(
            StatusCode::NOT_FOUND,
            format!("no action {n} in this console's memory"),
        );
    };
    let current = match shared.store.list(&DeadLetterFilter::all()).await {
        Ok(entries) => entries,
        Err(e) => return store_error(e),
    };
    match shared.actions.outcome(n, &current, &shared.store).await {
        Ok(outcome) => Json(action_json(&action, outcome)).into_response(),
        Err(e) => store_error(e),
    }
}
