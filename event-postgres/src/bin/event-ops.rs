//! `event-ops`: the operator's view of the outbox and the dead letters,
//! in PostgreSQL or (`--nats URL`) on NATS JetStream, and of the JetStream
//! topology (`nats plan`).
//!
//! Exit codes: 0 done; 1 the database or NATS server failed or could not
//! be reached; 2 bad usage (unknown command or flag, malformed id); 3 no
//! such dead letter; 4 bad configuration (a URL that does not parse, a bad
//! schema name, an address the console may not or cannot listen on);
//! 5 `nats plan`: the server does not hold the plan.

#[path = "event-ops/dlq.rs"]
mod dlq;
#[cfg(feature = "nats")]
#[path = "event-ops/nats.rs"]
mod nats;

use clap::{Args, Parser, Subcommand};
use event_delivery::{DeadLetter, DeadLetterId};
use event_postgres::{Outbox, PgDeadLetters, PgQueue, Tables, class_name, migrate};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const EXIT_HELP: &str = "Exit codes:
  0  done
  1  the database or NATS server failed or could not be reached
  2  bad usage (unknown command or flag, malformed id)
  3  no such dead letter (or DLQ stream)
  4  bad configuration (a URL that does not parse, a bad schema name,
     an address the console may not or cannot listen on)
  5  nats plan: the server does not hold the plan (missing or different)";

#[derive(Parser)]
#[command(name = "event-ops", version, about = "Inspect and repair the PostgreSQL outbox and dead letters, and the NATS JetStream ones", after_help = EXIT_HELP)]
struct Cli {
    /// The database, e.g. postgres://postgres@127.0.0.1:5432/test.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// The schema the tables live in.
    #[arg(long, default_value = "event_delivery", global = true)]
    schema: String,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[cfg(feature = "nats")]
    #[command(flatten)]
    nats: nats::NatsArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the schema and tables (idempotent).
    Migrate,
    /// The outbox.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// The dead letter queue (with --nats, the DLQ streams).
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// The NATS JetStream topology.
    #[cfg(feature = "nats")]
    #[command(subcommand)]
    Nats(nats::NatsCommand),
    /// Serve the dead letter console: a web page and a JSON API to
    /// inspect, retry, discard and bulk-retry (see docs/console.md).
    Console(ConsoleArgs),
}

#[derive(Args)]
struct ConsoleArgs {
    /// The address to listen on. Anything but a loopback address needs
    /// EVENT_OPS_CONSOLE_TOKEN, or EVENT_OPS_CONSOLE_USER and
    /// EVENT_OPS_CONSOLE_PASSWORD.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// With --nats: the consumer service whose DLQ stream the console
    /// shows (needed when more than one service has a DLQ stream).
    #[arg(long, value_name = "SERVICE")]
    consumer: Option<String>,
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Pending rows and the age of the oldest.
    Stats,
}

#[derive(Args)]
struct Filter {
    /// Only this consumer's entries.
    #[arg(long)]
    consumer: Option<String>,
    /// Only entries of this event type.
    #[arg(long = "type")]
    event_type: Option<String>,
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List entries, oldest first.
    List(Filter),
    /// One entry: payload, error, class, attempts, failures.
    Show {
        id: String,
        /// The entry's consumer (needed on NATS when several consumer
        /// services have a DLQ stream: ids are per stream).
        #[arg(long)]
        consumer: Option<String>,
    },
    /// Move one entry (or, with --type, every entry of a type) back into
    /// its consumer's queue.
    Retry {
        /// The entry's id (dl_12 or 12).
        id: Option<String>,
        #[command(flatten)]
        filter: Filter,
    },
    /// Delete one entry for good.
    Discard {
        id: String,
        /// The entry's consumer (needed on NATS when several consumer
        /// services have a DLQ stream: ids are per stream).
        #[arg(long)]
        consumer: Option<String>,
    },
    /// Depth by consumer and event type.
    Stats,
}

enum Failure {
    Database(String),
    Usage(String),
    NotFound(String),
    Config(String),
    /// `nats plan` found the server different from the plan: the report,
    /// printed on stdout.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    Differs(String),
}

impl Failure {
    fn exit(&self) -> (u8, &str) {
        match self {
            Failure::Database(m) => (1, m),
            Failure::Usage(m) => (2, m),
            Failure::NotFound(m) => (3, m),
            Failure::Config(m) => (4, m),
            Failure::Differs(_) => (5, "the server does not hold the plan"),
        }
    }
}

fn db(e: impl std::fmt::Display) -> Failure {
    Failure::Database(e.to_string())
}

fn parse_id(id: &str) -> Result<DeadLetterId, Failure> {
    id.strip_prefix("dl_")
        .unwrap_or(id)
        .parse::<u64>()
        .map(DeadLetterId)
        .map_err(|_| {
            Failure::Usage(format!(
                "`{id}` is not a dead letter id (expected dl_<number> or <number>)"
            ))
        })
}

fn time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn entry_json(e: &DeadLetter, with_payload: bool) -> Value {
    let mut v = json!({
        "id": e.id.to_string(),
        "consumer": e.consumer,
        "eventId": e.event_id,
        "type": e.event_type,
        "version": e.version.map(|v| v.to_string()),
        "tenantId": e.tenant_id,
        "partitionKey": e.partition_key,
        "error": e.error,
        "class": class_name(e.class),
        "attempts": e.attempts,
        "firstFailure": time(e.first_failure),
        "lastFailure": time(e.last_failure),
    });
    if with_payload {
        v["payload"] = serde_json::from_slice(&e.payload)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&e.payload).into_owned()));
    }
    v
}

/// Columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

async fn connect(url: Option<&str>) -> Result<PgPool, Failure> {
    let url = url.ok_or_else(|| {
        Failure::Config("no database: pass --database-url or set DATABASE_URL".into())
    })?;
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| Failure::Config(format!("the database URL does not parse: {e}")))?;
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|e| Failure::Database(format!("cannot connect to the database: {e}")))
}

async fn run(cli: Cli) -> Result<String, Failure> {
    #[cfg(feature = "nats")]
    match cli.command {
        Command::Nats(command) => return nats::run(&cli.nats, command, cli.json).await,
        Command::Dlq(command) if cli.nats.url.is_some() => {
            let url = cli.nats.url.as_deref().unwrap_or_default();
            return nats::dlq(&cli.nats, url, command, cli.json).await;
        }
        Command::Console(args) if cli.nats.url.is_some() => {
            let url = cli.nats.url.as_deref().unwrap_or_default();
            let (store, what) = nats::console_store(&cli.nats, url, args.consumer.clone()).await?;
            return serve_console(store, args.listen, &what).await;
        }
        _ => {}
    }
    if matches!(&cli.command, Command::Console(args) if args.consumer.is_some()) {
        return Err(Failure::Usage(
            "console --consumer picks a NATS DLQ stream: it needs --nats URL".into(),
        ));
    }
    let tables = Tables::new(cli.schema.clone()).map_err(|e| Failure::Config(e.to_string()))?;
    let pool = connect(cli.database_url.as_deref()).await?;
    let json = cli.json;
    let out = match cli.command {
        Command::Migrate => {
            migrate(&pool, &tables).await.map_err(db)?;
            if json {
                json!({"migrated": tables.schema()}).to_string()
            } else {
                format!("migrated schema `{}`\n", tables.schema())
            }
        }
        Command::Outbox(OutboxCommand::Stats) => {
            let stats = Outbox::new(tables.clone()).stats(&pool).await.map_err(db)?;
            let age = stats
                .oldest
                .map(|t| (OffsetDateTime::now_utc() - t).as_seconds_f64().max(0.0));
            if json {
                json!({"pending": stats.pending, "oldest": stats.oldest.map(time), "oldestAgeSeconds": age})
                    .to_string()
            } else {
                table(
                    &["PENDING", "OLDEST", "AGE"],
                    &[vec![
                        stats.pending.to_string(),
                        stats.oldest.map(time).unwrap_or_else(|| "-".into()),
                        age.map(|a| format!("{a:.1}s"))
                            .unwrap_or_else(|| "-".into()),
                    ]],
                )
            }
        }
        Command::Dlq(command) => {
            let ops = dlq::PgOps {
                dlq: PgDeadLetters::new(pool.clone(), &tables),
                queue: PgQueue::new(pool.clone(), &tables),
            };
            dlq::run(&ops, command, json).await?
        }
        Command::Console(args) => {
            let store = event_postgres::console::PgReplay::new(pool.clone(), &tables);
            let what = format!("dead letters of schema `{}`", tables.schema());
            serve_console(store, args.listen, &what).await?
        }
        #[cfg(feature = "nats")]
        Command::Nats(_) => unreachable!("handled above"),
    };
    pool.close().await;
    Ok(out)
}

/// Serves the console over `store` until Ctrl-C or SIGTERM; any
/// [`Replay`](event_delivery::Replay) store (PostgreSQL, a NATS DLQ
/// stream) goes through here.
async fn serve_console<R: event_delivery::Replay>(
    store: R,
    listen: std::net::SocketAddr,
    what: &str,
) -> Result<String, Failure> {
    use event_postgres::console::{Auth, Console, ConsoleError, check_listen};
    let config = |e: ConsoleError| Failure::Config(e.to_string());
    let auth = Auth::from_env().map_err(config)?;
    check_listen(listen, &auth).map_err(config)?;
    // Fail now rather than on the first page view when the store cannot
    // be read (a schema that was never migrated, say).
    store
        .depth(&event_delivery::DeadLetterFilter::all())
        .await
        .map_err(|e| Failure::Database(format!("cannot read the dead letters: {e}")))?;
    let console = Console::new(store)
        .auth(auth)
        .bind(listen)
        .await
        .map_err(config)?;
    println!(
        "event-ops console: http://{}/ ({what})",
        console.local_addr()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    console.serve(stopped()).await.map_err(config)?;
    Ok("console stopped\n".to_owned())
}

/// Ctrl-C or SIGTERM.
async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("event-ops: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(out) => {
            print!("{out}");
            if !out.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if let Failure::Differs(report) = &failure {
                print!("{report}");
            }
            let (code, message) = failure.exit();
            eprintln!("event-ops: {message}");
            ExitCode::from(code)
        }
    }
}
