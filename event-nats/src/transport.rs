use crate::error::NatsError;
use crate::headers;
use crate::subject::Subjects;
use async_nats::HeaderMap;
use async_nats::jetstream::Context;
use async_nats::jetstream::context::PublishErrorKind;
use bytes::Bytes;
use event_delivery::{Message, Transport};
use event_runtime::Delivery;
use std::time::Duration;

/// Publishes events to JetStream: the `event-delivery`
/// [`Transport`](event_delivery::Transport) of a
/// [`Publisher`](event_runtime::Publisher).
///
/// - The payload is the envelope as the runtime encodes it (structured
///   JSON); the subject is [`Subjects::event`]; `Nats-Msg-Id` is the event
///   id, so a duplicate inside the stream's duplicate window is stored once.
/// - At-least-once (and exactly-once-effect) events wait for the stream's
///   PubAck; a timeout, or no stream answering while the server restarts,
///   is retried with the same `Nats-Msg-Id` (so a publish that was stored
///   but whose ack was lost is not stored twice), up to
///   [`attempts`](Self::attempts) times.
/// - At-most-once events are a core publish: no ack, no retry.
#[derive(Debug, Clone)]
pub struct NatsTransport {
    js: Context,
    subjects: Subjects,
    attempts: u32,
    backoff: Duration,
}

impl NatsTransport {
    /// A transport on `js` with the default subjects (`events.…`).
    pub fn new(js: Context) -> Self {
        NatsTransport {
            js,
            subjects: Subjects::default(),
            attempts: 10,
            backoff: Duration::from_millis(200),
        }
    }

    /// Subjects under another prefix.
    pub fn subjects(mut self, subjects: Subjects) -> Self {
        self.subjects = subjects;
        self
    }

    /// How many times an acknowledged publish is tried before it fails
    /// (default 10, with a backoff from 200 ms doubling to 5 s).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The JetStream context.
    pub fn context(&self) -> &Context {
        &self.js
    }

    fn headers(message: &Message) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, message.id.as_str());
        h.insert(headers::DELIVERY, message.delivery.as_str());
        if let Some(key) = &message.partition_key {
            h.insert(headers::PARTITION_KEY, &**key);
        }
        h
    }

    /// Publishes `payload` on `subject` with `headers`, waiting for the
    /// PubAck and retrying timeouts; returns whether the stream reported a
    /// duplicate.
    pub(crate) async fn publish_acked(
        &self,
        subject: String,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<bool, NatsError> {
        let mut delay = self.backoff;
        let mut attempt = 1;
        loop {
            let result = match self
                .js
                .publish_with_headers(subject.clone(), headers.clone(), payload.clone())
                .await
            {
                Ok(ack) => ack.await.map(|ack| ack.duplicate),
                Err(e) => Err(e),
            };
            match result {
                Ok(duplicate) => return Ok(duplicate),
                Err(e)
                    if attempt < self.attempts
                        && matches!(
                            e.kind(),
                            PublishErrorKind::TimedOut
                                | PublishErrorKind::StreamNotFound
                                | PublishErrorKind::BrokenPipe
                                | PublishErrorKind::Other
                        ) =>
                {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                    attempt += 1;
                }
                Err(e) => {
                    return Err(NatsError::new(
                        format!("publishing to {subject} (attempt {attempt})"),
                        e,
                    ));
                }
            }
        }
    }
}

impl Transport for NatsTransport {
    type Error = NatsError;

    async fn send(&self, message: Message) -> Result<(), NatsError> {
        let subject = self.subjects.event(message.event_type, message.major);
        let headers = Self::headers(&message);
        // The encoded envelope is sent as it is, not copied: `Bytes` takes
        // over the shared buffer.
        let payload = Bytes::from_owner(message.payload);
        if message.delivery == Delivery::AtMostOnce {
            return self
                .js
                .client()
                .publish_with_headers(subject.clone(), headers, payload)
                .await
                .map_err(|e| NatsError::new(format!("publishing to {subject}"), e));
        }
        self.publish_acked(subject, headers, payload).await?;
        Ok(())
    }
}
