//! `Replay` on the DLQ stream, as the dead letter console uses it: of
//! concurrent retries of one entry exactly one republishes it, and the
//! consumer handles it once.

mod common;

use common::*;
use event_delivery::{
    ConsumerBuilder, DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, Replay,
};
use event_nats::{NatsDeadLetters, NatsSubscriber, Subjects, Topology};
use event_runtime::{ErrorClass, OffsetDateTime, Version};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn dead_letter(e: &event_runtime::Envelope<EnrollmentCompleted>) -> DeadLetter {
    let now = OffsetDateTime::now_utc();
    DeadLetter {
        id: DeadLetterId(0),
        payload: e.to_json_vec().unwrap().into(),
        partition_key: Some(e.data().enrollment_id.clone()),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_replays_of_one_entry_republish_it_once() {
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("replay")));
    topology.ensure(&js).await.unwrap();
    let dlq = Arc::new(NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "certificate-service",
    ));
    let one = completed("enr_1", 1);
    let id = dlq.put(dead_letter(&one)).await.unwrap();
    let more = [completed("enr_2", 2), completed("enr_3", 3)];
    for e in &more {
        dlq.put(dead_letter(e)).await.unwrap();
    }

    let handled = Arc::new(AtomicU32::new(0));
    let h = handled.clone();
    let consumer = ConsumerBuilder::named("certificate-service")
        .dead_letters((*dlq).clone())
        .handle(move |_e: CertificateInbound| {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                Ok::<(), event_delivery::HandlerError>(())
            }
        });
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));

    let tries: Vec<_> = (0..8)
        .map(|_| {
            let dlq = dlq.clone();
            tokio::spawn(async move { Replay::replay(&*dlq, id).await.unwrap() })
        })
        .collect();
    let mut won = Vec::new();
    for t in tries {
        if let Some(entry) = t.await.unwrap() {
            won.push(entry);
        }
    }
    assert_eq!(won.len(), 1, "one replay takes the entry");
    assert_eq!(won[0].event_id.as_deref(), Some(one.id().as_str()));
    assert!(
        until(Duration::from_secs(20), || handled.load(Ordering::SeqCst)
            == 1)
        .await
    );
    assert!(Replay::replay(&*dlq, id).await.unwrap().is_none());

    let all = Replay::replay_all(
        &*dlq,
        &DeadLetterFilter::all().event_type("enrollment.completed"),
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        until(Duration::from_secs(20), || handled.load(Ordering::SeqCst)
            == 3)
        .await
    );
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
    stop.send(()).unwrap();
    let stats = run.await.unwrap();
    assert_eq!(stats.processed, 3);
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_retries_of_one_entry_publish_it_once() {
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("retry8")))
        // The least window JetStream takes: the retry's message id hides a
        // second publish only inside it, the compare-and-set always
        // (the next test is one the window does not cover).
        .duplicate_window(Duration::from_millis(100));
    topology.ensure(&js).await.unwrap();
    let dlq = Arc::new(NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "certificate-service",
    ));
    let one = completed("enr_1", 1);
    let id = dlq.put(dead_letter(&one)).await.unwrap();
    let other = dlq.put(dead_letter(&completed("enr_2", 2))).await.unwrap();

    // Released together, so the reads overlap and every caller publishes.
    let start = Arc::new(tokio::sync::Barrier::new(8));
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let dlq = dlq.clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                dlq.retry(id).await.unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tries {
        won += u32::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "one retry reports it retried the entry");

    // What the stream holds is what counts: one message on the retry
    // subjects, pending on the retry consumer; no subscriber ran, so no
    // idempotency store hides a second one.
    let stream = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    let retry = stream
        .consumer_info("certificate-service_retry")
        .await
        .unwrap();
    println!(
        "8 concurrent retries of one entry: {won} won, {} stored",
        retry.num_pending
    );
    assert_eq!(retry.num_pending, 1);
    let mut info = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    assert_eq!(info.info().await.unwrap().state.messages, 1);
    let stored = stream
        .get_last_raw_message_by_subject(&format!(
            "{}._retry.certificate-service.*",
            topology.subject_scheme().prefix()
        ))
        .await;
    // A wildcard last-by-subject needs a newer server; the count above is
    // the check, this only shows the payload when the server answers.
    if let Ok(m) = stored {
        assert_eq!(&m.payload[..], &one.to_json_vec().unwrap()[..]);
    }
    // The entry is gone, the other one stays; a later retry of the gone
    // one does nothing.
    assert!(dlq.get(id).await.unwrap().is_none());
    assert!(dlq.get(other).await.unwrap().is_some());
    assert!(!dlq.retry(id).await.unwrap());
    assert_eq!(
        stream
            .consumer_info("certificate-service_retry")
            .await
            .unwrap()
            .num_pending,
        1
    );
    cleanup(&js, &topology).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_whose_publish_was_stored_before_a_crash_is_not_published_again() {
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("retrycrash")));
    topology.ensure(&js).await.unwrap();
    let subjects = topology.subject_scheme().clone();
    let dlq = NatsDeadLetters::new(js.clone(), subjects.clone(), "certificate-service");
    let one = completed("enr_1", 1);
    let id = dlq.put(dead_letter(&one)).await.unwrap();
    // A retry that published and stopped before its delete: the entry is
    // still in the DLQ stream and its retry subject holds the publish.
    let mut dlq_stream = js
        .get_stream(subjects.dlq_stream("certificate-service"))
        .await
        .unwrap();
    let raw = dlq_stream.get_raw_message(id.0).await.unwrap();
    let token = format!("{}-{}", raw.sequence, raw.time.unix_timestamp_nanos());
    js.publish(
        subjects.retry("certificate-service", &token),
        one.to_json_vec().unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    assert_eq!(dlq_stream.info().await.unwrap().state.messages, 1);

    assert!(
        !dlq.retry(id).await.unwrap(),
        "the stored publish was the retry"
    );
    assert!(dlq.get(id).await.unwrap().is_none(), "and it is removed");
    let retry = js
        .get_stream(subjects.stream())
        .await
        .unwrap()
        .consumer_info("certificate-service_retry")
        .await
        .unwrap();
    assert_eq!(retry.num_pending, 1, "published once");
    cleanup(&js, &topology).await;
}
