/// The naming scheme of subjects and streams, under one prefix (`events`
/// by default; tests use a unique prefix each).
///
/// | what | subject | stream |
/// |---|---|---|
/// | an event | `events.enrollment.completed.v1` (`<prefix>.<type>.v<major>`) | `EVENTS` (`<prefix>.>`) |
/// | a dead letter retried to one service | `events._retry.certificate-service.<entry>` | `EVENTS` |
/// | a dead letter of one service | `events_dlq.certificate-service` | `EVENTS_DLQ_CERTIFICATE-SERVICE` |
///
/// The type's dots are subject tokens, so `events.enrollment.>` selects a
/// domain and `events.*.*.v1` every first major. `_retry` cannot clash with
/// an event: event domains are lower-case words.
///
/// ```
/// use event_nats::Subjects;
/// let s = Subjects::new("events");
/// assert_eq!(s.event("enrollment.completed", 1), "events.enrollment.completed.v1");
/// assert_eq!(s.stream(), "EVENTS");
/// assert_eq!(s.dlq_stream("certificate-service"), "EVENTS_DLQ_CERTIFICATE-SERVICE");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Default for Subjects {
    fn default() -> Self {
        Subjects::new("events")
    }
}

impl Subjects {
    /// Subjects under `prefix` (subject tokens, `events` or `test_42.events`).
    pub fn new(prefix: impl Into<String>) -> Self {
        Subjects {
            prefix: prefix.into(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The subject of an event type at a major version.
    pub fn event(&self, event_type: &str, major: u32) -> String {
        format!("{}.{event_type}.v{major}", self.prefix)
    }

    /// The subject dead letter `entry` of `service` is retried on, one per
    /// entry: only that service's retry consumer reads it, and a publish
    /// that expects it empty is how one retry of an entry wins.
    pub fn retry(&self, service: &str, entry: &str) -> String {
        format!("{}._retry.{service}.{entry}", self.prefix)
    }

    /// The subjects of every retried dead letter of `service`: its retry
    /// consumer's filter.
    pub fn retries(&self, service: &str) -> String {
        format!("{}._retry.{service}.*", self.prefix)
    }

    /// The subjects of the event stream.
    pub fn stream_subjects(&self) -> String {
        format!("{}.>", self.prefix)
    }

    /// The event stream's name.
    pub fn stream(&self) -> String {
        stream_name(&self.prefix)
    }

    /// The subject of the dead letters of `service`.
    pub fn dlq(&self, service: &str) -> String {
        format!("{}_dlq.{service}", self.prefix)
    }

    /// The DLQ stream of `service`.
    pub fn dlq_stream(&self, service: &str) -> String {
        format!("{}_DLQ_{}", self.stream(), stream_name(service))
    }
}

/// Stream names may not hold `.`, `*`, `>` or spaces.
fn stream_name(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '.' | '*' | '>' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}
