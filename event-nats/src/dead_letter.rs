//! The DLQ stream of one consumer service as the pipeline's dead letter
//! queue.

use crate::error::NatsError;
use crate::headers;
use crate::subject::Subjects;
use async_nats::HeaderMap;
use async_nats::jetstream::Context;
use async_nats::jetstream::stream::Stream;
use bytes::Bytes;
use event_delivery::{DeadLetter, DeadLetterError, DeadLetterFilter, DeadLetterId, DeadLetters};
use event_runtime::{ErrorClass, Header};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The DLQ stream of one consumer service (`EVENTS_DLQ_<SERVICE>`, created
/// by [`Topology::ensure`](crate::Topology::ensure)). A dead letter is one
/// stream message: the original envelope bytes as the payload, the error,
/// class, attempts and failure times in `Event-Dlq-*` headers; its
/// [`DeadLetterId`] is the stream sequence.
///
/// [`retry`](Self::retry) publishes the original bytes on the entry's
/// retry subject, which only that service's retry consumer reads, as a
/// first delivery: the consumer decodes it again against its current
/// contract. Of concurrent retries of one entry exactly one publishes:
/// see [`retry`](Self::retry).
#[derive(Debug, Clone)]
pub struct NatsDeadLetters {
    js: Context,
    subjects: Subjects,
    service: String,
}

fn storage(what: String, e: impl std::error::Error + Send + Sync + 'static) -> DeadLetterError {
    DeadLetterError(Box::new(NatsError::new(what, e)))
}

fn class_label(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Permanent => "permanent",
        ErrorClass::Transient => "transient",
        ErrorClass::Unknown => "unknown",
    }
}

impl NatsDeadLetters {
    /// The DLQ of `service` under `subjects`.
    pub fn new(js: Context, subjects: Subjects, service: impl Into<String>) -> Self {
        NatsDeadLetters {
            js,
            subjects,
            service: service.into(),
        }
    }

    async fn stream(&self) -> Result<Stream, DeadLetterError> {
        let name = self.subjects.dlq_stream(&self.service);
        self.js
            .get_stream(&name)
            .await
            .map_err(|e| storage(format!("reading DLQ stream {name}"), e))
    }

    fn entry(&self, seq: u64, headers: &HeaderMap, payload: &Bytes) -> DeadLetter {
        let h = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        let time = |name: &str| {
            h(name)
                .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        let header = Header::from_json_slice(payload).ok();
        DeadLetter {
            id: DeadLetterId(seq),
            payload: payload.to_vec().into(),
            partition_key: h(headers::PARTITION_KEY),
            event_id: header.as_ref().map(|x| x.id().to_owned()),
            event_type: header.as_ref().map(|x| x.event_type().to_owned()),
            version: header.as_ref().map(|x| x.version()),
            tenant_id: header.as_ref().map(|x| x.tenant_id().to_owned()),
            consumer: h(headers::DLQ_CONSUMER).unwrap_or_else(|| self.service.clone()),
            error: h(headers::DLQ_ERROR).unwrap_or_default(),
            class: match h(headers::DLQ_CLASS).as_deref() {
                Some("permanent") => ErrorClass::Permanent,
                Some("transient") => ErrorClass::Transient,
                _ => ErrorClass::Unknown,
            },
            attempts: h(headers::DLQ_ATTEMPTS)
                .and_then(|a| a.parse().ok())
                .unwrap_or(0),
            first_failure: time(headers::DLQ_FIRST_FAILURE),
            last_failure: time(headers::DLQ_LAST_FAILURE),
        }
    }

    async fn read(&self, stream: &Stream, seq: u64) -> Result<Option<DeadLetter>, DeadLetterError> {
        Ok(self.read_stored(stream, seq).await?.map(|(entry, _)| entry))
    }

    /// The entry at `seq` and the token that names it for good: its
    /// sequence and the time the DLQ stream stored it, so that a DLQ
    /// stream deleted and created again, whose sequences start over,
    /// does not reuse a retry subject.
    async fn read_stored(
        &self,
        stream: &Stream,
        seq: u64,
    ) -> Result<Option<(DeadLetter, String)>, DeadLetterError> {
        match stream.get_raw_message(seq).await {
            Ok(m) => Ok(Some((
                self.entry(m.sequence, &m.headers, &m.payload),
                format!("{}-{}", m.sequence, m.time.unix_timestamp_nanos()),
            ))),
            Err(e) => {
                use async_nats::jetstream::stream::RawMessageErrorKind;
                match e.kind() {
                    RawMessageErrorKind::NoMessageFound => Ok(None),
                    _ => Err(storage(format!("reading dead letter {seq}"), e)),
                }
            }
        }
    }

    /// Retries one dead letter: publishes its original bytes on its retry
    /// subject (`<prefix>._retry.<service>.<entry>`), then removes it.
    /// Returns whether this call retried it: `false` when it was not there,
    /// or when another retry of it won.
    ///
    /// The publish is a compare-and-set: it expects the entry's retry
    /// subject to hold nothing yet (`Nats-Expected-Last-Subject-Sequence`
    /// 0), so of concurrent retries of one entry the stream stores one
    /// and refuses the others, whatever the duplicate window. The entry
    /// is removed only once the stream acked the publish, so a retry that
    /// fails, or a process that stops in between, loses nothing; the next
    /// retry of an entry whose publish was stored finds its subject taken
    /// and only removes it.
    pub async fn retry(&self, id: DeadLetterId) -> Result<bool, DeadLetterError> {
        Ok(self.retry_entry(id).await?.is_some())
    }

    /// [`retry`](Self::retry), returning the entry this call retried.
    pub(crate) async fn retry_entry(
        &self,
        id: DeadLetterId,
    ) -> Result<Option<DeadLetter>, DeadLetterError> {
        let stream = self.stream().await?;
        let Some((entry, token)) = self.read_stored(&stream, id.0).await? else {
            return Ok(None);
        };
        let won = self.republish(&entry, &token).await?;
        // Published by this call or by another: either way the entry is
        // retried, and whoever gets here first deletes it.
        self.discard(id).await?;
        Ok(won.then_some(entry))
    }

    /// Retries every dead letter of `event_type`, oldest first; returns how
    /// many.
    pub async fn retry_type(&self, event_type: &str) -> Result<usize, DeadLetterError> {
        let retried = self
            .retry_all(&DeadLetterFilter::all().event_type(event_type))
            .await?;
        Ok(retried.len())
    }

    /// Retries every dead letter that passes `filter`, oldest first, each
    /// as [`retry`](Self::retry) does; returns those this call retried. A
    /// failure part way leaves the rest in the queue.
    pub async fn retry_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let entries = self.list(filter).await?;
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            if let Some(entry) = self.retry_entry(entry.id).await? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// The consumer services that have a DLQ stream under `subjects`, by
    /// name, sorted: what an operator can pass to [`new`](Self::new).
    pub async fn services(js: &Context, subjects: &Subjects) -> Result<Vec<String>, NatsError> {
        use futures_util::TryStreamExt;
        // `events_dlq.`: a DLQ stream holds `events_dlq.<service>` and is
        // named after the service.
        let prefix = subjects.dlq("");
        let infos: Vec<_> = js
            .streams()
            .try_collect()
            .await
            .map_err(|e| NatsError::new("listing streams".to_owned(), e))?;
        let mut services: Vec<String> = infos
            .iter()
            .flat_map(|info| {
                info.config
                    .subjects
                    .iter()
                    .filter_map(|subject| subject.strip_prefix(&prefix))
                    .filter(|service| info.config.name == subjects.dlq_stream(service))
            })
            .map(str::to_owned)
            .collect();
        services.sort();
        services.dedup();
        Ok(services)
    }

    /// Publishes `entry` on its retry subject, expecting the subject
    /// empty; returns whether this publish is the one stored.
    async fn republish(&self, entry: &DeadLetter, token: &str) -> Result<bool, DeadLetterError> {
        use async_nats::jetstream::context::PublishErrorKind;
        let subject = self.subjects.retry(&self.service, token);
        let mut h = HeaderMap::new();
        // A fresh message id: the original one may still be inside the
        // event stream's duplicate window.
        h.insert(
            headers::MSG_ID,
            format!(
                "{}:retry:{}:{token}",
                entry.event_id.as_deref().unwrap_or("unknown"),
                self.service,
            )
            .as_str(),
        );
        h.insert(async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, "0");
        if let Some(key) = &entry.partition_key {
            h.insert(headers::PARTITION_KEY, key.as_str());
        }
        let failed = |e| storage(format!("retrying dead letter {} to {subject}", entry.id), e);
        let ack = self
            .js
            .publish_with_headers(subject.clone(), h, Bytes::copy_from_slice(&entry.payload))
            .await
            .map_err(failed)?;
        match ack.await {
            // A duplicate: the same entry's publish, stored before.
            Ok(ack) => Ok(!ack.duplicate),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }
}

impl DeadLetters for NatsDeadLetters {
    async fn put(&self, entry: DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
        let subject = self.subjects.dlq(&self.service);
        let mut h = HeaderMap::new();
        let rfc = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        h.insert(headers::DLQ_CONSUMER, entry.consumer.as_str());
        // Header values are one line.
        h.insert(
            headers::DLQ_ERROR,
            entry.error.replace(['\r', '\n'], " ").as_str(),
        );
        h.insert(headers::DLQ_CLASS, class_label(entry.class));
        h.insert(headers::DLQ_ATTEMPTS, entry.attempts.to_string().as_str());
        h.insert(
            headers::DLQ_FIRST_FAILURE,
            rfc(entry.first_failure).as_str(),
        );
        h.insert(headers::DLQ_LAST_FAILURE, rfc(entry.last_failure).as_str());
        if let Some(key) = &entry.partition_key {
            h.insert(headers::PARTITION_KEY, key.as_str());
        }
        let ack = self
            .js
            .publish_with_headers(subject.clone(), h, Bytes::copy_from_slice(&entry.payload))
            .await
            .map_err(|e| storage(format!("dead-lettering to {subject}"), e))?
            .await
            .map_err(|e| storage(format!("dead-lettering to {subject}"), e))?;
        Ok(DeadLetterId(ack.sequence))
    }

    async fn list(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let mut stream = self.stream().await?;
        let state = stream
            .info()
            .await
            .map_err(|e| storage("reading the DLQ stream".to_owned(), e))?
            .state
            .clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return Ok(out);
        }
        for seq in state.first_sequence..=state.last_sequence {
            if let Some(entry) = self.read(&stream, seq).await? {
                if filter.matches(&entry) {
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    async fn get(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        let stream = self.stream().await?;
        self.read(&stream, id.0).await
    }

    async fn take(&self, id: DeadLetterId) -> Result<Option<DeadLetter>, DeadLetterError> {
        let stream = self.stream().await?;
        let entry = self.read(&stream, id.0).await?;
        if entry.is_some() && !self.discard(id).await? {
            return Ok(None);
        }
        Ok(entry)
    }

    async fn take_all(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let entries = self.list(filter).await?;
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            if self.discard(entry.id).await? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    async fn discard(&self, id: DeadLetterId) -> Result<bool, DeadLetterError> {
        let stream = self.stream().await?;
        match stream.delete_message(id.0).await {
            Ok(deleted) => Ok(deleted),
            Err(e) => {
                if self.read(&stream, id.0).await?.is_none() {
                    Ok(false)
                } else {
                    Err(storage(format!("discarding dead letter {id}"), e))
                }
            }
        }
    }

    async fn depth(&self, filter: &DeadLetterFilter) -> Result<usize, DeadLetterError> {
        if filter.event_type.is_none() {
            let mut stream = self.stream().await?;
            let info = stream
                .info()
                .await
                .map_err(|e| storage("reading the DLQ stream".to_owned(), e))?;
            return Ok(usize::try_from(info.state.messages).unwrap_or(usize::MAX));
        }
        Ok(self.list(filter).await?.len())
    }
}
