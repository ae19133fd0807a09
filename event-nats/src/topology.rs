//! The broker topology, derived from who consumes what.

use crate::error::NatsError;
use crate::subject::Subjects;
use async_nats::jetstream::Context;
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::context::ConsumerInfoErrorKind;
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::stream::{self, StorageType};
use event_runtime::{Catalog, Contract};
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::time::Duration;

/// One consumer service: its name and the subjects it consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceSpec {
    name: String,
    events: BTreeSet<(String, u32)>,
    ordered: bool,
}

/// The streams and consumers of a catalog: one event stream holding every
/// event subject, one durable pull consumer per consumer service filtering
/// on the subjects of the events it consumes (instances of the service
/// share it: competing consumers), one more (`<service>_retry`) for the
/// dead letters retried to it, and one DLQ stream per consumer service.
///
/// A service consuming one event type filters with `filter_subject`, which
/// every JetStream server reads. A service consuming several filters with
/// `filter_subjects` on nats-server 2.10 or later; before 2.10 a consumer
/// takes one filter, so its filter is the smallest wildcard covering the
/// service's subjects and [`NatsSubscriber`](crate::NatsSubscriber) acks
/// the other messages it delivers without running the handler (see
/// [`Filtering`]). [`ensure`](Topology::ensure) reads which from the
/// server it is connected to; [`plan`](Topology::plan) is the plan for
/// 2.10 and [`plan_for`](Topology::plan_for) the plan for either.
///
/// ```
/// use event_nats::Topology;
/// let topology = Topology::new()
///     .service("certificate-service", [("enrollment.completed", 1)])
///     .service("analytics-service", [("enrollment.completed", 1), ("course.published", 1)]);
/// let plan = topology.plan();
/// assert_eq!(plan.consumers[0].durable, "analytics-service");
/// assert_eq!(
///     plan.consumers[0].filter_subjects,
///     ["events.course.published.v1", "events.enrollment.completed.v1"]
/// );
/// assert_eq!(plan.consumers[1].durable, "analytics-service_retry");
/// assert_eq!(plan.consumers[1].filter_subjects, ["events._retry.analytics-service.*"]);
///
/// // Before nats-server 2.10: one covering filter, and what it handles.
/// use event_nats::Filtering;
/// let plan = topology.plan_for(Filtering::Covering);
/// assert_eq!(plan.consumers[0].filter_subjects, ["events.*.*.v1"]);
/// assert_eq!(
///     plan.consumers[0].handles,
///     ["events.course.published.v1", "events.enrollment.completed.v1"]
/// );
/// println!("{plan}");
/// ```
#[derive(Debug, Clone)]
pub struct Topology {
    subjects: Subjects,
    services: Vec<ServiceSpec>,
    duplicate_window: Duration,
    replicas: usize,
    ack_wait: Duration,
    max_deliver: i64,
    max_ack_pending: i64,
    storage: StorageType,
    filtering: Option<Filtering>,
}

impl Default for Topology {
    fn default() -> Self {
        Topology::new()
    }
}

impl Topology {
    /// An empty topology under the default subjects (`events.…`): a 2 min
    /// duplicate window, 1 replica, file storage, a 30 s ack wait,
    /// `max_deliver` 10 and 1000 unacknowledged messages per consumer.
    pub fn new() -> Self {
        Topology {
            subjects: Subjects::default(),
            services: Vec::new(),
            duplicate_window: Duration::from_secs(120),
            replicas: 1,
            ack_wait: Duration::from_secs(30),
            max_deliver: 10,
            max_ack_pending: 1000,
            storage: StorageType::File,
            filtering: None,
        }
    }

    /// The topology of consumer services read from event contracts: every
    /// `(type, major, contract)` adds its event to the consumers the
    /// contract's `consumers` names. `Event::contract()` of each event of
    /// the catalog gives them.
    pub fn from_contracts<'a>(
        contracts: impl IntoIterator<Item = (&'a str, u32, &'a Contract)>,
    ) -> Self {
        let mut topology = Topology::new();
        for (event_type, major, contract) in contracts {
            for consumer in contract.consumers {
                topology = topology.service(consumer.service, [(event_type, major)]);
            }
        }
        topology
    }

    /// The topology of the consumer services a catalog declares: for the
    /// generated `CatalogEvent` (or any [`Catalog`]), every route adds its
    /// event to each consumer its contract names. The same as
    /// [`from_contracts`](Self::from_contracts) over the catalog's events.
    ///
    /// ```
    /// use event_nats::Topology;
    /// use event_runtime::{catalog, Event};
    ///
    /// /// A user completed a course.
    /// #[derive(Debug, Clone, PartialEq, Event)]
    /// #[event(type = "enrollment.completed", version = "1.0", producer = "enrollment-service",
    ///         consumer(service = "certificate-service", reason = "issues the certificate"))]
    /// struct EnrollmentCompleted { enrollment_id: String }
    ///
    /// catalog! {
    ///     #[derive(Debug, Clone, PartialEq)]
    ///     enum CatalogEvent { EnrollmentCompleted(EnrollmentCompleted) }
    /// }
    ///
    /// let plan = Topology::from_catalog::<CatalogEvent>().plan();
    /// assert_eq!(plan.consumers[0].durable, "certificate-service");
    /// assert_eq!(plan.consumers[0].filter_subjects, ["events.enrollment.completed.v1"]);
    /// ```
    pub fn from_catalog<C: Catalog>() -> Self {
        Topology::from_contracts(
            C::routes()
                .iter()
                .map(|r| (r.event_type, r.version.major(), r.contract)),
        )
    }

    /// Adds a consumer service consuming these `(type, major)` events
    /// (merged with what it had).
    pub fn service<'a>(
        mut self,
        name: &str,
        events: impl IntoIterator<Item = (&'a str, u32)>,
    ) -> Self {
        let events = events.into_iter().map(|(t, m)| (t.to_owned(), m));
        match self.services.iter_mut().find(|s| s.name == name) {
            Some(spec) => spec.events.extend(events),
            None => self.services.push(ServiceSpec {
                name: name.to_owned(),
                events: events.collect(),
                ordered: false,
            }),
        }
        self.services.sort_by(|a, b| a.name.cmp(&b.name));
        self
    }

    /// Adds a consumer service consuming the contracts of its inbound
    /// catalog `C` (the generated `…Inbound` enum).
    pub fn consumer<C: Catalog>(self, name: &str) -> Self {
        let events: Vec<_> = C::contracts()
            .iter()
            .map(|(t, v)| (*t, v.major()))
            .collect();
        self.service(name, events)
    }

    /// Orders the deliveries of `service` (added before) per entity across
    /// all its instances: its durable consumer gets `max_ack_pending` 1,
    /// so JetStream hands out the next message only once the one before is
    /// acked or termed, whichever instance holds it. Events of one key are
    /// then handled in stream order (and so are all others: this is the
    /// correct, narrow choice; see the README for partitioned subjects as
    /// the wider one).
    pub fn ordered(mut self, service: &str) -> Self {
        if let Some(spec) = self.services.iter_mut().find(|s| s.name == service) {
            spec.ordered = true;
        }
        self
    }

    /// Other subjects (a prefix per environment, or per test).
    pub fn subjects(mut self, subjects: Subjects) -> Self {
        self.subjects = subjects;
        self
    }

    /// The naming scheme.
    pub fn subject_scheme(&self) -> &Subjects {
        &self.subjects
    }

    /// The window in which a repeated `Nats-Msg-Id` is stored once.
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// Stream and consumer replicas: 3 on a 3-node cluster. The only
    /// change scaling out needs.
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    /// Filter consumers as `filtering` says instead of as the connected
    /// server's version allows: [`Filtering::Covering`] for a cluster in
    /// a rolling upgrade whose other nodes are older than the one
    /// [`ensure`](Self::ensure) is connected to.
    pub fn filtering(mut self, filtering: Filtering) -> Self {
        self.filtering = Some(filtering);
        self
    }

    /// How [`ensure`](Self::ensure) filters consumers on the server `js`
    /// is connected to: the setting of [`filtering`](Self::filtering), else
    /// [`Filtering::of`] the server.
    pub fn filtering_on(&self, js: &Context) -> Filtering {
        self.filtering.unwrap_or_else(|| Filtering::of(js))
    }

    /// Memory storage instead of file storage.
    pub fn memory_storage(mut self) -> Self {
        self.storage = StorageType::Memory;
        self
    }

    /// How long a delivery may go unacknowledged (in-progress acks extend
    /// it) before JetStream delivers it again.
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.ack_wait = wait;
        self
    }

    /// The most deliveries of one message (at least 2). The handler runs
    /// on all but the last: [`NatsSubscriber::run`](crate::NatsSubscriber::run)
    /// keeps the last delivery to dead-letter a message that no earlier
    /// delivery settled (a handler that crashed its process, or outlived
    /// the ack wait), so JetStream never gives up on a message outside
    /// the dead letter queue. A failure on the last delivery that runs the
    /// handler is dead-lettered whatever attempts the retry policy has
    /// left. Keep it above the retry policy's largest attempt count.
    pub fn max_deliver(mut self, max: u32) -> Self {
        self.max_deliver = i64::from(max.max(2));
        self
    }

    /// The most unacknowledged messages per consumer, over all instances.
    pub fn max_ack_pending(mut self, max: u32) -> Self {
        self.max_ack_pending = i64::from(max.max(1));
        self
    }

    /// The configured ack wait.
    pub fn configured_ack_wait(&self) -> Duration {
        self.ack_wait
    }

    fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.subjects.stream(),
            subjects: vec![self.subjects.stream_subjects()],
            duplicate_window: self.duplicate_window,
            num_replicas: self.replicas,
            storage: self.storage,
            ..Default::default()
        }
    }

    fn dlq_config(&self, service: &str) -> stream::Config {
        stream::Config {
            name: self.subjects.dlq_stream(service),
            subjects: vec![self.subjects.dlq(service)],
            duplicate_window: self.duplicate_window,
            num_replicas: self.replicas,
            storage: self.storage,
            ..Default::default()
        }
    }

    fn filters(&self, spec: &ServiceSpec) -> Vec<String> {
        spec.events
            .iter()
            .map(|(t, m)| self.subjects.event(t, *m))
            .collect()
    }

    /// The durable consumer of `service`'s retried dead letters.
    pub(crate) fn retry_durable(service: &str) -> String {
        format!("{service}_retry")
    }

    fn pull_config(
        &self,
        durable: String,
        filters: &[String],
        ordered: bool,
        filtering: Filtering,
    ) -> pull::Config {
        // One subject goes in `filter_subject`, which every JetStream server
        // reads; several need `filter_subjects` (nats-server 2.10 or later),
        // or, before 2.10, one wildcard covering them.
        let (filter_subject, filter_subjects) = match (filters, filtering) {
            ([one], _) => (one.clone(), Vec::new()),
            (_, Filtering::Subjects) => (String::new(), filters.to_vec()),
            (_, Filtering::Covering) => (covering(filters), Vec::new()),
        };
        pull::Config {
            durable_name: Some(durable),
            filter_subject,
            filter_subjects,
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            max_ack_pending: if ordered { 1 } else { self.max_ack_pending },
            num_replicas: self.replicas,
            ..Default::default()
        }
    }

    /// The consumers of one service, each with the subjects its deliveries
    /// are handled on: its events, and its retried dead letters.
    fn consumer_configs(
        &self,
        spec: &ServiceSpec,
        filtering: Filtering,
    ) -> [(pull::Config, Vec<String>); 2] {
        let events = self.filters(spec);
        let retries = vec![self.subjects.retries(&spec.name)];
        [
            (
                self.pull_config(spec.name.clone(), &events, spec.ordered, filtering),
                events,
            ),
            (
                self.pull_config(Self::retry_durable(&spec.name), &retries, false, filtering),
                retries,
            ),
        ]
    }

    /// The event subjects `service` handles, if the topology lists it:
    /// what its subscriber hands to the pipeline, acking the rest.
    pub(crate) fn handled_subjects(&self, service: &str) -> Option<HashSet<String>> {
        self.services
            .iter()
            .find(|s| s.name == service)
            .map(|spec| self.filters(spec).into_iter().collect())
    }

    /// What [`ensure`](Self::ensure) creates on nats-server 2.10 or later
    /// (or as [`filtering`](Self::filtering) says):
    /// [`plan_for`](Self::plan_for)`(Filtering::Subjects)`.
    pub fn plan(&self) -> Plan {
        self.plan_for(self.filtering.unwrap_or(Filtering::Subjects))
    }

    /// What [`ensure`](Self::ensure) creates on a server that filters
    /// consumers as `filtering` says; [`Filtering::of`] reads it from a
    /// connection, [`Filtering::for_version`] from a version.
    pub fn plan_for(&self, filtering: Filtering) -> Plan {
        let stream = |c: stream::Config| StreamPlan {
            name: c.name,
            subjects: c.subjects,
            duplicate_window: c.duplicate_window,
            replicas: c.num_replicas,
        };
        Plan {
            filtering,
            streams: std::iter::once(self.stream_config())
                .chain(self.services.iter().map(|s| self.dlq_config(&s.name)))
                .map(stream)
                .collect(),
            consumers: self
                .services
                .iter()
                .flat_map(|s| self.consumer_configs(s, filtering))
                .map(|(c, handles)| ConsumerPlan {
                    handles,
                    stream: self.subjects.stream(),
                    durable: c.durable_name.unwrap_or_default(),
                    filter_subjects: if c.filter_subject.is_empty() {
                        c.filter_subjects
                    } else {
                        vec![c.filter_subject]
                    },
                    ack_wait: c.ack_wait,
                    max_deliver: c.max_deliver,
                    max_ack_pending: c.max_ack_pending,
                })
                .collect(),
        }
    }

    /// Creates what is missing; leaves what is deployed as planned alone;
    /// reports what is deployed differently in [`EnsureReport::drift`],
    /// never overwriting it. Running it twice creates nothing the second
    /// time.
    pub async fn ensure(&self, js: &Context) -> Result<EnsureReport, NatsError> {
        let mut report = EnsureReport::default();
        self.survey(js, true, &mut report).await?;
        Ok(report)
    }

    /// Compares the server with the plan without changing anything: what
    /// [`ensure`](Self::ensure) would create is in [`EnsureReport::missing`],
    /// what it would leave alone in `unchanged`, what is deployed
    /// differently in `drift`; `created` stays empty.
    pub async fn check(&self, js: &Context) -> Result<EnsureReport, NatsError> {
        let mut report = EnsureReport::default();
        self.survey(js, false, &mut report).await?;
        Ok(report)
    }

    /// Walks the plan against the server; creates what is missing only
    /// when `create`.
    async fn survey(
        &self,
        js: &Context,
        create: bool,
        report: &mut EnsureReport,
    ) -> Result<(), NatsError> {
        let mut configs = vec![self.stream_config()];
        configs.extend(self.services.iter().map(|s| self.dlq_config(&s.name)));
        for config in configs {
            self.ensure_stream(js, config, create, report).await?;
        }
        // Read after the stream requests above, which waited for the
        // connection: before it, the client knows no server.
        let filtering = self.filtering_on(js);
        report.filtering = Some(filtering);
        let consumers = self
            .services
            .iter()
            .flat_map(|s| self.consumer_configs(s, filtering))
            .map(|(c, _)| c);
        let stream = match js.get_stream(self.subjects.stream()).await {
            Ok(stream) => stream,
            // Only when checking: `ensure_stream` created it otherwise.
            Err(e) if !create && is_stream_not_found(&e) => {
                for want in consumers {
                    report.missing.push(format!(
                        "consumer {}/{}",
                        self.subjects.stream(),
                        want.durable_name.unwrap_or_default()
                    ));
                }
                return Ok(());
            }
            Err(e) => {
                return Err(NatsError::new(
                    format!("reading stream {}", self.subjects.stream()),
                    e,
                ));
            }
        };
        for want in consumers {
            let durable = want.durable_name.clone().unwrap_or_default();
            let what = format!("consumer {}/{durable}", self.subjects.stream());
            let mut want_filters = want.filter_subjects.clone();
            if !want.filter_subject.is_empty() {
                want_filters.push(want.filter_subject.clone());
            }
            want_filters.sort();
            match stream.consumer_info(&durable).await {
                Ok(info) => {
                    let have = &info.config;
                    let mut have_filters = have.filter_subjects.clone();
                    if !have.filter_subject.is_empty() {
                        have_filters.push(have.filter_subject.clone());
                    }
                    have_filters.sort();
                    let mut differs = |field: &'static str, want: String, have: String| {
                        if want != have {
                            report.drift.push(Drift {
                                what: what.clone(),
                                field,
                                planned: want,
                                deployed: have,
                            });
                        }
                    };
                    differs(
                        "filter_subjects",
                        format!("{want_filters:?}"),
                        format!("{have_filters:?}"),
                    );
                    differs(
                        "ack_wait",
                        format!("{:?}", want.ack_wait),
                        format!("{:?}", have.ack_wait),
                    );
                    differs(
                        "max_deliver",
                        want.max_deliver.to_string(),
                        have.max_deliver.to_string(),
                    );
                    differs(
                        "max_ack_pending",
                        want.max_ack_pending.to_string(),
                        have.max_ack_pending.to_string(),
                    );
                    differs(
                        "ack_policy",
                        format!("{:?}", want.ack_policy),
                        format!("{:?}", have.ack_policy),
                    );
                    report.unchanged.push(what);
                }
                Err(e)
                    if matches!(e.kind(), ConsumerInfoErrorKind::NotFound)
                        || matches!(e.kind(), ConsumerInfoErrorKind::JetStream(ref j) if j.error_code() == ErrorCode::CONSUMER_NOT_FOUND) =>
                {
                    if create {
                        stream
                            .create_consumer(want)
                            .await
                            .map_err(|e| NatsError::new(format!("creating {what}"), e))?;
                        report.created.push(what);
                    } else {
                        report.missing.push(what);
                    }
                }
                Err(e) => return Err(NatsError::new(format!("reading {what}"), e)),
            }
        }
        let drift = std::mem::take(&mut report.drift);
        report
            .unchanged
            .retain(|u| !drift.iter().any(|d| &d.what == u));
        report.drift = drift;
        Ok(())
    }

    async fn ensure_stream(
        &self,
        js: &Context,
        want: stream::Config,
        create: bool,
        report: &mut EnsureReport,
    ) -> Result<(), NatsError> {
        let what = format!("stream {}", want.name);
        match js.get_stream(&want.name).await {
            Ok(mut stream) => {
                let have = &stream
                    .info()
                    .await
                    .map_err(|e| NatsError::new(format!("reading {what}"), e))?
                    .config;
                let mut differs = |field: &'static str, want: String, have: String| {
                    if want != have {
                        report.drift.push(Drift {
                            what: what.clone(),
                            field,
                            planned: want,
                            deployed: have,
                        });
                    }
                };
                differs(
                    "subjects",
                    format!("{:?}", want.subjects),
                    format!("{:?}", have.subjects),
                );
                differs(
                    "duplicate_window",
                    format!("{:?}", want.duplicate_window),
                    format!("{:?}", have.duplicate_window),
                );
                differs(
                    "num_replicas",
                    want.num_replicas.to_string(),
                    have.num_replicas.to_string(),
                );
                differs(
                    "storage",
                    format!("{:?}", want.storage),
                    format!("{:?}", have.storage),
                );
                if !report.drift.iter().any(|d| d.what == what) {
                    report.unchanged.push(what);
                }
                Ok(())
            }
            Err(e) if is_stream_not_found(&e) => {
                if create {
                    js.create_stream(want)
                        .await
                        .map_err(|e| NatsError::new(format!("creating {what}"), e))?;
                    report.created.push(what);
                } else {
                    report.missing.push(what);
                }
                Ok(())
            }
            Err(e) => Err(NatsError::new(format!("reading {what}"), e)),
        }
    }
}

/// The smallest subject pattern covering every one of `subjects` (two or
/// more): token by token the same where they agree and `*` where they
/// differ when they have as many tokens; else the tokens they share, then
/// `>`. `events.enrollment.completed.v1` and `events.course.published.v1`
/// give `events.*.*.v1`.
pub(crate) fn covering(subjects: &[String]) -> String {
    let split: Vec<Vec<&str>> = subjects.iter().map(|s| s.split('.').collect()).collect();
    let Some(first) = split.first() else {
        return String::new();
    };
    if split.iter().all(|t| t.len() == first.len()) {
        return (0..first.len())
            .map(|i| {
                if split.iter().all(|t| t[i] == first[i]) {
                    first[i]
                } else {
                    "*"
                }
            })
            .collect::<Vec<_>>()
            .join(".");
    }
    // `>` stands for one token or more: keep at most all but the last
    // token of the shortest.
    let shortest = split.iter().map(Vec::len).min().unwrap_or(1);
    let shared = (0..shortest - 1)
        .take_while(|&i| split.iter().all(|t| t[i] == first[i]))
        .count();
    let mut out: Vec<&str> = first[..shared].to_vec();
    out.push(">");
    out.join(".")
}

/// How a server filters a durable consumer: what the plan's consumers
/// look like on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filtering {
    /// nats-server 2.10 or later: `filter_subjects`, so the consumer of a
    /// service delivers exactly the subjects of the events it consumes.
    Subjects,
    /// Before 2.10: one `filter_subject`. A service consuming several
    /// event types filters on the smallest wildcard covering their
    /// subjects ([`ConsumerPlan::filter_subjects`]); its subscriber hands
    /// the pipeline only the subjects it consumes
    /// ([`ConsumerPlan::handles`]) and acks the others without running
    /// the handler, counted as `skipped` in `events_consumed_total`. Still
    /// one durable consumer per service, in stream order, so instances
    /// compete and per-key order holds across the service's event types;
    /// the cost is the skipped deliveries, and a `num_pending` that counts
    /// them.
    Covering,
}

impl Filtering {
    /// How a server of this version (`2.9.10`, `v2.10.0-RC.1`) filters;
    /// `None` for a version that does not parse.
    pub fn for_version(version: &str) -> Option<Filtering> {
        let v = version.trim().trim_start_matches('v');
        let mut parts = v.split(['.', '-']);
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        Some(if (major, minor) >= (2, 10) {
            Filtering::Subjects
        } else {
            Filtering::Covering
        })
    }

    /// How the server `js` is connected to filters, from the version it
    /// announced; [`Covering`](Filtering::Covering), which every server
    /// reads, when it announced none that parses (not connected yet).
    pub fn of(js: &Context) -> Filtering {
        Filtering::for_version(&js.client().server_info().version).unwrap_or(Filtering::Covering)
    }
}

impl fmt::Display for Filtering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Filtering::Subjects => "nats-server 2.10 or later (filter_subjects)",
            Filtering::Covering => {
                "nats-server before 2.10 (one filter_subject: a covering wildcard, the subscriber acks what the service does not consume)"
            }
        })
    }
}

fn is_stream_not_found(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), GetStreamErrorKind::JetStream(ref j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

/// What [`Topology::ensure`] found and did, or what [`Topology::check`]
/// found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnsureReport {
    /// How the server filters consumers, read from the connection once the
    /// streams were read: the plan compared is
    /// [`plan_for`](Topology::plan_for) it.
    pub filtering: Option<Filtering>,
    /// Created now: `stream EVENTS`, `consumer EVENTS/certificate-service`.
    pub created: Vec<String>,
    /// Not deployed, and left so: what `ensure` would create (only
    /// [`Topology::check`] leaves anything missing).
    pub missing: Vec<String>,
    /// Deployed as planned.
    pub unchanged: Vec<String>,
    /// Deployed differently from the plan; left as deployed.
    pub drift: Vec<Drift>,
}

/// A deployed setting that differs from the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The stream or consumer.
    pub what: String,
    /// The setting.
    pub field: &'static str,
    /// What the topology plans.
    pub planned: String,
    /// What the server has.
    pub deployed: String,
}

impl EnsureReport {
    /// Whether the server holds exactly the plan: nothing missing, nothing
    /// deployed differently.
    pub fn matches(&self) -> bool {
        self.missing.is_empty() && self.drift.is_empty()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} is deployed as {} but planned as {}; left as deployed (change it on the server, or delete it and ensure again)",
            self.what, self.field, self.deployed, self.planned
        )
    }
}

/// A stream of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPlan {
    /// The stream's name.
    pub name: String,
    /// Its subjects.
    pub subjects: Vec<String>,
    /// Its duplicate window (zero: the server's default).
    pub duplicate_window: Duration,
    /// Its replicas.
    pub replicas: usize,
}

/// A durable pull consumer of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerPlan {
    /// The stream it reads.
    pub stream: String,
    /// Its durable name: the consumer service.
    pub durable: String,
    /// The subjects it filters on: exactly those it handles, or on a server
    /// before 2.10 one wildcard covering them.
    pub filter_subjects: Vec<String>,
    /// The subjects whose deliveries its subscriber hands to the pipeline;
    /// it acks the others its filter delivers, unhandled.
    pub handles: Vec<String>,
    /// Its ack wait.
    pub ack_wait: Duration,
    /// Its `max_deliver`.
    pub max_deliver: i64,
    /// Its `max_ack_pending`.
    pub max_ack_pending: i64,
}

/// What [`Topology::ensure`] would create; `Display` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The server the plan is for.
    pub filtering: Filtering,
    /// The event stream, then one DLQ stream per consumer service.
    pub streams: Vec<StreamPlan>,
    /// One durable consumer per consumer service, by name.
    pub consumers: Vec<ConsumerPlan>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "for {}", self.filtering)?;
        for s in &self.streams {
            write!(f, "stream {} subjects {}", s.name, s.subjects.join(","))?;
            if !s.duplicate_window.is_zero() {
                write!(f, " duplicate_window {:?}", s.duplicate_window)?;
            }
            writeln!(f, " replicas {}", s.replicas)?;
        }
        for c in &self.consumers {
            writeln!(
                f,
                "consumer {}/{} (durable, pull) ack_wait {:?} max_deliver {} max_ack_pending {}",
                c.stream, c.durable, c.ack_wait, c.max_deliver, c.max_ack_pending
            )?;
            for s in &c.filter_subjects {
                writeln!(f, "  filter {s}")?;
            }
            if c.handles != c.filter_subjects {
                for s in &c.handles {
                    writeln!(f, "  handles {s}")?;
                }
                writeln!(f, "  acks the rest of its filter unhandled (skipped)")?;
            }
        }
        Ok(())
    }
}
