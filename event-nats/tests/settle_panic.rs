//! A panic while a delivery is settled, outside the handler (here in the
//! dead letter store), ends that delivery only: the subscriber keeps
//! consuming the messages after it. Against the machine's JetStream server.

mod common;

use common::*;
use event_delivery::{
    ConsumerBuilder, DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters,
    HandlerError, PublishAsync,
};
use event_nats::{NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::Publisher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

/// A dead letter store that panics on every write.
struct Panicking(Arc<AtomicU32>);

impl DeadLetters for Panicking {
    async fn put(&self, _entry: DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("dead letter store is broken");
    }
    async fn list(&self, _f: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
        Ok(Vec::new())
    }
    async fn get(&self, _id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        Ok(None)
    }
    async fn take(&self, _id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        Ok(None)
    }
    async fn take_all(&self, _f: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
        Ok(Vec::new())
    }
    async fn discard(&self, _id: DeadLetterId) -> Result<bool, DeadLetterError> {
        Ok(false)
    }
    async fn depth(&self, _f: &DeadLetterFilter) -> Result<usize, DeadLetterError> {
        Ok(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_dead_letter_store_does_not_stop_the_subscriber() {
    let js = event_nats::connect(&nats_url()).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new(unique_prefix("settle_panic")));
    assert!(topology.ensure(&js).await.unwrap().drift.is_empty());
    let publisher = Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone()),
    );
    publisher.publish(&completed("enr_bad", 1)).await.unwrap();
    publisher.publish(&completed("enr_good", 2)).await.unwrap();
    publisher.publish(&completed("enr_good", 3)).await.unwrap();

    let puts = Arc::new(AtomicU32::new(0));
    let handled = Arc::new(AtomicU32::new(0));
    let h = handled.clone();
    let consumer = ConsumerBuilder::named("certificate-service")
        .dead_letters(Panicking(puts.clone()))
        .handle(move |e: CertificateInbound| {
            let h = h.clone();
            async move {
                if seq_of(&e).0 == "enr_bad" {
                    return Err(HandlerError::permanent("no certificate template"));
                }
                h.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    assert!(
        until(Duration::from_secs(20), || {
            puts.load(Ordering::SeqCst) >= 1 && handled.load(Ordering::SeqCst) == 2
        })
        .await,
        "dead letter writes {}, handled {}",
        puts.load(Ordering::SeqCst),
        handled.load(Ordering::SeqCst)
    );
    assert!(!run.is_finished(), "the subscriber stopped after the panic");
    stop.send(()).unwrap();
    run.await.expect("the subscriber's run panicked");
    cleanup(&js, &topology).await;
}
