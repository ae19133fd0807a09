//! Long handlers against the machine's JetStream server: a handler slower
//! than the ack wait keeps its message, because the subscriber sends
//! in-progress acks while it works.

mod common;

use common::*;
use event_delivery::{ConsumerBuilder, HandlerError, PublishAsync};
use event_nats::{NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::Publisher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_the_ack_wait_is_not_redelivered_while_it_works() {
    const ACK_WAIT: Duration = Duration::from_secs(1);
    const WORK: Duration = Duration::from_millis(3500);
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .ack_wait(ACK_WAIT)
        .subjects(Subjects::new(unique_prefix("progress")));
    assert!(topology.ensure(&js).await.unwrap().drift.is_empty());
    Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone()),
    )
    .publish(&completed("enr_1", 1))
    .await
    .unwrap();

    // Two instances of the service share the durable consumer: without
    // in-progress acks the message would go to one of them again after
    // the 1 s ack wait, long before the 3.5 s handler is done.
    let started = Arc::new(AtomicU32::new(0));
    let finished = Arc::new(AtomicU32::new(0));
    let mut runs = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..2 {
        let (started, finished) = (started.clone(), finished.clone());
        let consumer =
            ConsumerBuilder::named("certificate-service").handle(move |_e: CertificateInbound| {
                let (started, finished) = (started.clone(), finished.clone());
                async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(WORK).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                    Ok::<(), HandlerError>(())
                }
            });
        let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
            .await
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(stop);
        runs.push(tokio::spawn(sub.run(consumer, async {
            let _ = stopped.await;
        })));
    }
    assert!(
        until(Duration::from_secs(20), || finished.load(Ordering::SeqCst)
            >= 1)
        .await
    );
    // A late redelivery would start within one more ack wait.
    tokio::time::sleep(ACK_WAIT * 2).await;
    for stop in stops {
        stop.send(()).unwrap();
    }
    let mut processed = 0;
    for run in runs {
        processed += run.await.unwrap().processed;
    }
    let stream = js
        .get_stream(topology.subject_scheme().stream())
        .await
        .unwrap();
    let info = stream.consumer_info("certificate-service").await.unwrap();
    println!(
        "progress: handler {WORK:?} with ack wait {ACK_WAIT:?}: started {}, processed {processed}, redelivered {}, deliveries {}",
        started.load(Ordering::SeqCst),
        info.num_redelivered,
        info.delivered.consumer_sequence
    );
    assert_eq!(started.load(Ordering::SeqCst), 1, "handled once");
    assert_eq!(processed, 1);
    assert_eq!(info.delivered.consumer_sequence, 1, "delivered once");
    assert_eq!(info.num_redelivered, 0);
    assert_eq!(info.num_ack_pending, 0, "acked");
    assert_eq!(info.ack_floor.stream_sequence, 1);
    cleanup(&js, &topology).await;
}
