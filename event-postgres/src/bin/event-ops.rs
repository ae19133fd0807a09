//! `event-ops`: the operator's view of the outbox and the dead letters.
//!
//! Exit codes: 0 done; 1 the database failed or could not be reached;
//! 2 bad usage (unknown command or flag, malformed id); 3 no such dead
//! letter; 4 bad configuration (a URL that does not parse, a bad schema
//! name, an address the console may not or cannot listen on).

use clap::{Args, Parser, Subcommand};
use event_delivery::{DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters};
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
  1  the database failed or could not be reached
  2  bad usage (unknown command or flag, malformed id)
  3  no such dead letter
  4  bad configuration (a URL that does not parse, a bad schema name,
     an address the console may not or cannot listen on)";

#[derive(Parser)]
#[command(name = "event-ops", version, about = "Inspect and repair the PostgreSQL outbox and dead letters", after_help = EXIT_HELP)]
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
    /// The dead letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
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
    Show { id: String },
    /// Move one entry (or, with --type, every entry of a type) back into
    /// its consumer's queue.
    Retry {
        /// The entry's id (dl_12 or 12).
        id: Option<String>,
        #[command(flatten)]
        filter: Filter,
    },
    /// Delete one entry for good.
    Discard { id: String },
    /// Depth by consumer and event type.
    Stats,
}

enum Failure {
    Database(String),
    Usage(String),
    NotFound(String),
    Config(String),
}

impl Failure {
    fn exit(&self) -> (u8, &str) {
        match self {
            Failure::Database(m) => (1, m),
            Failure::Usage(m) => (2, m),
            Failure::NotFound(m) => (3, m),
            Failure::Config(m) => (4, m),
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
    let tables = Tables::new(cli.schema.clone()).map_err(|e| Failure::Config(e.to_string()))?;
    let pool = connect(cli.database_url.as_deref()).await?;
    let dlq = PgDeadLetters::new(pool.clone(), &tables);
    let queue = PgQueue::new(pool.clone(), &tables);
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
        Command::Dlq(DlqCommand::List(filter)) => {
            let filter = DeadLetterFilter {
                consumer: filter.consumer,
                event_type: filter.event_type,
            };
            let entries = dlq.list(&filter).await.map_err(db)?;
            if json {
                Value::Array(entries.iter().map(|e| entry_json(e, false)).collect()).to_string()
            } else {
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|e| {
                        vec![
                            e.id.to_string(),
                            e.consumer.clone(),
                            e.event_type.clone().unwrap_or_else(|| "?".into()),
                            e.attempts.to_string(),
                            class_name(e.class).into(),
                            time(e.last_failure),
                            e.error.clone(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "ID",
                        "CONSUMER",
                        "TYPE",
                        "ATTEMPTS",
                        "CLASS",
                        "LAST FAILURE",
                        "ERROR",
                    ],
                    &rows,
                )
            }
        }
        Command::Dlq(DlqCommand::Show { id }) => {
            let id = parse_id(&id)?;
            let entry = dlq
                .get(id)
                .await
                .map_err(db)?
                .ok_or_else(|| Failure::NotFound(format!("no dead letter {id}")))?;
            let v = entry_json(&entry, true);
            if json {
                v.to_string()
            } else {
                let mut out = String::new();
                for key in [
                    "id",
                    "consumer",
                    "type",
                    "version",
                    "eventId",
                    "tenantId",
                    "partitionKey",
                    "class",
                    "attempts",
                    "firstFailure",
                    "lastFailure",
                    "error",
                ] {
                    let value = match &v[key] {
                        Value::String(s) => s.clone(),
                        Value::Null => "-".into(),
                        other => other.to_string(),
                    };
                    out.push_str(&format!("{key:<13} {value}\n"));
                }
                out.push_str("payload:\n");
                out.push_str(&serde_json::to_string_pretty(&v["payload"]).unwrap_or_default());
                out.push('\n');
                out
            }
        }
        Command::Dlq(DlqCommand::Retry { id, filter }) => {
            let retried = match (id, &filter.event_type) {
                (Some(id), None) => {
                    let id = parse_id(&id)?;
                    let entry = dlq
                        .retry(id, &queue)
                        .await
                        .map_err(db)?
                        .ok_or_else(|| Failure::NotFound(format!("no dead letter {id}")))?;
                    vec![entry]
                }
                (None, Some(t)) => {
                    let filter = DeadLetterFilter {
                        consumer: filter.consumer.clone(),
                        event_type: Some(t.clone()),
                    };
                    dlq.retry_all(&filter, &queue).await.map_err(db)?
                }
                _ => {
                    return Err(Failure::Usage(
                        "dlq retry takes an id, or --type (with an optional --consumer)".into(),
                    ));
                }
            };
            if json {
                json!({"retried": retried.iter().map(|e| e.id.to_string()).collect::<Vec<_>>()})
                    .to_string()
            } else {
                format!(
                    "moved {} dead letter(s) back into their queues\n",
                    retried.len()
                )
            }
        }
        Command::Dlq(DlqCommand::Discard { id }) => {
            let id = parse_id(&id)?;
            if !dlq.discard(id).await.map_err(db)? {
                return Err(Failure::NotFound(format!("no dead letter {id}")));
            }
            if json {
                json!({"discarded": id.to_string()}).to_string()
            } else {
                format!("discarded {id}\n")
            }
        }
        Command::Console(args) => {
            let store = event_postgres::console::PgReplay::new(pool.clone(), &tables);
            let what = format!("dead letters of schema `{}`", tables.schema());
            serve_console(store, args.listen, &what).await?
        }
        Command::Dlq(DlqCommand::Stats) => {
            let stats = dlq.stats().await.map_err(db)?;
            if json {
                Value::Array(
                    stats
                        .iter()
                        .map(|(c, t, n)| json!({"consumer": c, "type": t, "depth": n}))
                        .collect(),
                )
                .to_string()
            } else {
                let rows: Vec<Vec<String>> = stats
                    .iter()
                    .map(|(c, t, n)| {
                        vec![
                            c.clone(),
                            t.clone().unwrap_or_else(|| "?".into()),
                            n.to_string(),
                        ]
                    })
                    .collect();
                table(&["CONSUMER", "TYPE", "DEPTH"], &rows)
            }
        }
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
        .depth(&DeadLetterFilter::all())
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
            let (code, message) = failure.exit();
            eprintln!("event-ops: {message}");
            ExitCode::from(code)
        }
    }
}
