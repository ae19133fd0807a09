//! `event-ops console --nats`: the console over one consumer service's DLQ
//! stream, run as the binary against the machine's JetStream server, its
//! actions driven through the JSON API (`event_ops_nats.rs` checks the
//! page).

mod common;

use common::*;
use event_delivery::{DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters};
use event_nats::{NatsDeadLetters, Subjects, Topology};
use event_runtime::{ErrorClass, OffsetDateTime, Version};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

fn dead(key: &str, n: u32) -> DeadLetter {
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
        consumer: "certificate-service".into(),
        error: "certificate template missing".into(),
        class: ErrorClass::Permanent,
        attempts: 1,
        first_failure: now,
        last_failure: now,
    }
}

/// One HTTP/1.1 exchange: the status line and the body.
fn http(port: u16, method: &str, path: &str, headers: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or("").to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_serves_a_nats_dlq_stream_and_retries_through_it() {
    let prefix = format!("t_console_{}_{:08x}", std::process::id(), fastrand::u32(..));
    let subjects = Subjects::new(prefix.clone());
    let topology = Topology::new()
        .subjects(subjects.clone())
        .service("certificate-service", [("enrollment.completed", 1)])
        .service("notification-service", [("enrollment.completed", 1)]);
    let js = event_nats::connect(&nats_url()).await.unwrap();
    topology.ensure(&js).await.unwrap();
    let dlq = NatsDeadLetters::new(js.clone(), subjects.clone(), "certificate-service");
    let a = dlq.put(dead("enr_1", 1)).await.unwrap();
    dlq.put(dead("enr_2", 2)).await.unwrap();

    let console = |extra: &[&str]| {
        let mut args = vec!["console", "--listen", "127.0.0.1:0", "--nats"];
        let url = nats_url();
        args.push(&url);
        args.extend_from_slice(&["--subject-prefix", &prefix]);
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_event-ops"))
            .args(&args)
            .env_remove("DATABASE_URL")
            .env_remove("EVENT_OPS_CONSOLE_TOKEN")
            .env_remove("EVENT_OPS_CONSOLE_USER")
            .env_remove("EVENT_OPS_CONSOLE_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Two services have a DLQ stream: the console needs to be told which.
    let out = console(&[]).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "event-ops: the console shows one consumer's DLQ stream on NATS: pass --consumer \
         (one of certificate-service, notification-service)\n"
    );

    let mut child = console(&["--consumer", "certificate-service"]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = line
        .strip_prefix("event-ops console: http://127.0.0.1:")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    assert!(
        line.trim_end().ends_with(&format!(
            "(DLQ stream {} at {})",
            subjects.dlq_stream("certificate-service"),
            nats_url()
        )),
        "{line}"
    );
    let (status, body) = http(port, "GET", "/api/depth", "");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(json(&body)["total"], 2);
    let (_, body) = http(port, "GET", "/api/session", "");
    let csrf = json(&body)["csrf"].as_str().unwrap().to_owned();
    let token = format!("X-CSRF-Token: {csrf}\r\n");
    let (status, body) = http(port, "POST", &format!("/api/entries/{a}/retry"), &token);
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let (status, body) = http(port, "POST", &format!("/api/entries/{a}/retry"), &token);
    assert_eq!(status, "HTTP/1.1 409 Conflict");
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{a} is no longer"))
    );
    let (status, body) = http(
        port,
        "POST",
        "/api/retry?type=enrollment.completed&consumer=certificate-service",
        &token,
    );
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert_eq!(json(&body)["retried"], 1);
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
    // The two retries are on the service's retry subject, in the stream.
    let mut stream = js.get_stream(subjects.stream()).await.unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!(info.state.messages, 2);

    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    for s in topology.plan().streams {
        let _ = js.delete_stream(&s.name).await;
    }
}
