//! JetStream's last delivery of a message (`max_deliver`) when no earlier
//! delivery settled it: the handler's process crashed, twice. The message
//! goes to the DLQ stream, counted as a dead letter, instead of being
//! dropped by JetStream. Runs on tokio's current-thread runtime with a
//! recorder of its own, to read the pipeline's metrics.

mod common;

use common::*;
use event_delivery::summary::SummaryRecorder;
use event_delivery::{
    ConsumerBuilder, DeadLetterFilter, DeadLetters, HandlerError, PublishAsync, RetryPolicy,
};
use event_nats::{NatsDeadLetters, NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::{ErrorClass, Publisher};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn series(name: &str, outcome: &str) -> String {
    format!(
        "{name}{{consumer=\"certificate-service\",outcome=\"{outcome}\",type=\"enrollment.completed\"}}"
    )
}

#[tokio::test]
async fn a_message_whose_handler_crashed_on_every_delivery_reaches_the_dlq_once() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("lastdelivery")))
        .ack_wait(Duration::from_secs(1))
        .max_deliver(3);
    topology.ensure(&js).await.unwrap();
    let dlq = NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "certificate-service",
    );
    let publisher = Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone()),
    );
    let poisoned = completed("enr_1", 1);
    publisher.publish(&poisoned).await.unwrap();

    // While `broken`, the handler of enr_1 never returns: the process it
    // runs in is then killed (its task aborted), acking nothing.
    let broken = Arc::new(AtomicBool::new(true));
    let started = Arc::new(AtomicU32::new(0));
    let handled: Arc<Mutex<Vec<String>>> = Arc::default();
    // A fresh consumer per process, with its own in-memory store, as a
    // restarted process has.
    let instance = || {
        let (broken, started, handled) = (broken.clone(), started.clone(), handled.clone());
        ConsumerBuilder::named("certificate-service")
            .dead_letters(dlq.clone())
            // Attempts to spare: only JetStream's count ends this.
            .retry(RetryPolicy::default().unknown_attempts(10))
            .handle(move |e: CertificateInbound| {
                let (broken, started, handled) = (broken.clone(), started.clone(), handled.clone());
                async move {
                    let (key, _) = seq_of(&e);
                    if key == "enr_1" && broken.load(Ordering::SeqCst) {
                        started.fetch_add(1, Ordering::SeqCst);
                        std::future::pending::<()>().await;
                    }
                    handled.lock().unwrap().push(key);
                    Ok::<(), HandlerError>(())
                }
            })
    };
    for delivery in 1..=2 {
        let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
            .await
            .unwrap();
        let run = tokio::spawn(sub.run(instance(), std::future::pending::<()>()));
        assert!(
            until(WAIT, || started.load(Ordering::SeqCst) == delivery).await,
            "delivery {delivery} reached the handler"
        );
        run.abort();
        let _ = run.await;
    }

    // The third delivery is JetStream's last: it runs no handler and
    // dead-letters the message.
    let consumer = instance();
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer.clone(), async {
        let _ = stopped.await;
    }));
    assert!(
        until_async(WAIT, || async {
            dlq.depth(&DeadLetterFilter::all()).await.ok() == Some(1)
        })
        .await,
        "the message is in the DLQ stream"
    );
    let entry = dlq.list(&DeadLetterFilter::all()).await.unwrap()[0].clone();
    assert_eq!(entry.event_id.as_deref(), Some(poisoned.id().as_str()));
    assert_eq!(entry.attempts, 3);
    assert_eq!(entry.class, ErrorClass::Unknown);
    assert!(entry.error.contains("max_deliver"), "{}", entry.error);
    assert_eq!(started.load(Ordering::SeqCst), 2, "no handler ran on it");
    assert_eq!(consumer.stats().dead_lettered, 1);
    assert_eq!(consumer.stats().retries, 0);
    assert_eq!(
        recorder.counter(&series("events_consumed_total", "dead_lettered")),
        Some(1)
    );
    assert_eq!(
        recorder.counter(&series("events_consumed_total", "retried")),
        None
    );
    assert_eq!(
        recorder.gauge(
            "event_dead_letters{consumer=\"certificate-service\",type=\"enrollment.completed\"}"
        ),
        Some(1.0)
    );

    // Fixed and retried: handled once, nothing left anywhere.
    broken.store(false, Ordering::SeqCst);
    publisher.publish(&completed("enr_2", 2)).await.unwrap();
    assert!(dlq.retry(entry.id).await.unwrap());
    assert!(until(WAIT, || handled.lock().unwrap().len() == 2).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    let stats = run.await.unwrap();
    let mut handled = handled.lock().unwrap().clone();
    handled.sort();
    assert_eq!(handled, ["enr_1", "enr_2"], "each once");
    assert_eq!(stats.processed, 2);
    assert_eq!(dlq.depth(&DeadLetterFilter::all()).await.unwrap(), 0);
    let stream = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    for durable in ["certificate-service", "certificate-service_retry"] {
        let info = stream.consumer_info(durable).await.unwrap();
        assert_eq!(
            (info.num_pending, info.num_ack_pending),
            (0, 0),
            "{durable}"
        );
    }
    println!(
        "max_deliver 3, two crashed handlers: dead-lettered on delivery {}, retried, handled once",
        entry.attempts
    );
    cleanup(&js, &topology).await;
}

#[tokio::test]
async fn a_failure_on_the_last_delivery_that_runs_the_handler_is_dead_lettered_not_retried() {
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("lastrun")))
        .max_deliver(3);
    topology.ensure(&js).await.unwrap();
    let dlq = NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "certificate-service",
    );
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let consumer = ConsumerBuilder::named("certificate-service")
        .dead_letters(dlq.clone())
        // Five transient attempts by the policy; JetStream allows two runs.
        .retry(
            RetryPolicy::default()
                .transient_attempts(5)
                .backoff(Duration::from_millis(100), 2)
                .jitter(0.0),
        )
        .handle(move |_e: CertificateInbound| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(HandlerError::transient("still down"))
            }
        });
    Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone()),
    )
    .publish(&completed("enr_1", 1))
    .await
    .unwrap();
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    assert!(
        until_async(WAIT, || async {
            dlq.depth(&DeadLetterFilter::all()).await.ok() == Some(1)
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    let stats = run.await.unwrap();
    let entry = &dlq.list(&DeadLetterFilter::all()).await.unwrap()[0];
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!((entry.attempts, entry.class), (2, ErrorClass::Transient));
    assert_eq!(entry.error, "still down");
    assert_eq!((stats.retries, stats.dead_lettered), (1, 1));
    assert_eq!(
        recorder.counter(&series("events_consumed_total", "retried")),
        Some(1)
    );
    assert_eq!(
        recorder.counter(&series("events_consumed_total", "dead_lettered")),
        Some(1)
    );
    cleanup(&js, &topology).await;
}
