//! The consumer's pending count from JetStream, through the facade. The
//! test runs on tokio's current-thread runtime with its own recorder on
//! that thread, so the sampling task's gauge is read here.

mod common;

use common::*;
use event_delivery::summary::SummaryRecorder;
use event_delivery::{
    ConsumerBuilder, DeadLetterFilter, DeadLetters, HandlerError, InMemoryDeadLetters, PublishAsync,
};
use event_nats::{NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::Publisher;
use std::time::Duration;
use tokio::sync::oneshot;

#[tokio::test]
async fn the_pending_gauge_is_jetstreams_num_pending_sampled_while_running() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("pending")));
    topology.ensure(&js).await.unwrap();
    let publisher = Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone()),
    );
    for i in 0..5 {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    let gauge = || recorder.gauge("event_consumer_pending{consumer=\"certificate-service\"}");
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap()
        .pending_interval(Duration::from_millis(20));
    assert!(
        until_async(Duration::from_secs(20), || async {
            sub.record_pending().await.unwrap() == 5
        })
        .await,
        "five pending before any consumer runs"
    );
    assert_eq!(gauge(), Some(5.0));

    // Only the sampling task sets the gauge while the run lasts: it reads
    // 0 once all five are delivered.
    let consumer = ConsumerBuilder::named("certificate-service")
        .handle(|_: CertificateInbound| async { Ok::<(), HandlerError>(()) });
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer.clone(), async {
        let _ = stopped.await;
    }));
    assert!(
        until(Duration::from_secs(20), || consumer.stats().processed == 5).await,
        "processed {}",
        consumer.stats().processed
    );
    assert!(
        until(Duration::from_secs(20), || gauge() == Some(0.0)).await,
        "pending gauge {:?}",
        gauge()
    );
    stop.send(()).unwrap();
    run.await.unwrap();
    cleanup(&js, &topology).await;
}

/// The run loop reads the dead letter queue's depth while it runs, so an
/// entry taken out behind its back (another handle on the queue, as an
/// operator's tool in another process) shows in `event_dead_letters`.
#[tokio::test]
async fn the_dead_letter_gauge_is_read_again_while_running() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("dlq-depth")));
    topology.ensure(&js).await.unwrap();
    let publisher = Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone()),
    );
    for i in 0..2 {
        publisher
            .publish(&completed(&format!("enr_{i}"), i))
            .await
            .unwrap();
    }
    let dead_letters = InMemoryDeadLetters::new();
    let consumer = ConsumerBuilder::named("certificate-service")
        .dead_letters(dead_letters.clone())
        .dead_letter_depth_every(Duration::from_millis(50))
        .handle(|_: CertificateInbound| async {
            Err::<(), _>(HandlerError::permanent("no template"))
        });
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer.clone(), async {
        let _ = stopped.await;
    }));
    let gauge = || {
        recorder.gauge(
            "event_dead_letters{consumer=\"certificate-service\",type=\"enrollment.completed\"}",
        )
    };
    assert!(
        until(Duration::from_secs(20), || gauge() == Some(2.0)).await,
        "dead letter gauge {:?}",
        gauge()
    );
    let operator = dead_letters.clone();
    let entries = operator.list(&DeadLetterFilter::all()).await.unwrap();
    assert!(operator.take(entries[0].id).await.unwrap().is_some());
    assert!(
        until(Duration::from_secs(20), || gauge() == Some(1.0)).await,
        "dead letter gauge after a discard elsewhere {:?}",
        gauge()
    );
    stop.send(()).unwrap();
    run.await.unwrap();
    cleanup(&js, &topology).await;
}
