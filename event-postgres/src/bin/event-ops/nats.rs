//! The NATS JetStream side of event-ops: `nats plan`, and the `dlq`
//! commands on the DLQ streams (`--nats URL`).

use crate::dlq::{self, Operated};
use crate::{DlqCommand, Failure};
use clap::{Args, Subcommand};
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters};
use event_nats::async_nats::{self, ServerAddr, jetstream::Context};
use event_nats::{EnsureReport, Filtering, NatsDeadLetters, Subjects, Topology};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Where the NATS commands go.
#[derive(Args)]
pub(crate) struct NatsArgs {
    /// A NATS server, e.g. 127.0.0.1:4222: `dlq` then works on its DLQ
    /// streams instead of PostgreSQL; `nats plan` compares with it.
    #[arg(long = "nats", global = true, value_name = "URL")]
    pub url: Option<String>,
    /// The subject prefix of the streams (`events`: `events.<type>.v<major>`,
    /// stream `EVENTS`, DLQ streams `EVENTS_DLQ_<SERVICE>`).
    #[arg(long, default_value = "events", global = true)]
    pub subject_prefix: String,
}

#[derive(Subcommand)]
pub(crate) enum NatsCommand {
    /// Print the streams and consumers the catalog's topology needs, and,
    /// with --nats, whether the server holds them (read-only).
    Plan(PlanArgs),
}

#[derive(Args)]
pub(crate) struct PlanArgs {
    /// The schema directory (the `x-event` blocks name the consumers).
    #[arg(long, value_name = "DIR")]
    schemas: PathBuf,
    /// Stream and consumer replicas.
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// The consumers' ack wait (500ms, 30s, 2m).
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    ack_wait: Duration,
    /// The most deliveries of one message.
    #[arg(long, default_value_t = 10)]
    max_deliver: u32,
    /// The most unacknowledged messages per consumer.
    #[arg(long, default_value_t = 1000)]
    max_ack_pending: u32,
    /// The window in which a repeated Nats-Msg-Id is stored once.
    #[arg(long, value_parser = parse_duration, default_value = "2m")]
    duplicate_window: Duration,
    /// Memory storage instead of file storage.
    #[arg(long)]
    memory: bool,
    /// A consumer service delivered in order (max_ack_pending 1); repeatable.
    #[arg(long, value_name = "SERVICE")]
    ordered: Vec<String>,
    /// Plan for a nats-server of this version (2.9.10, 2.10.4): before
    /// 2.10 a consumer of several event types filters on one covering
    /// wildcard. Default: the version of the --nats server, else 2.10.
    #[arg(long, value_name = "VERSION")]
    server_version: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (500ms, 30s, 2m, 1h)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("`{s}` has no unit: write 500ms, 30s, 2m or 1h")),
    }
}

/// Connects without retrying: an operator wants the error now.
async fn connect(url: &str) -> Result<Context, Failure> {
    let addr: ServerAddr = url
        .parse()
        .map_err(|e| Failure::Config(format!("the NATS URL `{url}` does not parse: {e}")))?;
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(addr)
        .await
        .map_err(|e| Failure::Database(format!("cannot connect to NATS at {url}: {e}")))?;
    Ok(async_nats::jetstream::new(client))
}

/// The topology of the schemas under `args.schemas`: per type and major,
/// the consumers of its newest minor, as the generated catalog has them.
fn topology(args: &PlanArgs, subjects: Subjects) -> Result<Topology, Failure> {
    let files = event_codegen::compat::load_dir(&args.schemas).map_err(|e| {
        Failure::Config(format!(
            "cannot read the schemas in {}: {e}",
            args.schemas.display()
        ))
    })?;
    let routes = event_codegen::docs::routes(&files).map_err(|e| {
        Failure::Config(format!(
            "the schemas in {} have problems:\n{e}",
            args.schemas.display()
        ))
    })?;
    if routes.is_empty() {
        return Err(Failure::Config(format!(
            "{} holds no event schema (no file with an `x-event` block)",
            args.schemas.display()
        )));
    }
    let mut newest: BTreeMap<(&str, u32), &event_codegen::docs::Route> = BTreeMap::new();
    for r in &routes {
        let slot = newest.entry((r.event_type.as_str(), r.major)).or_insert(r);
        if r.minor > slot.minor {
            *slot = r;
        }
    }
    let mut topology = Topology::new()
        .subjects(subjects)
        .replicas(args.replicas)
        .ack_wait(args.ack_wait)
        .max_deliver(args.max_deliver)
        .max_ack_pending(args.max_ack_pending)
        .duplicate_window(args.duplicate_window);
    if args.memory {
        topology = topology.memory_storage();
    }
    for ((event_type, major), route) in newest {
        for consumer in &route.consumers {
            topology = topology.service(consumer, [(event_type, major)]);
        }
    }
    let planned: Vec<String> = topology
        .plan()
        .consumers
        .iter()
        .map(|c| c.durable.clone())
        .collect();
    if let Some(version) = &args.server_version {
        let filtering = Filtering::for_version(version).ok_or_else(|| {
            Failure::Config(format!(
                "--server-version {version}: not a nats-server version (write it as 2.9.10)"
            ))
        })?;
        topology = topology.filtering(filtering);
    }
    for service in &args.ordered {
        if !planned.contains(service) {
            return Err(Failure::Config(format!(
                "--ordered {service}: no event of the schemas lists `{service}` as a consumer"
            )));
        }
        topology = topology.ordered(service);
    }
    Ok(topology)
}

/// Runs `nats plan`: the plan, and how the server compares. A server that
/// does not hold the plan is [`Failure::Differs`] (exit 5), the report on
/// stdout all the same.
pub(crate) async fn run(
    nats: &NatsArgs,
    command: NatsCommand,
    json: bool,
) -> Result<String, Failure> {
    let NatsCommand::Plan(args) = command;
    let topology = topology(&args, Subjects::new(nats.subject_prefix.clone()))?;
    // The plan for the server compared with: how it filters consumers
    // depends on its version.
    let (plan, report, version) = match &nats.url {
        Some(url) => {
            let js = connect(url).await?;
            let report = topology
                .check(&js)
                .await
                .map_err(|e| Failure::Database(e.to_string()))?;
            let filtering = report
                .filtering
                .unwrap_or_else(|| topology.filtering_on(&js));
            let version = js.client().server_info().version;
            (topology.plan_for(filtering), Some(report), Some(version))
        }
        None => (topology.plan(), None, None),
    };
    let out = if json {
        let mut v = json!({
            "filtering": match plan.filtering {
                Filtering::Subjects => "subjects",
                Filtering::Covering => "covering",
            },
            "streams": plan.streams.iter().map(|s| json!({
                "name": s.name,
                "subjects": s.subjects,
                "duplicateWindowSeconds": s.duplicate_window.as_secs_f64(),
                "replicas": s.replicas,
            })).collect::<Vec<_>>(),
            "consumers": plan.consumers.iter().map(|c| json!({
                "stream": c.stream,
                "durable": c.durable,
                "filterSubjects": c.filter_subjects,
                "handles": c.handles,
                "ackWaitSeconds": c.ack_wait.as_secs_f64(),
                "maxDeliver": c.max_deliver,
                "maxAckPending": c.max_ack_pending,
            })).collect::<Vec<_>>(),
        });
        if let Some(r) = &report {
            v["server"] = json!({
                "version": version,
                "matches": r.matches(),
                "missing": r.missing,
                "unchanged": r.unchanged,
                "drift": r.drift.iter().map(|d| json!({
                    "what": d.what,
                    "field": d.field,
                    "planned": d.planned,
                    "deployed": d.deployed,
                })).collect::<Vec<_>>(),
            });
        }
        format!("{v}\n")
    } else {
        let mut out = plan.to_string();
        if let (Some(r), Some(url)) = (&report, &nats.url) {
            out.push_str(&server_report(url, version.as_deref(), r));
        }
        out
    };
    match report {
        Some(r) if !r.matches() => Err(Failure::Differs(out)),
        _ => Ok(out),
    }
}

fn server_report(url: &str, version: Option<&str>, r: &EnsureReport) -> String {
    let mut out = match version {
        Some(v) if !v.is_empty() => format!("\nserver {url} (nats-server {v}):\n"),
        _ => format!("\nserver {url}:\n"),
    };
    for u in &r.unchanged {
        out.push_str(&format!("  ok       {u}\n"));
    }
    for m in &r.missing {
        out.push_str(&format!("  missing  {m}\n"));
    }
    for d in &r.drift {
        out.push_str(&format!("  differs  {d}\n"));
    }
    if r.matches() {
        out.push_str("the server holds the plan\n");
    } else {
        out.push_str(&format!(
            "the server does not hold the plan: {} missing (Topology::ensure creates them), {} setting(s) deployed differently (ensure leaves those as deployed)\n",
            r.missing.len(),
            r.drift.len()
        ));
    }
    out
}

/// The DLQ streams of the consumer services `dlq` works on.
pub(crate) struct NatsOps {
    services: Vec<NatsDeadLetters>,
}

fn store_error(what: String) -> DeadLetterError {
    DeadLetterError(what.into())
}

impl NatsOps {
    /// The one DLQ an id refers to (ids are per stream).
    fn one(&self) -> Result<&NatsDeadLetters, DeadLetterError> {
        match self.services.as_slice() {
            [one] => Ok(one),
            _ => Err(store_error(
                "a dead letter id names one consumer's DLQ stream: pass --consumer".into(),
            )),
        }
    }
}

impl DeadLetters for NatsOps {
    async fn put(&self, entry: DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
        self.one()?.put(entry).await
    }

    async fn list(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let mut out = Vec::new();
        for s in &self.services {
            out.extend(s.list(filter).await?);
        }
        Ok(out)
    }

    async fn get(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        self.one()?.get(id).await
    }

    async fn take(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        self.one()?.take(id).await
    }

    async fn take_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let mut out = Vec::new();
        for s in &self.services {
            out.extend(s.take_all(filter).await?);
        }
        Ok(out)
    }

    async fn discard(&self, id: DeadLetterId) -> Result<bool, DeadLetterError> {
        self.one()?.discard(id).await
    }

    async fn depth(&self, filter: &DeadLetterFilter) -> Result<usize, DeadLetterError> {
        let mut n = 0;
        for s in &self.services {
            n += s.depth(filter).await?;
        }
        Ok(n)
    }
}

impl Operated for NatsOps {
    type Store = Self;

    fn store(&self) -> &Self {
        self
    }

    async fn retry_one(&self, id: DeadLetterId) -> Result<bool, Failure> {
        self.one()
            .map_err(dlq::store)?
            .retry(id)
            .await
            .map_err(dlq::store)
    }

    async fn retry_matching(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetterId>, Failure> {
        let mut out = Vec::new();
        for s in &self.services {
            let retried = s.retry_all(filter).await.map_err(dlq::store)?;
            out.extend(retried.iter().map(|e| e.id));
        }
        Ok(out)
    }
}

/// Runs a `dlq` command on the DLQ streams of the server at `url`: those
/// of `--consumer`, or of every consumer service under the prefix.
pub(crate) async fn dlq(
    nats: &NatsArgs,
    url: &str,
    command: DlqCommand,
    json: bool,
) -> Result<String, Failure> {
    let js = connect(url).await?;
    let subjects = Subjects::new(nats.subject_prefix.clone());
    let deployed = NatsDeadLetters::services(&js, &subjects)
        .await
        .map_err(|e| Failure::Database(e.to_string()))?;
    let (consumer, by_id) = match &command {
        DlqCommand::List(f) => (f.consumer.clone(), false),
        DlqCommand::Retry { id, filter } => (filter.consumer.clone(), id.is_some()),
        DlqCommand::Show { consumer, .. } | DlqCommand::Discard { consumer, .. } => {
            (consumer.clone(), true)
        }
        DlqCommand::Stats => (None, false),
    };
    let known = if deployed.is_empty() {
        "none".to_owned()
    } else {
        deployed.join(", ")
    };
    let services: Vec<String> = match consumer {
        Some(c) if deployed.contains(&c) => vec![c],
        Some(c) => {
            return Err(Failure::NotFound(format!(
                "no DLQ stream {} for consumer `{c}` under prefix `{}` (consumers with one: {known})",
                subjects.dlq_stream(&c),
                nats.subject_prefix
            )));
        }
        None if by_id && deployed.len() > 1 => {
            return Err(Failure::Usage(format!(
                "on NATS a dead letter id is a sequence of one consumer's DLQ stream: pass --consumer (one of {known})"
            )));
        }
        None => deployed,
    };
    if by_id && services.is_empty() {
        return Err(Failure::NotFound(format!(
            "no DLQ stream under prefix `{}`",
            nats.subject_prefix
        )));
    }
    let ops = NatsOps {
        services: services
            .into_iter()
            .map(|s| NatsDeadLetters::new(js.clone(), subjects.clone(), s))
            .collect(),
    };
    let out = dlq::run(&ops, command, json).await;
    // The retries are acked by the stream already; this only drains.
    let _ = js.client().flush().await;
    out
}

/// The DLQ stream the console shows on NATS: `consumer`'s, or the one
/// service's when only one has a DLQ stream.
pub(crate) async fn console_store(
    nats: &NatsArgs,
    url: &str,
    consumer: Option<String>,
) -> Result<(NatsDeadLetters, String), Failure> {
    let js = connect(url).await?;
    let subjects = Subjects::new(nats.subject_prefix.clone());
    let deployed = NatsDeadLetters::services(&js, &subjects)
        .await
        .map_err(|e| Failure::Database(e.to_string()))?;
    let known = if deployed.is_empty() {
        "none".to_owned()
    } else {
        deployed.join(", ")
    };
    let service = match consumer {
        Some(c) if deployed.contains(&c) => c,
        Some(c) => {
            return Err(Failure::NotFound(format!(
                "no DLQ stream {} for consumer `{c}` under prefix `{}` (consumers with one: {known})",
                subjects.dlq_stream(&c),
                nats.subject_prefix
            )));
        }
        None if deployed.len() == 1 => deployed[0].clone(),
        None if deployed.is_empty() => {
            return Err(Failure::NotFound(format!(
                "no DLQ stream under prefix `{}`",
                nats.subject_prefix
            )));
        }
        None => {
            return Err(Failure::Usage(format!(
                "the console shows one consumer's DLQ stream on NATS: pass --consumer (one of {known})"
            )));
        }
    };
    let what = format!("DLQ stream {} at {url}", subjects.dlq_stream(&service));
    Ok((NatsDeadLetters::new(js, subjects, service), what))
}
