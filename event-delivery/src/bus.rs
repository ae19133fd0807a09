//! The in-process bus: no server, the embedded default.
//!
//! Every subscribed consumer service gets its own copy of each event it has
//! a contract for (fan-out), through its own bounded queue. A full queue
//! makes [`send`](Transport::send) wait: publishers slow down to the pace of
//! the slowest consumer, and nothing is dropped. [`Bus::shutdown`] stops
//! publishing, lets every consumer drain its queue and settle what it has
//! in flight, and reports what each did.

use crate::consumer::{Consumer, ConsumerStats, Handler, dead_letter_type, record_depth};
use crate::dead_letter::{DeadLetterFilter, DeadLetterId, DeadLetters};
use crate::store::ProcessedStore;
use crate::transport::{Incoming, Message, Subscriber, Transport};
use event_runtime::{Catalog, Delivery};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The default capacity of each consumer's queue.
pub const DEFAULT_CAPACITY: usize = 1024;

#[derive(Debug)]
struct BusMessage {
    payload: Arc<[u8]>,
    partition_key: Option<Arc<str>>,
    delivery: Delivery,
    attempt: u32,
}

#[derive(Debug, Clone)]
struct Subscription {
    consumer: &'static str,
    types: Arc<[&'static str]>,
    queue: mpsc::Sender<BusMessage>,
}

struct Runner {
    consumer: &'static str,
    task: JoinHandle<ConsumerStats>,
}

struct BusInner {
    capacity: usize,
    subscriptions: RwLock<Arc<[Subscription]>>,
    runners: Mutex<Vec<Runner>>,
    closed: AtomicBool,
    /// Messages a consumer handed back (nak) after its queue closed.
    left: AtomicU64,
}

/// The in-process bus. Clones share it.
///
/// ```
/// use event_delivery::{consumer, Bus, HandlerError, PublishAsync};
/// use event_runtime::{catalog, Envelope, Event, ProducedBy, Publisher, Service};
///
/// #[derive(Debug, Clone, Event)]
/// #[event(type = "course.published", version = "1.0", producer = "course-service")]
/// struct CoursePublished { course_id: String }
///
/// catalog! { enum SearchInbound { CoursePublished(CoursePublished) } }
///
/// struct CourseService;
/// impl Service for CourseService { const NAME: &'static str = "course-service"; }
/// impl ProducedBy<CourseService> for CoursePublished {}
/// struct SearchService;
/// impl Service for SearchService { const NAME: &'static str = "search-service"; }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let bus = Bus::new();
/// bus.subscribe(consumer::<SearchService>().handle(|event: SearchInbound| async move {
///     let SearchInbound::CoursePublished(e) = event;
///     println!("indexing {}", e.data().course_id);
///     Ok::<(), HandlerError>(())
/// }));
/// let publisher = Publisher::<CourseService, _>::new(bus.clone());
/// let event = Envelope::new(CoursePublished { course_id: "c_1".into() })
///     .tenant("t_1").correlation("req_1").build();
/// publisher.publish(&event).await.unwrap();
/// let report = bus.shutdown().await;
/// assert_eq!(report.consumers[0].1.processed, 1);
/// # });
/// ```
#[derive(Clone)]
pub struct Bus {
    inner: Arc<BusInner>,
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bus")
            .field("capacity", &self.inner.capacity)
            .field("closed", &self.inner.closed.load(AtomicOrdering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

/// Why the bus refused something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusError {
    /// The bus was shut down.
    Closed,
    /// No consumer of this name is subscribed to take a retried dead
    /// letter.
    NoConsumer(String),
    /// The dead letter storage failed.
    DeadLetters(String),
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusError::Closed => f.write_str("the bus is shut down"),
            BusError::NoConsumer(c) => write!(
                f,
                "no consumer `{c}` is subscribed to the bus; subscribe it before retrying its dead letters"
            ),
            BusError::DeadLetters(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BusError {}

/// What [`Bus::shutdown`] found: each consumer's counts, and the messages
/// handed back after the queues closed (none unless dead letter storage
/// failed during the drain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Each consumer run, in subscription order.
    pub consumers: Vec<(&'static str, ConsumerStats)>,
    /// Messages not settled.
    pub left: u64,
}

impl Bus {
    /// A bus whose consumer queues hold [`DEFAULT_CAPACITY`] messages.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A bus whose consumer queues hold `capacity` messages each.
    pub fn with_capacity(capacity: usize) -> Self {
        Bus {
            inner: Arc::new(BusInner {
                capacity: capacity.max(1),
                subscriptions: RwLock::new(Arc::from(Vec::new())),
                runners: Mutex::new(Vec::new()),
                closed: AtomicBool::new(false),
                left: AtomicU64::new(0),
            }),
        }
    }

    fn subscriptions(&self) -> Arc<[Subscription]> {
        self.inner
            .subscriptions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Subscribes `consumer` to the event types of its contract and starts
    /// it on a task. A consumer of the same name subscribed before is
    /// replaced (a deploy): it drains its queue and stops.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn subscribe<C, H, St, D>(&self, consumer: Consumer<C, H, St, D>)
    where
        C: Catalog + Send + 'static,
        H: Handler<C, St::Tx>,
        St: ProcessedStore,
        D: DeadLetters,
    {
        let (queue, rx) = mpsc::channel(self.inner.capacity);
        let name = consumer.name();
        let subscription = Subscription {
            consumer: name,
            types: consumer.event_types().into(),
            queue: queue.clone(),
        };
        {
            let mut subs = self
                .inner
                .subscriptions
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let mut next: Vec<Subscription> = subs
                .iter()
                .filter(|s| s.consumer != name)
                .cloned()
                .collect();
            next.push(subscription);
            *subs = next.into();
        }
        let subscriber = BusSubscriber {
            rx,
            back: Arc::new(Requeue {
                queue: queue.downgrade(),
                bus: self.inner.clone(),
            }),
        };
        drop(queue);
        let task = tokio::spawn(consumer.run(subscriber));
        self.inner
            .runners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Runner {
                consumer: name,
                task,
            });
    }

    async fn deliver(&self, consumer: &str, message: BusMessage) -> Result<(), BusError> {
        let queue = self
            .subscriptions()
            .iter()
            .find(|s| s.consumer == consumer)
            .map(|s| s.queue.clone())
            .ok_or_else(|| BusError::NoConsumer(consumer.to_owned()))?;
        queue.send(message).await.map_err(|_| BusError::Closed)
    }

    /// Takes one dead letter out of `dead_letters` and delivers its original
    /// bytes to the consumer now subscribed under its name, as a first
    /// delivery: decoded again against that consumer's contract. Returns
    /// whether the entry was there.
    pub async fn retry_dead_letter<D: DeadLetters>(
        &self,
        dead_letters: &D,
        id: DeadLetterId,
    ) -> Result<bool, BusError> {
        let err = |e: crate::DeadLetterError| BusError::DeadLetters(e.to_string());
        let Some(entry) = dead_letters.get(id).await.map_err(err)? else {
            return Ok(false);
        };
        let (consumer, types) = self.subscribed(&entry.consumer)?;
        let Some(entry) = dead_letters.take(id).await.map_err(err)? else {
            return Ok(false);
        };
        let event_type = dead_letter_type(&types, entry.event_type.as_deref());
        record_depth(dead_letters, consumer, &types, event_type).await;
        self.deliver(consumer, Self::redelivery(&entry)).await?;
        Ok(true)
    }

    /// Retries every dead letter of `consumer` of `event_type`, oldest
    /// first; returns how many.
    pub async fn retry_dead_letters<D: DeadLetters>(
        &self,
        dead_letters: &D,
        consumer: &str,
        event_type: &str,
    ) -> Result<usize, BusError> {
        let err = |e: crate::DeadLetterError| BusError::DeadLetters(e.to_string());
        let (consumer, types) = self.subscribed(consumer)?;
        let filter = DeadLetterFilter::all()
            .consumer(consumer)
            .event_type(event_type);
        let entries = dead_letters.take_all(&filter).await.map_err(err)?;
        if let Some(event_type) = types.iter().copied().find(|t| *t == event_type) {
            record_depth(dead_letters, consumer, &types, event_type).await;
        }
        let count = entries.len();
        for entry in &entries {
            self.deliver(consumer, Self::redelivery(entry)).await?;
        }
        Ok(count)
    }

    /// The name and event types of the consumer subscribed as `consumer`.
    fn subscribed(&self, consumer: &str) -> Result<(&'static str, Arc<[&'static str]>), BusError> {
        self.subscriptions()
            .iter()
            .find(|s| s.consumer == consumer)
            .map(|s| (s.consumer, s.types.clone()))
            .ok_or_else(|| BusError::NoConsumer(consumer.to_owned()))
    }

    fn redelivery(entry: &crate::DeadLetter) -> BusMessage {
        BusMessage {
            payload: entry.payload.clone(),
            partition_key: entry.partition_key.as_deref().map(Arc::from),
            delivery: Delivery::AtLeastOnce,
            attempt: 1,
        }
    }

    /// Stops publishing, waits for every consumer to drain its queue and
    /// settle what it has in flight (retry delays included), and reports.
    pub async fn shutdown(&self) -> ShutdownReport {
        self.inner.closed.store(true, AtomicOrdering::SeqCst);
        *self
            .inner
            .subscriptions
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::from(Vec::new());
        let runners =
            std::mem::take(&mut *self.inner.runners.lock().unwrap_or_else(|e| e.into_inner()));
        let mut consumers = Vec::with_capacity(runners.len());
        for runner in runners {
            // A runner that panicked settled nothing more; its counts are
            // lost with it, which the report shows as a missing consumer.
            if let Ok(stats) = runner.task.await {
                consumers.push((runner.consumer, stats));
            }
        }
        ShutdownReport {
            consumers,
            left: self.inner.left.load(AtomicOrdering::SeqCst),
        }
    }
}

impl Transport for Bus {
    type Error = BusError;

    async fn send(&self, message: Message) -> Result<(), BusError> {
        if self.inner.closed.load(AtomicOrdering::SeqCst) {
            return Err(BusError::Closed);
        }
        let subscriptions = self.subscriptions();
        for sub in subscriptions.iter() {
            if !sub.types.contains(&message.event_type) {
                continue;
            }
            let copy = BusMessage {
                payload: message.payload.clone(),
                partition_key: message.partition_key.clone(),
                delivery: message.delivery,
                attempt: 1,
            };
            sub.queue.send(copy).await.map_err(|_| BusError::Closed)?;
        }
        Ok(())
    }
}

struct BusSubscriber {
    rx: mpsc::Receiver<BusMessage>,
    back: Arc<Requeue>,
}

/// Where a delivery handed back (nak) goes: its consumer's queue, or, once
/// that is closed, the bus's count of messages left. One per subscriber,
/// so a delivery's reference is counted on a line that only its consumer's
/// workers touch, not on the bus's or the queue's, which every publish
/// touches.
struct Requeue {
    queue: mpsc::WeakSender<BusMessage>,
    bus: Arc<BusInner>,
}

impl Subscriber for BusSubscriber {
    type Incoming = BusDelivery;

    async fn next(&mut self) -> Option<BusDelivery> {
        let message = self.rx.recv().await?;
        Some(BusDelivery {
            message,
            back: self.back.clone(),
        })
    }
}

/// One delivery of the in-process bus.
pub struct BusDelivery {
    message: BusMessage,
    back: Arc<Requeue>,
}

impl Incoming for BusDelivery {
    fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    fn partition_key(&self) -> Option<&str> {
        self.message.partition_key.as_deref()
    }

    fn delivery(&self) -> Delivery {
        self.message.delivery
    }

    fn attempt(&self) -> u32 {
        self.message.attempt
    }

    async fn ack(self) {}

    async fn term(self) {}

    async fn nak(self, delay: Duration) {
        let BusDelivery { mut message, back } = self;
        message.attempt += 1;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let sent = match back.queue.upgrade() {
                Some(queue) => queue.send(message).await.is_ok(),
                None => false,
            };
            if !sent {
                back.bus.left.fetch_add(1, AtomicOrdering::SeqCst);
            }
        });
    }
}
