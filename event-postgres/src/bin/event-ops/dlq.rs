//! The `dlq` commands, written once over the pipeline's [`DeadLetters`]:
//! the PostgreSQL `dead_letters` table and the NATS DLQ streams differ
//! only in how a retried entry gets back to its consumer.

use crate::{DlqCommand, Failure, entry_json, parse_id, table, time};
use event_delivery::{DeadLetterFilter, DeadLetterId, DeadLetters};
use event_postgres::{PgDeadLetters, PgQueue, class_name};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A dead letter store the operator works on.
pub(crate) trait Operated {
    /// The store read, listed and discarded through.
    type Store: DeadLetters;

    /// The store.
    fn store(&self) -> &Self::Store;

    /// Hands one entry back to its consumer as a new first delivery;
    /// `false` if there is no such entry.
    async fn retry_one(&self, id: DeadLetterId) -> Result<bool, Failure>;

    /// Hands every entry that passes `filter` back, oldest first; their ids.
    async fn retry_matching(&self, filter: &DeadLetterFilter)
    -> Result<Vec<DeadLetterId>, Failure>;

    /// Depth by consumer and event type, deepest first.
    async fn stats(&self) -> Result<Vec<(String, Option<String>, u64)>, Failure> {
        let mut depth: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
        for e in self
            .store()
            .list(&DeadLetterFilter::all())
            .await
            .map_err(store)?
        {
            *depth.entry((e.consumer, e.event_type)).or_default() += 1;
        }
        let mut rows: Vec<_> = depth.into_iter().map(|((c, t), n)| (c, t, n)).collect();
        rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
        Ok(rows)
    }
}

pub(crate) fn store(e: impl std::fmt::Display) -> Failure {
    Failure::Database(e.to_string())
}

/// The `dead_letters` table; a retry moves the entry into the consumer's
/// queue in one transaction.
pub(crate) struct PgOps {
    pub dlq: PgDeadLetters,
    pub queue: PgQueue,
}

impl Operated for PgOps {
    type Store = PgDeadLetters;

    fn store(&self) -> &PgDeadLetters {
        &self.dlq
    }

    async fn retry_one(&self, id: DeadLetterId) -> Result<bool, Failure> {
        Ok(self
            .dlq
            .retry(id, &self.queue)
            .await
            .map_err(store)?
            .is_some())
    }

    async fn retry_matching(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetterId>, Failure> {
        let retried = self
            .dlq
            .retry_all(filter, &self.queue)
            .await
            .map_err(store)?;
        Ok(retried.iter().map(|e| e.id).collect())
    }

    async fn stats(&self) -> Result<Vec<(String, Option<String>, u64)>, Failure> {
        let rows = self.dlq.stats().await.map_err(store)?;
        Ok(rows
            .into_iter()
            .map(|(c, t, n)| (c, t, n.max(0) as u64))
            .collect())
    }
}

/// Runs one `dlq` command against `ops`.
pub(crate) async fn run<O: Operated>(
    ops: &O,
    command: DlqCommand,
    json: bool,
) -> Result<String, Failure> {
    let dlq = ops.store();
    // `--consumer` on an id: the entry must be that consumer's.
    let of_consumer = |consumer: &Option<String>, entry: &event_delivery::DeadLetter| {
        consumer.as_ref().is_none_or(|c| *c == entry.consumer)
    };
    Ok(match command {
        DlqCommand::List(filter) => {
            let filter = DeadLetterFilter {
                consumer: filter.consumer,
                event_type: filter.event_type,
            };
            let entries = dlq.list(&filter).await.map_err(store)?;
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
        DlqCommand::Show { id, consumer } => {
            let id = parse_id(&id)?;
            let entry = dlq
                .get(id)
                .await
                .map_err(store)?
                .filter(|e| of_consumer(&consumer, e))
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
        DlqCommand::Retry { id, filter } => {
            let retried = match (id, &filter.event_type) {
                (Some(id), None) => {
                    let id = parse_id(&id)?;
                    let theirs = match &filter.consumer {
                        None => true,
                        Some(_) => dlq
                            .get(id)
                            .await
                            .map_err(store)?
                            .is_some_and(|e| of_consumer(&filter.consumer, &e)),
                    };
                    if !theirs || !ops.retry_one(id).await? {
                        return Err(Failure::NotFound(format!("no dead letter {id}")));
                    }
                    vec![id]
                }
                (None, Some(t)) => {
                    let filter = DeadLetterFilter {
                        consumer: filter.consumer.clone(),
                        event_type: Some(t.clone()),
                    };
                    ops.retry_matching(&filter).await?
                }
                _ => {
                    return Err(Failure::Usage(
                        "dlq retry takes an id, or --type (with an optional --consumer)".into(),
                    ));
                }
            };
            if json {
                json!({"retried": retried.iter().map(|id| id.to_string()).collect::<Vec<_>>()})
                    .to_string()
            } else {
                format!(
                    "moved {} dead letter(s) back into their queues\n",
                    retried.len()
                )
            }
        }
        DlqCommand::Discard { id, consumer } => {
            let id = parse_id(&id)?;
            if consumer.is_some()
                && !dlq
                    .get(id)
                    .await
                    .map_err(store)?
                    .is_some_and(|e| of_consumer(&consumer, &e))
            {
                return Err(Failure::NotFound(format!("no dead letter {id}")));
            }
            if !dlq.discard(id).await.map_err(store)? {
                return Err(Failure::NotFound(format!("no dead letter {id}")));
            }
            if json {
                json!({"discarded": id.to_string()}).to_string()
            } else {
                format!("discarded {id}\n")
            }
        }
        DlqCommand::Stats => {
            let stats = ops.stats().await?;
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
    })
}
