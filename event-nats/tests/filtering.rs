//! A service consuming several event types on a server without
//! `filter_subjects` (nats-server before 2.10, this machine's 2.9): its
//! one durable consumer filters on a wildcard covering its subjects, and
//! the subscriber acks the rest unhandled. Runs on tokio's current-thread
//! runtime with a recorder of its own, to read the `skipped` counts.

mod common;

use common::until_async;
use event_delivery::summary::SummaryRecorder;
use event_delivery::{
    ConsumerBuilder, DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, HandlerError,
    InMemoryStore, PublishAsync,
};
use event_nats::{Filtering, NatsDeadLetters, NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::{
    Catalog, Envelope, ErrorClass, Event, OffsetDateTime, ProducedBy, Publisher, Service, Version,
    catalog,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// An order was placed.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "order.placed",
    version = "1.0",
    producer = "order-service",
    ordering = "per-entity"
)]
struct OrderPlaced {
    #[event(partition)]
    order_id: String,
    seq: u32,
}

/// The same type at a major billing does not consume.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "order.placed",
    version = "2.0",
    producer = "order-service",
    ordering = "per-entity"
)]
struct OrderPlacedV2 {
    #[event(partition)]
    order_id: String,
    seq: u32,
}

/// An invoice was drafted for an order: another type at another major,
/// so the covering filter is `<prefix>.*.*.*`, which retry subjects match
/// too.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "invoice.drafted",
    version = "2.0",
    producer = "order-service",
    ordering = "per-entity"
)]
struct InvoiceDrafted {
    #[event(partition)]
    order_id: String,
    seq: u32,
}

/// An order shipped: billing does not consume it.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "order.shipped",
    version = "1.0",
    producer = "order-service",
    ordering = "per-entity"
)]
struct OrderShipped {
    #[event(partition)]
    order_id: String,
    seq: u32,
}

struct OrderService;
impl Service for OrderService {
    const NAME: &'static str = "order-service";
}
impl ProducedBy<OrderService> for OrderPlaced {}
impl ProducedBy<OrderService> for OrderPlacedV2 {}
impl ProducedBy<OrderService> for InvoiceDrafted {}
impl ProducedBy<OrderService> for OrderShipped {}

catalog! {
    /// What billing consumes: two types of the four on the stream.
    #[derive(Debug, Clone, PartialEq)]
    enum BillingInbound {
        OrderPlaced(OrderPlaced),
        InvoiceDrafted(InvoiceDrafted),
    }
}

catalog! {
    /// What shipping consumes, so its retries are on the stream too.
    #[derive(Debug, Clone, PartialEq)]
    enum ShippingInbound {
        OrderPlaced(OrderPlaced),
    }
}

/// (instance, key, seq, type), in the order handlers ran.
type Handled = (u32, String, u32, &'static str);

fn key_seq(e: &BillingInbound) -> (String, u32) {
    match e {
        BillingInbound::OrderPlaced(e) => (e.data().order_id.clone(), e.data().seq),
        BillingInbound::InvoiceDrafted(e) => (e.data().order_id.clone(), e.data().seq),
    }
}

fn recorded(recorder: &SummaryRecorder, ty: &str) -> u64 {
    recorder
        .counter(&format!(
            "events_consumed_total{{consumer=\"billing-service\",outcome=\"skipped\",type=\"{ty}\"}}"
        ))
        .unwrap_or(0)
}

#[tokio::test]
async fn a_covering_filter_delivers_the_services_types_in_order_per_key_and_acks_the_rest() {
    const KEYS: u32 = 3;
    const ROUNDS: u32 = 4;
    let recorder = SummaryRecorder::new();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let js = event_nats::connect(&common::nats_url()).await.unwrap();
    let prefix = common::unique_prefix("covering");
    let topology = Topology::new()
        .subjects(Subjects::new(prefix.clone()))
        .consumer::<BillingInbound>("billing-service")
        .consumer::<ShippingInbound>("shipping-service")
        .ordered("billing-service")
        // What ensure picks on this machine's 2.9 server; set here so the
        // test covers the fallback on a newer server too.
        .filtering(Filtering::Covering);

    let plan = topology.plan_for(Filtering::Covering);
    let billing = plan
        .consumers
        .iter()
        .find(|c| c.durable == "billing-service")
        .unwrap();
    assert_eq!(billing.filter_subjects, [format!("{prefix}.*.*.*")]);
    assert_eq!(
        billing.handles,
        [
            format!("{prefix}.invoice.drafted.v2"),
            format!("{prefix}.order.placed.v1")
        ]
    );
    assert!(plan.to_string().contains("acks the rest of its filter"));

    let first = topology.ensure(&js).await.unwrap();
    assert!(first.matches(), "{first:?}");
    assert_eq!(first.filtering, Some(Filtering::Covering));
    assert_eq!(first.created.len(), 7, "{first:?}");
    let deployed = js
        .get_stream(Subjects::new(prefix.clone()).stream())
        .await
        .unwrap()
        .consumer_info("billing-service")
        .await
        .unwrap()
        .config
        .clone();
    assert_eq!(deployed.filter_subject, format!("{prefix}.*.*.*"));
    assert!(deployed.filter_subjects.is_empty());
    // Idempotent: the second run creates nothing and sees no drift.
    let second = topology.ensure(&js).await.unwrap();
    assert!(second.created.is_empty(), "{second:?}");
    assert!(second.drift.is_empty(), "{second:?}");
    assert_eq!(second.unchanged.len(), 7);

    // Per key: placed, line, shipped, placed v2, in rounds; billing
    // consumes placed v1 and line only.
    let publisher = Publisher::<OrderService, _>::new(
        NatsTransport::new(js.clone()).subjects(topology.subject_scheme().clone()),
    );
    let mut seq = 0;
    for _ in 0..ROUNDS {
        for k in 0..KEYS {
            let order_id = format!("ord_{k}");
            publisher
                .publish(
                    &Envelope::new(OrderPlaced {
                        order_id: order_id.clone(),
                        seq,
                    })
                    .tenant("tenant_1")
                    .correlation("req_1")
                    .build(),
                )
                .await
                .unwrap();
            publisher
                .publish(
                    &Envelope::new(InvoiceDrafted {
                        order_id: order_id.clone(),
                        seq: seq + 1,
                    })
                    .tenant("tenant_1")
                    .correlation("req_1")
                    .build(),
                )
                .await
                .unwrap();
            publisher
                .publish(
                    &Envelope::new(OrderShipped {
                        order_id: order_id.clone(),
                        seq: seq + 2,
                    })
                    .tenant("tenant_1")
                    .correlation("req_1")
                    .build(),
                )
                .await
                .unwrap();
            publisher
                .publish(
                    &Envelope::new(OrderPlacedV2 {
                        order_id,
                        seq: seq + 3,
                    })
                    .tenant("tenant_1")
                    .correlation("req_1")
                    .build(),
                )
                .await
                .unwrap();
        }
        seq += 4;
    }
    // A dead letter of shipping retried to it: an `order.placed` billing
    // would handle, on a subject billing's `<prefix>.*.*.*` also covers.
    let shipping_dlq = NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "shipping-service",
    );
    let stray = Envelope::new(OrderPlaced {
        order_id: "ord_stray".into(),
        seq: 0,
    })
    .tenant("tenant_1")
    .correlation("req_1")
    .build();
    let now = OffsetDateTime::now_utc();
    let id = shipping_dlq
        .put(DeadLetter {
            id: DeadLetterId(0),
            payload: stray.to_json_vec().unwrap().into(),
            partition_key: Some("ord_stray".into()),
            event_id: Some(stray.id().as_str().into()),
            event_type: Some("order.placed".into()),
            version: Some(Version::new(1, 0)),
            tenant_id: None,
            consumer: "shipping-service".into(),
            error: "label printer offline".into(),
            class: ErrorClass::Transient,
            attempts: 5,
            first_failure: now,
            last_failure: now,
        })
        .await
        .unwrap();
    assert!(shipping_dlq.retry(id).await.unwrap());

    // Two billing instances compete on the one durable consumer.
    let billing_dlq = NatsDeadLetters::new(
        js.clone(),
        topology.subject_scheme().clone(),
        "billing-service",
    );
    let log: Arc<Mutex<Vec<Handled>>> = Arc::default();
    let store = InMemoryStore::new();
    let mut runs = Vec::new();
    for instance in 0..2u32 {
        let log = log.clone();
        let consumer = ConsumerBuilder::named("billing-service")
            .store(store.clone())
            .dead_letters(billing_dlq.clone())
            .handle(move |e: BillingInbound| {
                let log = log.clone();
                async move {
                    let (key, seq) = key_seq(&e);
                    tokio::time::sleep(Duration::from_millis(u64::from(
                        (seq * 7 + instance * 3) % 4,
                    )))
                    .await;
                    log.lock()
                        .unwrap()
                        .push((instance, key, seq, e.event_type()));
                    Ok::<(), HandlerError>(())
                }
            });
        let sub = NatsSubscriber::new(&js, &topology, "billing-service")
            .await
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        runs.push((
            stop,
            tokio::spawn(sub.run(consumer, async {
                let _ = stopped.await;
            })),
        ));
    }
    let stream = js
        .get_stream(Subjects::new(prefix.clone()).stream())
        .await
        .unwrap();
    // Every message of the stream settled: none pending, none unacked.
    assert!(
        until_async(Duration::from_secs(30), || async {
            let info = stream.consumer_info("billing-service").await.unwrap();
            info.num_pending == 0 && info.num_ack_pending == 0 && info.delivered.stream_sequence > 0
        })
        .await,
        "{:?}",
        stream.consumer_info("billing-service").await.unwrap()
    );
    let mut stats = Vec::new();
    for (stop, run) in runs {
        stop.send(()).unwrap();
        stats.push(run.await.unwrap());
    }

    let log = log.lock().unwrap().clone();
    let handled = (KEYS * ROUNDS * 2) as usize;
    assert_eq!(log.len(), handled, "exactly billing's events: {log:?}");
    assert!(
        log.iter().all(|(_, key, _, _)| key != "ord_stray"),
        "shipping's retry reached billing's handler"
    );
    for k in 0..KEYS {
        let key = format!("ord_{k}");
        let seqs: Vec<u32> = log
            .iter()
            .filter(|(_, kk, _, _)| *kk == key)
            .map(|(_, _, s, _)| *s)
            .collect();
        let want: Vec<u32> = (0..ROUNDS).flat_map(|r| [4 * r, 4 * r + 1]).collect();
        assert_eq!(seqs, want, "order of {key} across billing's two types");
    }
    let types: std::collections::BTreeSet<&str> = log.iter().map(|(_, _, _, t)| *t).collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        ["invoice.drafted", "order.placed"]
    );
    let processed: u64 = stats.iter().map(|s| s.processed).sum();
    let skipped: u64 = stats.iter().map(|s| s.skipped).sum();
    let others = u64::from(KEYS * ROUNDS * 2) + 1;
    assert_eq!(processed, handled as u64);
    // Shared consumer stats count the pipeline's skips too (none here):
    // each run adds its own acks of other subjects.
    assert_eq!(skipped, others, "{stats:?}");
    assert_eq!(
        recorded(&recorder, "order.shipped"),
        u64::from(KEYS * ROUNDS)
    );
    assert_eq!(
        recorded(&recorder, "order.placed"),
        u64::from(KEYS * ROUNDS)
    );
    assert_eq!(recorded(&recorder, "unknown"), 1, "shipping's retry");
    assert_eq!(
        billing_dlq.depth(&DeadLetterFilter::all()).await.unwrap(),
        0,
        "order.placed v2 is skipped, not dead-lettered as an unknown major"
    );
    println!(
        "covering filter {prefix}.*.*.*: {handled} handled in order per key over 2 instances, {others} acked unhandled"
    );
    for s in topology.plan().streams {
        let _ = js.delete_stream(&s.name).await;
    }
}

#[tokio::test]
async fn ensure_reads_the_filtering_from_the_servers_version() {
    let js = event_nats::connect(&common::nats_url()).await.unwrap();
    let prefix = common::unique_prefix("version");
    let topology = Topology::new()
        .subjects(Subjects::new(prefix.clone()))
        .consumer::<BillingInbound>("billing-service");
    let report = topology.ensure(&js).await.unwrap();
    let version = js.client().server_info().version;
    let want = Filtering::for_version(&version).unwrap();
    assert_eq!(report.filtering, Some(want), "server {version}");
    assert!(report.matches(), "{report:?}");
    let again = topology.ensure(&js).await.unwrap();
    assert!(
        again.created.is_empty() && again.drift.is_empty(),
        "{again:?}"
    );
    let info = js
        .get_stream(Subjects::new(prefix.clone()).stream())
        .await
        .unwrap()
        .consumer_info("billing-service")
        .await
        .unwrap()
        .config
        .clone();
    let plan = topology.plan_for(want);
    let mut deployed = info.filter_subjects.clone();
    if !info.filter_subject.is_empty() {
        deployed.push(info.filter_subject.clone());
    }
    assert_eq!(deployed, plan.consumers[0].filter_subjects);
    println!("server {version}: {want}; billing filters on {deployed:?}");
    for s in plan.streams {
        let _ = js.delete_stream(&s.name).await;
    }
}

#[test]
fn versions_before_2_10_filter_with_one_covering_subject() {
    assert_eq!(Filtering::for_version("2.9.10"), Some(Filtering::Covering));
    assert_eq!(Filtering::for_version("v2.9.25"), Some(Filtering::Covering));
    assert_eq!(Filtering::for_version("2.10.0"), Some(Filtering::Subjects));
    assert_eq!(
        Filtering::for_version("2.10.0-RC.1"),
        Some(Filtering::Subjects)
    );
    assert_eq!(Filtering::for_version("2.11.4"), Some(Filtering::Subjects));
    assert_eq!(Filtering::for_version("3.0.0"), Some(Filtering::Subjects));
    assert_eq!(Filtering::for_version(""), None);
    assert_eq!(Filtering::for_version("latest"), None);

    let topology = Topology::new()
        .service(
            "billing",
            [("enrollment.completed", 1), ("enrollment.started", 1)],
        )
        .service(
            "search",
            [("course.published", 1), ("enrollment.completed", 2)],
        )
        .service(
            "audit",
            [("course.published", 1), ("user.profile.updated", 1)],
        )
        .service("mail", [("user.created", 1)]);
    let filters = |f: Filtering| -> Vec<(String, Vec<String>)> {
        topology
            .plan_for(f)
            .consumers
            .into_iter()
            .filter(|c| !c.durable.ends_with("_retry"))
            .map(|c| (c.durable, c.filter_subjects))
            .collect()
    };
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        filters(Filtering::Covering),
        [
            ("audit".to_owned(), s(&["events.>"])),
            ("billing".to_owned(), s(&["events.enrollment.*.v1"])),
            ("mail".to_owned(), s(&["events.user.created.v1"])),
            ("search".to_owned(), s(&["events.*.*.*"])),
        ]
    );
    assert_eq!(
        filters(Filtering::Subjects)[1],
        (
            "billing".to_owned(),
            s(&[
                "events.enrollment.completed.v1",
                "events.enrollment.started.v1"
            ])
        )
    );
}
