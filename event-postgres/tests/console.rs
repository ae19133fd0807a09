//! The dead letter console against the real server: its JSON API and
//! security called in-process, its command run as a binary, and the page
//! driven in headless Chromium (Debian's `chromium` and `chromium-driver`).

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use event_delivery::{DeadLetter, DeadLetterId, DeadLetters, Handler, HandlerError, consumer};
use event_postgres::console::{Auth, Console, PgReplay};
use event_postgres::{PgDeadLetters, PgProcessedStore, PgQueue};
use event_runtime::{ErrorClass, OffsetDateTime, Service, Version, catalog};
use serde_json::Value;
use sqlx::{Postgres, Row, Transaction};
use std::net::SocketAddr;
use std::time::Duration;
use tower::ServiceExt;

pub struct CertificateService;
impl Service for CertificateService {
    const NAME: &'static str = "certificate-service";
}

catalog! {
    /// What the certificate service handles.
    #[derive(Debug, Clone, PartialEq)]
    pub enum CertificateInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

/// Writes one effect row per event it handles; an enrollment whose id
/// starts with `broken` fails permanently, every time.
#[derive(Clone)]
struct Certificates {
    effects: String,
}

impl Handler<CertificateInbound, Transaction<'static, Postgres>> for Certificates {
    type Error = HandlerError;

    async fn handle(
        &self,
        event: CertificateInbound,
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<(), HandlerError> {
        let CertificateInbound::EnrollmentCompleted(e) = event;
        if e.data().enrollment_id.starts_with("broken") {
            return Err(HandlerError::permanent(
                "certificate template still missing",
            ));
        }
        sqlx::query(&format!(
            "INSERT INTO {} (event_id, enrollment_id, n, consumer) VALUES ($1, $2, $3, 'certificate-service')",
            self.effects
        ))
        .bind(e.id().as_str())
        .bind(&e.data().enrollment_id)
        .bind(e.data().seq as i32)
        .execute(&mut **tx)
        .await
        .map_err(|e| HandlerError::transient(e.to_string()))?;
        Ok(())
    }
}

/// The certificate service consuming its queue until dropped.
struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    fn start(db: &TestDb) -> Self {
        let pipeline = consumer::<CertificateService>()
            .store(PgProcessedStore::with_tables(db.pool.clone(), &db.tables))
            .dead_letters(PgDeadLetters::new(db.pool.clone(), &db.tables))
            .handler::<CertificateInbound, _>(Certificates {
                effects: db.effects(),
            });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let subscriber = PgQueue::new(db.pool.clone(), &db.tables).subscribe(
            "certificate-service",
            Duration::from_secs(30),
            Duration::from_millis(20),
            async {
                let _ = stopped.await;
            },
        );
        let task = tokio::spawn(async move {
            pipeline.run(subscriber).await;
        });
        Running {
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

fn dead_letter(
    consumer: &str,
    envelope: &event_runtime::Envelope<EnrollmentCompleted>,
    error: &str,
) -> DeadLetter {
    let last = OffsetDateTime::now_utc() - time::Duration::minutes(3);
    DeadLetter {
        id: DeadLetterId(0),
        payload: envelope.to_json_vec().unwrap().into(),
        partition_key: Some(envelope.data().enrollment_id.clone()),
        event_id: Some(envelope.id().as_str().into()),
        event_type: Some("enrollment.completed".into()),
        version: Some(Version::new(1, 0)),
        tenant_id: Some("tenant_a".into()),
        consumer: consumer.into(),
        error: error.into(),
        class: ErrorClass::Permanent,
        attempts: 1,
        first_failure: last - time::Duration::minutes(2),
        last_failure: last,
    }
}

const ADDR: &str = "127.0.0.1:8080";

fn router(db: &TestDb, auth: Auth) -> Router {
    Console::new(PgReplay::new(db.pool.clone(), &db.tables))
        .auth(auth)
        .router(ADDR.parse().unwrap())
        .unwrap()
}

async fn call(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, ADDR)
        .body(Body::empty())
        .unwrap()
}

fn post(uri: &str, csrf: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::HOST, ADDR)
        .header("x-csrf-token", csrf)
        .body(Body::empty())
        .unwrap()
}

async fn json(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let (status, _, body) = call(router, request).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON: {body}")),
    )
}

async fn csrf(router: &Router) -> String {
    let (status, v) = json(router, get("/api/session")).await;
    assert_eq!(status, StatusCode::OK);
    v["csrf"].as_str().unwrap().to_owned()
}

async fn effects_of(db: &TestDb, event_id: &str) -> i64 {
    sqlx::query(&format!(
        "SELECT count(*) FROM {} WHERE event_id = $1",
        db.effects()
    ))
    .bind(event_id)
    .fetch_one(&db.pool)
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn the_api_reports_depth_per_consumer_and_type_with_warning_and_critical_states() {
    let db = TestDb::new().await;
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    for n in 0..11 {
        dlq.put(dead_letter(
            "certificate-service",
            &completed(&format!("enr_{n}"), n),
            "boom",
        ))
        .await
        .unwrap();
    }
    for n in 0..2 {
        dlq.put(dead_letter(
            "notification-service",
            &completed(&format!("enr_{n}"), n),
            "boom",
        ))
        .await
        .unwrap();
    }
    let console = router(&db, Auth::none());
    let (status, v) = json(&console, get("/api/depth")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["total"], 13);
    assert_eq!(v["state"], "critical");
    assert_eq!(
        v["breakdown"],
        serde_json::json!([
            {"consumer": "certificate-service", "type": "enrollment.completed", "depth": 11, "state": "critical"},
            {"consumer": "notification-service", "type": "enrollment.completed", "depth": 2, "state": "warning"},
        ])
    );
    let (_, list) = json(&console, get("/api/entries?consumer=notification-service")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (_, list) = json(
        &console,
        get("/api/entries?type=enrollment.completed&consumer="),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 13);
    let (status, v) = json(&console, get("/api/entries/dl_x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "`dl_x` is not a dead letter id (expected dl_<number>)"
    );
    db.drop().await;
}

#[tokio::test]
async fn a_payload_holding_script_renders_as_text() {
    let db = TestDb::new().await;
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let hostile = completed("<script>alert('x')</script>", 1);
    let id = dlq
        .put(dead_letter(
            "certificate-service",
            &hostile,
            "<img src=x onerror=alert(1)> failed",
        ))
        .await
        .unwrap();
    let console = router(&db, Auth::none());
    let (status, headers, page) = call(&console, get(&format!("/?entry={id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("<script"),
        "a raw <script> reached the page:\n{page}"
    );
    assert!(!page.contains("<img"), "a raw <img> reached the page");
    assert!(
        page.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; failed"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    // The JSON API returns the payload as data, with a JSON content type.
    let (_, headers, body) = call(&console, get(&format!("/api/entries/{id}"))).await;
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["payload"]["data"]["enrollmentId"],
        "<script>alert('x')</script>"
    );
    db.drop().await;
}

#[tokio::test]
async fn posts_need_the_csrf_token_and_the_console_answers_only_to_its_own_host() {
    let db = TestDb::new().await;
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let id = dlq
        .put(dead_letter(
            "certificate-service",
            &completed("enr_1", 1),
            "boom",
        ))
        .await
        .unwrap();
    let console = router(&db, Auth::none());
    let token = csrf(&console).await;

    let no_token = Request::post(format!("/api/entries/{id}/discard"))
        .header(header::HOST, ADDR)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(&console, no_token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        "missing CSRF token: send the `csrf` form field or the X-CSRF-Token header"
    );
    let (status, _, _) = call(
        &console,
        post(&format!("/api/entries/{id}/discard"), "0000"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let form = |csrf: &str| {
        Request::post(format!("/entries/{id}/discard"))
            .header(header::HOST, ADDR)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf={csrf}&back_type=enrollment.completed"
            )))
            .unwrap()
    };
    let (status, _, body) = call(&console, form("forged")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        "the form's CSRF token is not this console's: reload the page and try again"
    );
    let mut cross = post(&format!("/api/entries/{id}/discard"), &token);
    cross
        .headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    let (status, _, _) = call(&console, cross).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let rebound = Request::get("/api/depth")
        .header(header::HOST, "evil.example:8080")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = call(&console, rebound).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
    // Refused requests changed nothing.
    assert!(dlq.get(id).await.unwrap().is_some());

    // The page's own form, with the token, works and redirects back.
    let (status, headers, _) = call(&console, form(&token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/?type=enrollment%2Ecompleted&done=1"
    );
    assert!(dlq.get(id).await.unwrap().is_none());
    db.drop().await;
}

#[tokio::test]
async fn configured_credentials_are_required_on_every_request() {
    let db = TestDb::new().await;
    let bearer = router(&db, Auth::none().bearer("s3cret"));
    let (status, _, _) = call(&bearer, get("/api/depth")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut ok = get("/api/depth");
    ok.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
    assert_eq!(call(&bearer, ok).await.0, StatusCode::OK);
    let mut wrong = get("/");
    wrong
        .headers_mut()
        .insert(header::AUTHORIZATION, "Bearer s3cre".parse().unwrap());
    assert_eq!(call(&bearer, wrong).await.0, StatusCode::UNAUTHORIZED);

    let basic = router(&db, Auth::none().basic("ops", "pw"));
    let (status, headers, _) = call(&basic, get("/")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers[header::WWW_AUTHENTICATE],
        "Basic realm=\"event-ops console\", charset=\"UTF-8\""
    );
    let mut ok = get("/");
    // ops:pw
    ok.headers_mut()
        .insert(header::AUTHORIZATION, "Basic b3BzOnB3".parse().unwrap());
    assert_eq!(call(&basic, ok).await.0, StatusCode::OK);

    // Without credentials it will not be served on a routable address.
    let refused = Console::new(PgReplay::new(db.pool.clone(), &db.tables))
        .router("0.0.0.0:8080".parse().unwrap())
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with("refusing to listen on 0.0.0.0:8080")
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_of_one_entry_redeliver_it_once_and_tell_the_others() {
    let db = TestDb::new().await;
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let queue = PgQueue::new(db.pool.clone(), &db.tables);
    let id = dlq
        .put(dead_letter(
            "certificate-service",
            &completed("enr_1", 1),
            "boom",
        ))
        .await
        .unwrap();
    let console = router(&db, Auth::none());
    let token = csrf(&console).await;
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let console = console.clone();
            let request = post(&format!("/api/entries/{id}/retry"), &token);
            tokio::spawn(async move { json(&console, request).await })
        })
        .collect();
    let mut won = 0;
    let mut told = 0;
    for t in tries {
        let (status, v) = t.await.unwrap();
        match status {
            StatusCode::OK => won += 1,
            StatusCode::CONFLICT => {
                told += 1;
                assert_eq!(
                    v["error"],
                    format!(
                        "{id} is no longer in the dead letter queue: someone else retried or \
                         discarded it (or it never existed). Nothing was done."
                    )
                );
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!((won, told), (1, 7));
    assert_eq!(queue.depth("certificate-service").await.unwrap(), 1);

    // A discard of what someone else already retried is refused the same way.
    let (status, v) = json(
        &console,
        post(&format!("/api/entries/{id}/discard"), &token),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{id} is no longer"))
    );
    assert_eq!(queue.depth("certificate-service").await.unwrap(), 1);
    db.drop().await;
}

async fn settled(console: &Router, action: u64) -> Value {
    for _ in 0..500 {
        let (status, v) = json(console, get(&format!("/api/actions/{action}"))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        if v["outcome"]["waiting"] == 0 {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the retried events were not handled within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_retry_reports_how_many_were_retried_handled_and_failed_again() {
    let db = TestDb::new().await;
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let good = [
        completed("enr_1", 1),
        completed("enr_2", 2),
        completed("enr_3", 3),
    ];
    let broken = completed("broken_4", 4);
    for e in good.iter().chain([&broken]) {
        dlq.put(dead_letter(
            "certificate-service",
            e,
            "certificate template missing",
        ))
        .await
        .unwrap();
    }
    let other = dlq
        .put(dead_letter(
            "notification-service",
            &completed("enr_9", 9),
            "smtp down",
        ))
        .await
        .unwrap();
    let console = router(&db, Auth::none());
    let token = csrf(&console).await;
    let (status, v) = json(
        &console,
        post("/api/retry?consumer=certificate-service", &token),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "a bulk retry needs an event type (the `type` field)"
    );

    let running = Running::start(&db);
    let (status, v) = json(
        &console,
        post(
            "/api/retry?consumer=certificate-service&type=enrollment.completed",
            &token,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["retried"], 4);
    assert_eq!(
        v["message"],
        "Retried 4 entries of enrollment.completed for certificate-service."
    );
    let action = v["action"].as_u64().unwrap();
    let v = settled(&console, action).await;
    assert_eq!(
        v["outcome"],
        serde_json::json!({"retried": 4, "handled": 3, "failedAgain": 1, "waiting": 0, "untracked": 0})
    );
    running.stop().await;
    for e in &good {
        assert_eq!(effects_of(&db, e.id().as_str()).await, 1);
    }
    assert_eq!(effects_of(&db, broken.id().as_str()).await, 0);
    let back = dlq.list(&Default::default()).await.unwrap();
    let back: Vec<_> = back
        .iter()
        .map(|e| {
            (
                e.consumer.as_str(),
                e.event_id.clone().unwrap(),
                e.error.as_str(),
            )
        })
        .collect();
    assert_eq!(
        back,
        [
            (
                "notification-service",
                completed_id(&db, other).await,
                "smtp down"
            ),
            (
                "certificate-service",
                broken.id().as_str().to_owned(),
                "certificate template still missing"
            ),
        ]
    );
    // Nothing left of that type for that consumer: a second bulk retry
    // says so and does nothing.
    let (status, v) = json(
        &console,
        post(
            "/api/retry?consumer=notification-service&type=payment.captured",
            &token,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(v["retried"], 0);
    db.drop().await;
}

async fn completed_id(db: &TestDb, id: DeadLetterId) -> String {
    PgDeadLetters::new(db.pool.clone(), &db.tables)
        .get(id)
        .await
        .unwrap()
        .unwrap()
        .event_id
        .unwrap()
}

fn ops_console(listen: &str, schema: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_event-ops"));
    command
        .args(["console", "--listen", listen, "--schema", schema])
        .env("DATABASE_URL", database_url())
        .env_remove("EVENT_OPS_CONSOLE_TOKEN")
        .env_remove("EVENT_OPS_CONSOLE_USER")
        .env_remove("EVENT_OPS_CONSOLE_PASSWORD")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().expect("event-ops runs")
}

#[test]
fn event_ops_console_refuses_a_routable_address_without_credentials() {
    let out = ops_console("0.0.0.0:0", "event_delivery", &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "event-ops: refusing to listen on 0.0.0.0:0 without authentication: set \
         EVENT_OPS_CONSOLE_TOKEN, or EVENT_OPS_CONSOLE_USER and EVENT_OPS_CONSOLE_PASSWORD, \
         or listen on a loopback address such as 127.0.0.1\n"
    );
    let out = ops_console(
        "127.0.0.1:0",
        "event_delivery",
        &[("EVENT_OPS_CONSOLE_USER", "ops")],
    )
    .wait_with_output()
    .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "event-ops: EVENT_OPS_CONSOLE_USER is set without EVENT_OPS_CONSOLE_PASSWORD\n"
    );
    // A schema that was never migrated is reported at start, not on the
    // first page view.
    let schema = format!("never_{:016x}", fastrand::u64(..));
    let out = ops_console("127.0.0.1:0", &schema, &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("event-ops: cannot read the dead letters: ")
            && stderr.contains(&format!(
                "relation \"{schema}.dead_letters\" does not exist"
            )),
        "{stderr}"
    );
}

#[tokio::test]
async fn event_ops_console_listens_on_a_routable_address_with_a_token_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let db = TestDb::new().await;
    let mut child = ops_console(
        "0.0.0.0:0",
        db.tables.schema(),
        &[("EVENT_OPS_CONSOLE_TOKEN", "s3cret")],
    );
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .strip_prefix("event-ops console: http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    assert!(addr.ip().is_unspecified());
    let ask = |authorization: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", addr.port())).unwrap();
        write!(
            s,
            "GET /api/depth HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer.lines().next().unwrap_or("").to_owned()
    };
    assert_eq!(ask(""), "HTTP/1.1 401 Unauthorized");
    assert_eq!(ask("Authorization: Bearer s3cret\r\n"), "HTTP/1.1 200 OK");
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "console stopped\n");
    db.drop().await;
}

/// Debian's headless Chromium and its WebDriver, started for one test.
struct Browser {
    driver: std::process::Child,
    client: Option<fantoccini::Client>,
}

impl Browser {
    /// `None`, having said why, when Chromium is not installed here; in CI
    /// (`CI` set) its absence is a failure, since `.ci/run` installs it.
    async fn start() -> Option<Browser> {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        for path in [&chromium, &chromedriver] {
            if !std::path::Path::new(path).exists() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{path} is missing; .ci/run installs chromium and chromium-driver"
                );
                eprintln!(
                    "SKIPPED the browser test: {path} is not installed \
                     (apt-get install chromium chromium-driver)"
                );
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = std::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut browser = Browser {
            driver,
            client: None,
        };
        let profile = std::env::temp_dir().join(format!("console-chromium-{port}"));
        let capabilities: serde_json::Map<String, Value> = serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1440,1100", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }
        }))
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            let connected = fantoccini::ClientBuilder::new(
                hyper_util::client::legacy::connect::HttpConnector::new(),
            )
            .capabilities(capabilities.clone())
            .connect(&url)
            .await;
            match connected {
                Ok(client) => {
                    browser.client = Some(client);
                    return Some(browser);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!("chromedriver did not answer on {url} within 10 s");
    }

    fn client(&self) -> &fantoccini::Client {
        self.client.as_ref().unwrap()
    }

    async fn text(&self, css: &str) -> String {
        let found = self
            .client()
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(css))
            .await;
        match found {
            Ok(el) => el.text().await.unwrap(),
            Err(e) => panic!(
                "no `{css}` on the page ({e}); at {} it reads:\n{}",
                self.client().current_url().await.unwrap(),
                self.client().source().await.unwrap_or_default()
            ),
        }
    }

    async fn click(&self, css: &str) {
        self.client()
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` to click: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Presses the confirmation's button and waits for the page it
    /// redirects to (the one with the result).
    async fn confirm(&self) {
        self.click("#confirm-button").await;
        for _ in 0..100 {
            let url = self.client().current_url().await.unwrap();
            if url.query().is_some_and(|q| q.contains("done=")) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the action did not come back with its result");
    }

    async fn count(&self, css: &str) -> usize {
        self.client()
            .find_all(fantoccini::Locator::Css(css))
            .await
            .unwrap()
            .len()
    }

    /// Reloads until `css`'s text is `want` (the page refreshes itself
    /// while retried events wait, this just does not wait for it).
    async fn reload_until(&self, css: &str, want: &str) {
        for _ in 0..100 {
            let found = self.client().find(fantoccini::Locator::Css(css)).await.ok();
            if let Some(el) = found {
                if el.text().await.unwrap_or_default() == want {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.client().refresh().await.unwrap();
        }
        panic!("`{css}` never read `{want}`");
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            client.close().await.unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_an_operator_inspects_retries_discards_and_bulk_retries() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::new().await;
    let dlq = PgDeadLetters::new(db.pool.clone(), &db.tables);
    let hostile = completed("<script>alert('x')</script>", 1);
    let mut first = dead_letter(
        "certificate-service",
        &hostile,
        "certificate template missing",
    );
    first.attempts = 3;
    let hostile_id = dlq.put(first).await.unwrap();
    let broken = completed("broken_2", 2);
    dlq.put(dead_letter(
        "certificate-service",
        &broken,
        "certificate template missing",
    ))
    .await
    .unwrap();
    let mut rest = Vec::new();
    for n in 3..=12 {
        let e = completed(&format!("enr_{n}"), n);
        let id = dlq
            .put(dead_letter(
                "certificate-service",
                &e,
                "certificate template missing",
            ))
            .await
            .unwrap();
        rest.push((id, e));
    }
    for n in 13..=14 {
        dlq.put(dead_letter(
            "notification-service",
            &completed(&format!("enr_{n}"), n),
            "smtp: 554 relay refused",
        ))
        .await
        .unwrap();
    }
    let mut unreadable = dead_letter("billing-service", &completed("x", 0), "");
    unreadable.payload = b"\x00\x01 not an envelope".to_vec().into();
    unreadable.event_id = None;
    unreadable.event_type = Some("payment.captured".into());
    unreadable.error = "envelope: expected value at line 1 column 1".into();
    dlq.put(unreadable).await.unwrap();

    let running = Running::start(&db);
    let console = Console::new(PgReplay::new(db.pool.clone(), &db.tables))
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", console.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(console.serve(async {
        let _ = stopped.await;
    }));
    let c = browser.client();

    // Depth, and the breakdown by consumer and type with its states.
    c.goto(&base).await.unwrap();
    assert_eq!(browser.text("#total").await, "15 entries");
    let total = c.find(fantoccini::Locator::Css("#total")).await.unwrap();
    assert_eq!(
        total.attr("class").await.unwrap().as_deref(),
        Some("badge critical")
    );
    let mut breakdown = Vec::new();
    for row in c
        .find_all(fantoccini::Locator::Css("tr.depth"))
        .await
        .unwrap()
    {
        let attr = |name: &'static str| {
            let row = row.clone();
            async move { row.attr(name).await.unwrap().unwrap_or_default() }
        };
        breakdown.push((
            attr("data-consumer").await,
            attr("data-type").await,
            attr("data-depth").await,
            attr("data-state").await,
        ));
    }
    let row = |c: &str, t: &str, d: &str, s: &str| (c.into(), t.into(), d.into(), s.into());
    assert_eq!(
        breakdown,
        vec![
            row(
                "certificate-service",
                "enrollment.completed",
                "12",
                "critical"
            ),
            row(
                "notification-service",
                "enrollment.completed",
                "2",
                "warning"
            ),
            row("billing-service", "payment.captured", "1", "warning"),
        ]
    );
    assert_eq!(browser.count("tr.entry").await, 15);

    // Filter by consumer.
    c.goto(&format!("{base}/?consumer=notification-service"))
        .await
        .unwrap();
    assert_eq!(browser.count("tr.entry").await, 2);
    c.goto(&base).await.unwrap();

    // Open the entry whose payload holds a script: it is shown as text.
    browser.click(&format!("tr#{hostile_id} a")).await;
    let payload = browser.text("#payload").await;
    assert!(
        payload.contains("\"enrollmentId\": \"<script>alert('x')</script>\""),
        "{payload}"
    );
    assert_eq!(browser.text("#error").await, "certificate template missing");
    assert_eq!(browser.text("#class").await, "permanent");
    assert_eq!(browser.text("#attempts").await, "3");
    let raw = browser.text("#raw").await;
    assert!(raw.starts_with("00000000  7b 22"), "{raw}");
    let size = hostile.to_json_vec().unwrap().len();
    assert_eq!(raw.lines().count(), size.div_ceil(16));
    assert_eq!(
        browser.count("script").await,
        0,
        "no script element reached the DOM"
    );
    assert!(
        c.get_alert_text().await.is_err(),
        "an alert is open: the payload ran"
    );
    let shot = c.screenshot().await.unwrap();
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console.png"),
        &shot,
    )
    .unwrap();
    if let Ok(path) = std::env::var("CONSOLE_SCREENSHOT") {
        std::fs::write(path, &shot).unwrap();
    }

    // Retry it: confirm, see the result, the handler runs, the entry leaves.
    browser.click("#retry").await;
    let confirm = browser.text("#confirm").await;
    assert!(
        confirm.starts_with(&format!("Retry {hostile_id}?")),
        "{confirm}"
    );
    browser.confirm().await;
    assert_eq!(
        browser.text("#result .message").await,
        format!(
            "Retried {hostile_id}: its event went back to certificate-service's queue as a first delivery."
        )
    );
    browser.reload_until("#result [data-k=handled]", "1").await;
    assert_eq!(effects_of(&db, hostile.id().as_str()).await, 1);
    assert_eq!(browser.count(&format!("tr#{hostile_id}")).await, 0);
    assert_eq!(browser.text("#total").await, "14 entries");

    // Discard one.
    let (discarded, discarded_event) = &rest[0];
    c.goto(&format!("{base}/?entry={discarded}")).await.unwrap();
    browser.click("#discard").await;
    let confirm = browser.text("#confirm").await;
    assert!(
        confirm.starts_with(&format!("Discard {discarded} for good?")),
        "{confirm}"
    );
    browser.confirm().await;
    assert_eq!(
        browser.text("#result .message").await,
        format!("Discarded {discarded} for good.")
    );
    assert_eq!(browser.count(&format!("tr#{discarded}")).await, 0);
    assert!(dlq.get(*discarded).await.unwrap().is_none());

    // An operator's confirmation is open while someone else retries the
    // entry: the confirmation is refused with a clear message, and the
    // handler ran once.
    let (taken, taken_event) = &rest[1];
    c.goto(&format!("{base}/?entry={taken}&confirm=retry"))
        .await
        .unwrap();
    assert!(
        browser
            .text("#confirm")
            .await
            .starts_with(&format!("Retry {taken}?"))
    );
    let someone_else = PgReplay::new(db.pool.clone(), &db.tables);
    assert!(
        event_postgres::console::Replay::replay(&someone_else, *taken)
            .await
            .unwrap()
            .is_some()
    );
    browser.confirm().await;
    assert_eq!(
        browser.text("#result .message").await,
        format!(
            "{taken} is no longer in the dead letter queue: someone else retried or \
             discarded it (or it never existed). Nothing was done."
        )
    );
    let class = c.find(fantoccini::Locator::Css("#result")).await.unwrap();
    assert_eq!(
        class.attr("class").await.unwrap().as_deref(),
        Some("result failed")
    );
    for _ in 0..100 {
        if effects_of(&db, taken_event.id().as_str()).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(effects_of(&db, taken_event.id().as_str()).await, 1);

    // Bulk-retry the type for the certificate service: 9 left, of which
    // `broken_2` fails again.
    c.goto(&base).await.unwrap();
    browser
        .click("tr.depth[data-consumer='certificate-service'] a.bulk")
        .await;
    let confirm = browser.text("#confirm").await;
    assert!(
        confirm.starts_with("Retry all 9 entries of enrollment.completed for certificate-service?"),
        "{confirm}"
    );
    browser.confirm().await;
    assert_eq!(
        browser.text("#result .message").await,
        "Retried 9 entries of enrollment.completed for certificate-service."
    );
    browser.reload_until("#result [data-k=waiting]", "0").await;
    assert_eq!(browser.text("#result [data-k=retried]").await, "9");
    assert_eq!(browser.text("#result [data-k=handled]").await, "8");
    assert_eq!(browser.text("#result [data-k=failed-again]").await, "1");
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-bulk-retry.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    for (_, e) in &rest[1..] {
        // Once each: the one someone else retried was not retried again.
        assert_eq!(effects_of(&db, e.id().as_str()).await, 1);
    }
    assert_eq!(effects_of(&db, discarded_event.id().as_str()).await, 0);
    let back = c
        .find(fantoccini::Locator::Css(
            "tr.depth[data-consumer='certificate-service']",
        ))
        .await
        .unwrap();
    assert_eq!(back.attr("data-depth").await.unwrap().as_deref(), Some("1"));
    let again = dlq
        .list(&event_delivery::DeadLetterFilter::all().consumer("certificate-service"))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event_id.as_deref(), Some(broken.id().as_str()));
    assert_eq!(browser.count(&format!("tr#{}", again[0].id)).await, 1);

    browser.close().await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    running.stop().await;
    db.drop().await;
}
