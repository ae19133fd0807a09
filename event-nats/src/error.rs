use std::fmt;

/// A NATS operation that failed: what was being done, and the client's
/// error.
#[derive(Debug)]
pub struct NatsError {
    what: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl NatsError {
    pub(crate) fn new(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        NatsError {
            what: what.into(),
            source: source.into(),
        }
    }

    /// What was being done.
    pub fn what(&self) -> &str {
        &self.what
    }
}

impl fmt::Display for NatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.source)
    }
}

impl std::error::Error for NatsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
