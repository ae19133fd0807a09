//! The dead letter queue: what an entry keeps, the operations, and a retry
//! after a contract fix.

mod common;

use common::*;
use event_delivery::{
    Bus, DeadLetterFilter, DeadLetters, HandlerError, InMemoryDeadLetters, Message, PublishAsync,
    Transport, consumer,
};
use event_runtime::{Delivery, ErrorClass, Publisher, Version};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[tokio::test(start_paused = true)]
async fn a_dead_letter_retried_after_a_contract_fix_is_decoded_again_and_handled() {
    let dlq = InMemoryDeadLetters::new();
    let bus = Bus::new();
    // The first release only knows major 2: a 1.0 event is a permanent
    // decode failure.
    bus.subscribe(
        consumer::<CertificateService>()
            .dead_letters(dlq.clone())
            .handle(|_e: V2OnlyInbound| async { Ok::<(), HandlerError>(()) }),
    );
    let event = completed("enr_1", 7);
    let bytes = event.to_json_vec().unwrap();
    Publisher::<EnrollmentService, _>::new(bus.clone())
        .publish(&event)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;

    let entries = dlq.list(&DeadLetterFilter::all()).await.unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(&*entry.payload, &bytes[..], "the original bytes, unchanged");
    assert_eq!(entry.event_id.as_deref(), Some(event.id().as_str()));
    assert_eq!(entry.event_type.as_deref(), Some("enrollment.completed"));
    assert_eq!(entry.version, Some(Version::new(1, 0)));
    assert_eq!(entry.tenant_id.as_deref(), Some("tenant_7f3c"));
    assert_eq!(entry.consumer, "certificate-service");
    assert_eq!(entry.class, ErrorClass::Permanent);
    assert_eq!(entry.attempts, 1);
    assert_eq!(
        entry.error,
        "enrollment.completed 1.0: no handler for this major version; handled: 2.x"
    );

    // Deploy the fix: the same consumer, now with both majors.
    let handled = Arc::new(AtomicU32::new(0));
    let seen = handled.clone();
    bus.subscribe(
        consumer::<CertificateService>()
            .dead_letters(dlq.clone())
            .handle(move |e: BothMajorsInbound| {
                let seen = seen.clone();
                async move {
                    if let BothMajorsInbound::EnrollmentCompleted(e) = e {
                        seen.store(e.data().seq, Ordering::SeqCst);
                    }
                    Ok::<(), HandlerError>(())
                }
            }),
    );
    let retried = bus
        .retry_dead_letters(&dlq, "certificate-service", "enrollment.completed")
        .await
        .unwrap();
    assert_eq!(retried, 1);
    let report = bus.shutdown().await;
    assert_eq!(handled.load(Ordering::SeqCst), 7);
    assert_eq!(report.consumers[0].1.dead_lettered, 1);
    assert_eq!(report.consumers[1].1.processed, 1);
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_malformed_envelope_is_dead_lettered_with_its_decode_error() {
    let dlq = InMemoryDeadLetters::new();
    let bus = Bus::new();
    bus.subscribe(
        consumer::<CertificateService>()
            .dead_letters(dlq.clone())
            .handle(|_e: CertificateInbound| async { Ok::<(), HandlerError>(()) }),
    );
    let mut json: serde_json::Value =
        serde_json::from_slice(&completed("enr_1", 1).to_json_vec().unwrap()).unwrap();
    json["data"]["seq"] = "seven".into();
    let bytes = serde_json::to_vec(&json).unwrap();
    bus.send(Message {
        event_type: "enrollment.completed",
        major: 1,
        id: "evt_x".into(),
        partition_key: None,
        delivery: Delivery::AtLeastOnce,
        payload: bytes.clone().into(),
    })
    .await
    .unwrap();
    bus.shutdown().await;
    let entry = &dlq.list(&DeadLetterFilter::all()).await.unwrap()[0];
    assert_eq!(&*entry.payload, &bytes[..]);
    assert_eq!(entry.class, ErrorClass::Permanent);
    assert!(entry.error.contains("data.seq"), "{}", entry.error);
}

#[tokio::test(start_paused = true)]
async fn operators_list_by_consumer_and_type_retry_one_discard_one_and_read_the_depth() {
    let dlq = InMemoryDeadLetters::new();
    let bus = Bus::new();
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let failing = fail.clone();
    bus.subscribe(
        consumer::<CertificateService>()
            .dead_letters(dlq.clone())
            .handle(move |_e: CertificateInbound| {
                let failing = failing.clone();
                async move {
                    if failing.load(Ordering::SeqCst) {
                        Err(HandlerError::permanent("template missing"))
                    } else {
                        Ok(())
                    }
                }
            }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for i in 0..3 {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;

    let mine = DeadLetterFilter::all()
        .consumer("certificate-service")
        .event_type("enrollment.completed");
    assert_eq!(dlq.depth(&mine).await.unwrap(), 3);
    assert_eq!(
        dlq.depth(&DeadLetterFilter::all().consumer("analytics-service"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        dlq.depth(&DeadLetterFilter::all().event_type("course.published"))
            .await
            .unwrap(),
        0
    );
    let entries = dlq.list(&mine).await.unwrap();
    assert!(dlq.discard(entries[0].id).await.unwrap());
    assert!(!dlq.discard(entries[0].id).await.unwrap());
    assert_eq!(
        dlq.get(entries[1].id).await.unwrap().unwrap().error,
        "template missing"
    );

    fail.store(false, Ordering::SeqCst);
    assert!(bus.retry_dead_letter(&dlq, entries[1].id).await.unwrap());
    assert!(!bus.retry_dead_letter(&dlq, entries[1].id).await.unwrap());
    let report = bus.shutdown().await;
    assert_eq!(report.consumers[0].1.processed, 1);
    let left = dlq.list(&DeadLetterFilter::all()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, entries[2].id);
}

#[tokio::test(start_paused = true)]
async fn retrying_for_a_consumer_that_is_not_subscribed_says_so_and_keeps_the_entry() {
    let dlq = InMemoryDeadLetters::new();
    let bus = Bus::new();
    bus.subscribe(
        consumer::<CertificateService>()
            .dead_letters(dlq.clone())
            .handle(|_e: CertificateInbound| async { Err::<(), _>(HandlerError::permanent("no")) }),
    );
    Publisher::<EnrollmentService, _>::new(bus.clone())
        .publish(&completed("enr_1", 1))
        .await
        .unwrap();
    bus.shutdown().await;
    let id = dlq.list(&DeadLetterFilter::all()).await.unwrap()[0].id;
    let err = bus.retry_dead_letter(&dlq, id).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "no consumer `certificate-service` is subscribed to the bus; subscribe it before retrying its dead letters"
    );
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 1);
}
