//! event-ops against the machine's NATS JetStream server (`NATS_URL`
//! overrides 127.0.0.1:4222): `nats plan` and `dlq --nats`, run as the
//! binary, each test under its own subject prefix and streams.

mod common;

use common::*;
use event_delivery::{DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters};
use event_nats::async_nats::jetstream::consumer::pull;
use event_nats::async_nats::jetstream::{self, Context};
use event_nats::{Filtering, NatsDeadLetters, Subjects, Topology};
use event_runtime::{ErrorClass, OffsetDateTime, Version};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

fn unique(test: &str) -> String {
    format!(
        "t_ops_{test}_{}_{:08x}",
        std::process::id(),
        fastrand::u32(..)
    )
}

/// event-ops with `args`; no DATABASE_URL, so nothing goes to PostgreSQL.
fn ops(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_event-ops"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("event-ops runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

async fn js() -> Context {
    event_nats::connect(&nats_url()).await.unwrap()
}

async fn cleanup(js: &Context, topology: &Topology) {
    for s in topology.plan().streams {
        let _ = js.delete_stream(&s.name).await;
    }
}

/// A schema directory of two events: each consumer service consumes one
/// subject, which a 2.9 server can filter on.
fn schema_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("enrollment")).unwrap();
    std::fs::create_dir_all(dir.join("course")).unwrap();
    let schema = |ty: &str, version: &str, consumers: &[&str]| {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "A test event.",
            "x-event": {
                "type": ty,
                "version": version,
                "producer": "enrollment-service",
                "consumers": consumers.iter().map(|c| json!({"service": c, "reason": "tests"})).collect::<Vec<_>>(),
            },
            "type": "object",
            "properties": { "id": { "type": "string" } },
            "required": ["id"],
        })
        .to_string()
    };
    std::fs::write(
        dir.join("enrollment/enrollment.completed.v1.0.json"),
        schema(
            "enrollment.completed",
            "1.0",
            &["certificate-service", "notification-service"],
        ),
    )
    .unwrap();
    // The newest minor of a major is what the consumers read: 1.1 adds
    // none here, so the plan must not lose 1.0's consumers to it.
    std::fs::write(
        dir.join("enrollment/enrollment.completed.v1.1.json"),
        schema(
            "enrollment.completed",
            "1.1",
            &["certificate-service", "notification-service"],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("course/course.published.v1.0.json"),
        schema("course.published", "1.0", &["search-service"]),
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_plan_reports_missing_then_matching_then_drift_and_changes_nothing() {
    let prefix = unique("plan");
    let dir = schema_dir(&prefix);
    let url = nats_url();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "nats",
            "plan",
            "--schemas",
            dir.to_str().unwrap(),
            "--subject-prefix",
            &prefix,
            "--ack-wait",
            "10s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        ops(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let topology = Topology::new()
        .subjects(Subjects::new(prefix.clone()))
        .ack_wait(Duration::from_secs(10))
        .service("certificate-service", [("enrollment.completed", 1)])
        .service("notification-service", [("enrollment.completed", 1)])
        .service("search-service", [("course.published", 1)]);

    // Without a server: the plan alone, exit 0.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), topology.plan().to_string());

    // Nothing deployed: every stream and consumer missing, exit 5, and the
    // check created nothing.
    let out = run(&["--nats", &url]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "  missing  consumer {}/search-service\n",
            Subjects::new(prefix.clone()).stream()
        )),
        "{text}"
    );
    assert!(text.contains("10 missing"), "{text}");
    let js = js().await;
    assert!(
        js.get_stream(Subjects::new(prefix.clone()).stream())
            .await
            .is_err(),
        "plan is read-only"
    );

    // Deployed as planned: exit 0.
    let report = topology.ensure(&js).await.unwrap();
    assert_eq!(report.created.len(), 10);
    let out = run(&["--nats", &url, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["server"]["matches"], true);
    assert_eq!(v["server"]["unchanged"].as_array().unwrap().len(), 10);
    assert_eq!(v["consumers"].as_array().unwrap().len(), 6);
    assert_eq!(
        v["consumers"][0]["filterSubjects"],
        json!([format!("{prefix}.enrollment.completed.v1")])
    );
    let out = run(&["--nats", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("the server holds the plan\n"));

    // Deployed differently: reported, exit 5, left as deployed.
    let stream = js
        .get_stream(Subjects::new(prefix.clone()).stream())
        .await
        .unwrap();
    stream.delete_consumer("search-service").await.unwrap();
    stream
        .create_consumer(pull::Config {
            durable_name: Some("search-service".into()),
            filter_subject: format!("{prefix}.course.published.v1"),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(3),
            max_deliver: 10,
            max_ack_pending: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let out = run(&["--nats", &url, "--json"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["server"]["matches"], false);
    assert_eq!(
        v["server"]["drift"],
        json!([{
            "what": format!("consumer {}/search-service", Subjects::new(prefix.clone()).stream()),
            "field": "ack_wait",
            "planned": "10s",
            "deployed": "3s",
        }])
    );
    let info = stream.consumer_info("search-service").await.unwrap();
    assert_eq!(
        info.config.ack_wait,
        Duration::from_secs(3),
        "not overwritten"
    );

    // Bad input: a schema directory that is not one, a bad duration.
    let out = ops(&["nats", "plan", "--schemas", "/nonexistent/schemas"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("/nonexistent/schemas"),
        "{}",
        stderr(&out)
    );
    let out = ops(&[
        "nats",
        "plan",
        "--schemas",
        dir.to_str().unwrap(),
        "--ack-wait",
        "30",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no unit"), "{}", stderr(&out));
    let out = run(&["--ordered", "nobody"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));
    println!("nats plan: 10 missing, then 10 unchanged, then 1 drift (ack_wait 3s vs 10s)");
    cleanup(&js, &topology).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_plan_shows_what_ensure_creates_on_this_servers_version_for_the_bundled_schemas() {
    let prefix = unique("bundled");
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
    let url = nats_url();
    let run = |extra: &[&str]| {
        let mut a = vec![
            "nats",
            "plan",
            "--schemas",
            schemas,
            "--subject-prefix",
            &prefix,
        ];
        a.extend_from_slice(extra);
        ops(&a)
    };
    let js = js().await;
    // A request first: `connect` returns before the server announced
    // itself.
    js.client().flush().await.unwrap();
    let version = js.client().server_info().version;
    let filtering = Filtering::for_version(&version).unwrap();

    // Nothing deployed: the plan for this server, everything missing.
    let out = run(&["--nats", &url, "--json"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["server"]["version"], json!(version));
    let label = match filtering {
        Filtering::Subjects => "subjects",
        Filtering::Covering => "covering",
    };
    assert_eq!(v["filtering"], label);
    // The services that consume several types, and the topology of what
    // each handles, to ensure with.
    let mut topology = Topology::new().subjects(Subjects::new(prefix.clone()));
    let mut several = 0;
    for c in v["consumers"].as_array().unwrap() {
        let durable = c["durable"].as_str().unwrap();
        if durable.ends_with("_retry") {
            continue;
        }
        let handles: Vec<&str> = c["handles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        let filters = c["filterSubjects"].as_array().unwrap();
        if handles.len() > 1 {
            several += 1;
            match filtering {
                Filtering::Covering => {
                    assert_eq!(filters.len(), 1, "{c}");
                    assert!(filters[0].as_str().unwrap().contains('*'), "{c}");
                }
                Filtering::Subjects => assert_eq!(filters.len(), handles.len(), "{c}"),
            }
        }
        let events: Vec<(String, u32)> = handles
            .iter()
            .map(|h| {
                let rest = h.strip_prefix(&format!("{prefix}.")).unwrap();
                let (ty, major) = rest.rsplit_once(".v").unwrap();
                (ty.to_owned(), major.parse().unwrap())
            })
            .collect();
        topology = topology.service(durable, events.iter().map(|(t, m)| (t.as_str(), *m)));
    }
    assert!(several >= 3, "{v}");
    let text = stdout(&run(&["--nats", &url]));
    assert!(text.starts_with(&format!("for {filtering}\n")), "{text}");
    assert!(text.contains(&format!("(nats-server {version})")), "{text}");
    if filtering == Filtering::Covering {
        assert!(text.contains("  handles "), "{text}");
    }

    // Ensured with what the plan says each service handles: it holds on
    // this server, and the plan then matches it.
    let report = topology.ensure(&js).await.unwrap();
    assert!(report.matches(), "{report:?}");
    let out = run(&["--nats", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("the server holds the plan\n"));

    // Planned for another version than the server's: the other filters,
    // reported as drift, never changed.
    let other = match filtering {
        Filtering::Subjects => "2.9.10",
        Filtering::Covering => "2.10.0",
    };
    let out = run(&["--nats", &url, "--server-version", other]);
    assert_eq!(out.status.code(), Some(5), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("filter_subjects is deployed as"),
        "{}",
        stdout(&out)
    );
    let out = run(&["--server-version", "latest"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("--server-version latest"),
        "{}",
        stderr(&out)
    );
    println!(
        "nats plan of the bundled schemas on nats-server {version}: {several} consumers of several types, {label} filters"
    );
    cleanup(&js, &topology).await;
}

fn dead(consumer: &str, key: &str, n: u32) -> DeadLetter {
    let e = completed(key, n);
    let now = OffsetDateTime::now_utc();
    DeadLetter {
        id: DeadLetterId(0),
        payload: e.to_json_vec().unwrap().into(),
        partition_key: Some(key.into()),
        event_id: Some(e.id().as_str().into()),
        event_type: Some("enrollment.completed".into()),
        version: Some(Version::new(1, 0)),
        tenant_id: Some("tenant_a".into()),
        consumer: consumer.into(),
        error: "certificate template missing".into(),
        class: ErrorClass::Permanent,
        attempts: 3,
        first_failure: now,
        last_failure: now,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_commands_work_on_the_nats_dlq_streams_with_the_documented_exit_codes() {
    let prefix = unique("dlq");
    let subjects = Subjects::new(prefix.clone());
    let topology = Topology::new()
        .subjects(subjects.clone())
        .service("certificate-service", [("enrollment.completed", 1)])
        .service("notification-service", [("enrollment.completed", 1)]);
    let js = js().await;
    topology.ensure(&js).await.unwrap();
    let certs = NatsDeadLetters::new(js.clone(), subjects.clone(), "certificate-service");
    let notes = NatsDeadLetters::new(js.clone(), subjects.clone(), "notification-service");
    let a = certs
        .put(dead("certificate-service", "enr_1", 1))
        .await
        .unwrap();
    let b = certs
        .put(dead("certificate-service", "enr_2", 2))
        .await
        .unwrap();
    let c = notes
        .put(dead("notification-service", "enr_3", 3))
        .await
        .unwrap();
    let url = nats_url();
    let dlq = |args: &[&str]| {
        let mut v = vec!["dlq"];
        v.extend_from_slice(args);
        v.extend_from_slice(&["--nats", &url, "--subject-prefix", &prefix]);
        ops(&v)
    };

    // list: both consumer services' streams, or one.
    let out = dlq(&["list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_of(&out);
    let listed: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["consumer"].as_str().unwrap(), e["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("certificate-service", a.to_string().as_str()),
            ("certificate-service", b.to_string().as_str()),
            ("notification-service", c.to_string().as_str()),
        ]
    );
    let out = dlq(&["list", "--consumer", "notification-service"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("ID"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("certificate template missing"), "{text}");

    // stats: depth by consumer and type.
    let out = dlq(&["stats", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json_of(&out),
        json!([
            {"consumer": "certificate-service", "type": "enrollment.completed", "depth": 2},
            {"consumer": "notification-service", "type": "enrollment.completed", "depth": 1},
        ])
    );

    // show: an id is a stream sequence, so --consumer is needed with two
    // DLQ streams.
    let out = dlq(&["show", &a.to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("--consumer"), "{}", stderr(&out));
    let out = dlq(&[
        "show",
        &a.to_string(),
        "--consumer",
        "certificate-service",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["partitionKey"], "enr_1");
    assert_eq!(v["attempts"], 3);
    assert_eq!(v["class"], "permanent");
    assert_eq!(v["payload"]["data"]["enrollmentId"], "enr_1");
    let out = dlq(&["show", "dl_99", "--consumer", "certificate-service"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("no dead letter dl_99"),
        "{}",
        stderr(&out)
    );
    let out = dlq(&["show", "1", "--consumer", "billing-service"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("billing-service"), "{}", stderr(&out));
    let out = dlq(&["show", "one", "--consumer", "certificate-service"]);
    assert_eq!(out.status.code(), Some(2));

    // retry one: republished to the service's retry consumer, gone from
    // the DLQ.
    let out = dlq(&["retry", &a.to_string(), "--consumer", "certificate-service"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "moved 1 dead letter(s) back into their queues\n"
    );
    assert!(certs.get(a).await.unwrap().is_none());
    let events = js.get_stream(subjects.stream()).await.unwrap();
    let retry_consumer = events
        .consumer_info("certificate-service_retry")
        .await
        .unwrap();
    assert_eq!(retry_consumer.num_pending, 1);
    let notes_retry = events
        .consumer_info("notification-service_retry")
        .await
        .unwrap();
    assert_eq!(notes_retry.num_pending, 0);

    // retry by type, for one consumer.
    let out = dlq(&[
        "retry",
        "--type",
        "enrollment.completed",
        "--consumer",
        "notification-service",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_of(&out), json!({"retried": [c.to_string()]}));
    assert_eq!(notes.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
    let notes_retry = events
        .consumer_info("notification-service_retry")
        .await
        .unwrap();
    assert_eq!(notes_retry.num_pending, 1);

    // discard, then discard again: gone.
    let out = dlq(&[
        "discard",
        &b.to_string(),
        "--consumer",
        "certificate-service",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("discarded {b}\n"));
    let out = dlq(&[
        "discard",
        &b.to_string(),
        "--consumer",
        "certificate-service",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(certs.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
    let out = dlq(&["stats", "--json"]);
    assert_eq!(json_of(&out), json!([]));

    // The server: a URL that does not parse, one nobody answers on.
    let out = ops(&["dlq", "list", "--nats", "nats://[::1"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not parse"), "{}", stderr(&out));
    let out = ops(&["dlq", "list", "--nats", "127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot connect to NATS"),
        "{}",
        stderr(&out)
    );
    println!("dlq --nats: 3 listed over 2 DLQ streams, 1 retried by id, 1 by type, 1 discarded");
    cleanup(&js, &topology).await;
}

/// One plain HTTP/1.1 GET to the console, as a browser's first request.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_on_nats_shows_the_named_services_dlq_stream() {
    let prefix = unique("console");
    let subjects = Subjects::new(prefix.clone());
    let topology = Topology::new()
        .subjects(subjects.clone())
        .service("certificate-service", [("enrollment.completed", 1)])
        .service("notification-service", [("enrollment.completed", 1)]);
    let js = js().await;
    topology.ensure(&js).await.unwrap();
    let certs = NatsDeadLetters::new(js.clone(), subjects.clone(), "certificate-service");
    let notes = NatsDeadLetters::new(js.clone(), subjects.clone(), "notification-service");
    certs
        .put(dead("certificate-service", "enr_1", 1))
        .await
        .unwrap();
    certs
        .put(dead("certificate-service", "enr_2", 2))
        .await
        .unwrap();
    notes
        .put(dead("notification-service", "enr_3", 3))
        .await
        .unwrap();
    let url = nats_url();

    // Two services have a DLQ stream: the console must be told which.
    let out = ops(&[
        "console",
        "--listen",
        "127.0.0.1:0",
        "--nats",
        &url,
        "--subject-prefix",
        &prefix,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("pass --consumer"), "{}", stderr(&out));
    // --consumer without --nats is a usage error, not a PostgreSQL console.
    let out = ops(&["console", "--consumer", "certificate-service"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let mut console = Command::new(env!("CARGO_BIN_EXE_event-ops"))
        .args([
            "console",
            "--listen",
            "127.0.0.1:0",
            "--consumer",
            "certificate-service",
            "--nats",
            &url,
            "--subject-prefix",
            &prefix,
        ])
        .env_remove("DATABASE_URL")
        .env_remove("EVENT_OPS_CONSOLE_TOKEN")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(console.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let response = tokio::task::spawn_blocking(move || http_get(&addr, "/api/depth"))
        .await
        .unwrap();
    let _ = console.kill();
    let _ = console.wait();
    cleanup(&js, &topology).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
    // The body may be chunked; the JSON object is what lies between braces.
    let json = &body[body.find('{').unwrap()..=body.rfind('}').unwrap()];
    let depth: Value = serde_json::from_str(json).unwrap();
    assert_eq!(depth["total"], 2, "{depth}");
    assert_eq!(
        depth["breakdown"],
        json!([{"consumer": "certificate-service", "type": "enrollment.completed", "depth": 2, "state": "warning"}])
    );
}
