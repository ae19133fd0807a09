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
