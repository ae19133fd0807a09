//! Where the tables live, and the migrations that create them.
//!
//! Every name is configurable ([`Tables`]) and every name that reaches SQL
//! is quoted with [`quote_ident`], so a schema called `Billing "v2"` works
//! and no name can inject SQL.

use crate::Error;
use sqlx::PgPool;

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1`); longer ones
/// are silently truncated by the server, so they are refused here.
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// `name` as a quoted SQL identifier: wrapped in double quotes, inner
/// double quotes doubled.
///
/// ```
/// assert_eq!(event_postgres::quote_ident("a\"b"), "\"a\"\"b\"");
/// ```
pub fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

fn check_identifier(what: &'static str, name: &str) -> Result<(), Error> {
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_IDENTIFIER_LEN {
        Some("is longer than 63 bytes, which PostgreSQL would truncate")
    } else if name.contains('\0') {
        Some("contains a NUL character")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::Config(format!("the {what} name `{name}` {problem}"))),
        None => Ok(()),
    }
}

/// The schema and table names the crate uses.
///
/// ```
/// let tables = event_postgres::Tables::new("billing").unwrap().outbox("events_outbox").unwrap();
/// assert_eq!(tables.qualified_outbox(), "\"billing\".\"events_outbox\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    schema: String,
    outbox: String,
    processed_events: String,
    queue: String,
    dead_letters: String,
}

impl Default for Tables {
    /// Schema `event_delivery`, tables `outbox`, `processed_events`,
    /// `queue`, `dead_letters`.
    fn default() -> Self {
        Tables {
            schema: "event_delivery".into(),
            outbox: "outbox".into(),
            processed_events: "processed_events".into(),
            queue: "queue".into(),
            dead_letters: "dead_letters".into(),
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        pub fn $name(mut self, name: impl Into<String>) -> Result<Self, Error> {
            let name = name.into();
            check_identifier($what, &name)?;
            self.$name = name;
            Ok(self)
        }
    };
}

impl Tables {
    /// The default table names in `schema`.
    pub fn new(schema: impl Into<String>) -> Result<Self, Error> {
        let schema = schema.into();
        check_identifier("schema", &schema)?;
        Ok(Tables {
            schema,
            ..Tables::default()
        })
    }

    setter!(
        /// Renames the outbox table.
        outbox,
        "outbox table"
    );
    setter!(
        /// Renames the processed-events table.
        processed_events,
        "processed-events table"
    );
    setter!(
        /// Renames the durable queue table.
        queue,
        "queue table"
    );
    setter!(
        /// Renames the dead letters table.
        dead_letters,
        "dead letters table"
    );

    /// The schema name, unquoted.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn qualify(&self, table: &str) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(table))
    }

    /// `"schema"."outbox"`.
    pub fn qualified_outbox(&self) -> String {
        self.qualify(&self.outbox)
    }

    /// `"schema"."processed_events"`.
    pub fn qualified_processed_events(&self) -> String {
        self.qualify(&self.processed_events)
    }

    /// `"schema"."queue"`.
    pub fn qualified_queue(&self) -> String {
        self.qualify(&self.queue)
    }

    /// `"schema"."dead_letters"`.
    pub fn qualified_dead_letters(&self) -> String {
        self.qualify(&self.dead_letters)
    }

    /// The sequence claim tokens are drawn from,
    /// `"schema"."processed_events_token"`.
    pub fn qualified_token_sequence(&self) -> String {
        self.qualify(&format!("{}_token", self.processed_events))
    }

    /// The `LISTEN/NOTIFY` channel the outbox signals on: one per outbox
    /// table, so two outboxes in one database do not wake each other.
    pub fn outbox_channel(&self) -> String {
        let mut channel = format!("{}.{}", self.schema, self.outbox);
        // A channel is an identifier: keep it within the length PostgreSQL
        // keeps, at a character boundary.
        while channel.len() > MAX_IDENTIFIER_LEN {
            channel.pop();
        }
        channel
    }

    /// The DDL of every table, in order; each statement is idempotent.
    pub fn migrations(&self) -> Vec<String> {
        let schema = quote_ident(&self.schema);
        let outbox = self.qualified_outbox();
        let processed = self.qualified_processed_events();
        let queue = self.qualified_queue();
        let dead = self.qualified_dead_letters();
        let idx = |table: &str, suffix: &str| quote_ident(&format!("{table}_{suffix}"));
        let token_seq = self.qualified_token_sequence();
        vec![
            format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
            // The outbox. `id`, `aggregatetype`, `aggregateid`, `type` and
            // `payload` are the columns Debezium's outbox event router reads
            // by default, so change data capture can take over the relay.
            format!(
                "CREATE TABLE IF NOT EXISTS {outbox} (
                    seq BIGSERIAL PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    aggregatetype TEXT NOT NULL,
                    aggregateid TEXT NOT NULL,
                    type TEXT NOT NULL,
                    major INTEGER NOT NULL,
                    delivery TEXT NOT NULL,
                    partition_key TEXT,
                    payload TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    published_at TIMESTAMPTZ
                )"
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {outbox} (seq) WHERE published_at IS NULL",
                idx(&self.outbox, "pending")
            ),
            format!("CREATE SEQUENCE IF NOT EXISTS {token_seq}"),
            // The brief's processed_events table, as written, plus the
            // columns tenant-scoped keys and leases need.
            format!(
                "CREATE TABLE IF NOT EXISTS {processed} (
                    event_id TEXT NOT NULL,
                    event_type TEXT NOT NULL,
                    consumer TEXT NOT NULL,
                    processed_at TIMESTAMPTZ,
                    result JSONB,
                    UNIQUE (event_id, consumer),
                    idempotency_key TEXT NOT NULL,
                    tenant_id TEXT NOT NULL,
                    key_source TEXT NOT NULL,
                    claim_token BIGINT NOT NULL,
                    claimed_at TIMESTAMPTZ NOT NULL,
                    lease_until TIMESTAMPTZ,
                    UNIQUE (idempotency_key, consumer)
                )"
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {processed} (processed_at)",
                idx(&self.processed_events, "processed_at")
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {queue} (
                    seq BIGSERIAL PRIMARY KEY,
                    consumer TEXT NOT NULL,
                    event_id TEXT,
                    type TEXT,
                    delivery TEXT NOT NULL,
                    partition_key TEXT,
                    payload BYTEA NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )"
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {queue} (consumer, run_at)",
                idx(&self.queue, "due")
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {dead} (
                    id BIGSERIAL PRIMARY KEY,
                    consumer TEXT NOT NULL,
                    payload BYTEA NOT NULL,
                    partition_key TEXT,
                    event_id TEXT,
                    event_type TEXT,
                    version TEXT,
                    tenant_id TEXT,
                    error TEXT NOT NULL,
                    class TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    first_failure TIMESTAMPTZ NOT NULL,
                    last_failure TIMESTAMPTZ NOT NULL
                )"
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {dead} (consumer, event_type)",
                idx(&self.dead_letters, "filter")
            ),
        ]
    }
}

/// Creates the schema and every table, in one transaction, serialised
/// against concurrent runs by an advisory lock. Running it again changes
/// nothing.
pub async fn migrate(pool: &PgPool, tables: &Tables) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("event-postgres migrate {}", tables.schema))
        .execute(&mut *tx)
        .await?;
    for statement in tables.migrations() {
        sqlx::query(&statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
