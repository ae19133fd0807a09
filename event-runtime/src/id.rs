//! Event ids.

use core::fmt;
use std::sync::Mutex;

/// The prefix of ids this crate generates.
pub const ID_PREFIX: &str = "evt_";

/// A globally unique event id, the default idempotency key.
///
/// Ids generated here are `evt_` followed by a ULID: 48 bits of milliseconds
/// then 80 random bits, monotonic within a process, so they sort by creation
/// time as strings. Ids read from the wire may be any non-empty string, since
/// other producers make ids their own way.
///
/// ```
/// use event_runtime::EventId;
/// let a = EventId::generate();
/// let b = EventId::generate();
/// assert!(a.as_str().starts_with("evt_"));
/// assert!(a < b);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(String);

static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());

impl EventId {
    /// A new id, later than every id generated before it in this process.
    pub fn generate() -> Self {
        let ulid = {
            let mut generator = GENERATOR
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // The generator only fails when 2^80 ids were made in one
            // millisecond; a fresh random ULID is then still unique.
            generator.generate().unwrap_or_else(|_| ulid::Ulid::new())
        };
        let mut s = String::with_capacity(ID_PREFIX.len() + ulid::ULID_LEN);
        s.push_str(ID_PREFIX);
        s.push_str(&ulid.to_string());
        EventId(s)
    }

    /// Takes an id made elsewhere. Returns `None` for an empty string.
    pub fn new(id: impl Into<String>) -> Option<Self> {
        let id = id.into();
        (!id.is_empty()).then_some(EventId(id))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_wire(id: String) -> Self {
        debug_assert!(!id.is_empty());
        EventId(id)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EventId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_sorted_across_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..2000).map(|_| EventId::generate()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            let ids = h.join().unwrap();
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "ids of one thread out of order"
            );
            all.extend(ids);
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "duplicate ids");
        assert_eq!(all[0].as_str().len(), 4 + 26);
    }

    #[test]
    fn empty_ids_are_refused() {
        assert!(EventId::new("").is_none());
        assert_eq!(EventId::new("msg-1").unwrap().as_str(), "msg-1");
    }
}
