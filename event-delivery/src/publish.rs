//! Publishing through an asynchronous [`Transport`], with the producer
//! checked by the types: the runtime's [`Publisher`] and [`ProducedBy`].

use crate::metrics_names as m;
use crate::transport::{Message, Transport};
use event_runtime::{Envelope, Event, ProducedBy, PublishError, Publisher, Service, Version};
use metrics::{Key, Label, Level, Metadata};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// `publish` for a [`Publisher`] over an asynchronous [`Transport`]: only
/// the events service `S` produces compile.
pub trait PublishAsync<S: Service, X: Transport> {
    /// Encodes the envelope, checks its source is `S`, and sends it; waits
    /// while the transport pushes back.
    fn publish<E: ProducedBy<S>>(
        &self,
        envelope: &Envelope<E>,
    ) -> impl Future<Output = Result<(), PublishError<X::Error>>> + Send;
}

impl<S: Service, X: Transport> PublishAsync<S, X> for Publisher<S, X> {
    fn publish<E: ProducedBy<S>>(
        &self,
        envelope: &Envelope<E>,
    ) -> impl Future<Output = Result<(), PublishError<X::Error>>> + Send {
        let encoded = self.encode(envelope);
        async move {
            let outbound = encoded.map_err(|e| match e {
                PublishError::Encode(e) => PublishError::Encode(e),
                PublishError::WrongSource { service, source } => {
                    PublishError::WrongSource { service, source }
                }
                PublishError::Transport(never) => match never {},
            })?;
            let message = Message {
                event_type: outbound.event_type,
                major: outbound.major,
                id: outbound.id,
                partition_key: outbound.partition_key.map(Arc::from),
                delivery: E::DELIVERY,
                payload: outbound.payload.into(),
            };
            self.transport()
                .send(message)
                .await
                .map_err(PublishError::Transport)?;
            metrics::with_recorder(|recorder| {
                recorder.register_counter(&Published::<E>::KEY, &PUBLISHED_METADATA)
            })
            .increment(1);
            Ok(())
        }
    }
}

/// What `metrics::counter!` passes for a counter registered in this module.
static PUBLISHED_METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The key of [`m::PUBLISHED`] for event type `E`, built at compile time: a
/// publish allocates no label and hashes nothing. The handle itself is not
/// kept, so a recorder installed (or scoped to a thread) at any time sees
/// every publish after it.
struct Published<E>(PhantomData<E>);

impl<E: Event> Published<E> {
    const VERSION_DIGITS: VersionText = VersionText::of(E::VERSION);
    const VERSION_BYTES: &'static [u8; VersionText::MAX] = &Self::VERSION_DIGITS.bytes;
    const VERSION: &'static str =
        match std::str::from_utf8(Self::VERSION_BYTES.split_at(Self::VERSION_DIGITS.len).0) {
            Ok(version) => version,
            Err(_) => panic!("ASCII digits and a dot are UTF-8"),
        };
    const LABELS: &'static [Label] = &[
        Label::from_static_parts("type", E::TYPE),
        Label::from_static_parts("version", Self::VERSION),
    ];
    const KEY: Key = Key::from_static_parts(m::PUBLISHED, Self::LABELS);
}

/// `MAJOR.MINOR` written out in a const context.
struct VersionText {
    bytes: [u8; VersionText::MAX],
    len: usize,
}

impl VersionText {
    /// Two `u32`s of 10 digits and the dot.
    const MAX: usize = 21;

    const fn of(version: Version) -> Self {
        let mut text = VersionText {
            bytes: [0; Self::MAX],
            len: 0,
        };
        text.push_number(version.major());
        text.bytes[text.len] = b'.';
        text.len += 1;
        text.push_number(version.minor());
        text
    }

    const fn push_number(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VersionText;
    use event_runtime::Version;

    fn text(version: Version) -> String {
        let t = VersionText::of(version);
        String::from_utf8(t.bytes[..t.len].to_vec()).unwrap()
    }

    #[test]
    fn version_text_is_what_display_writes() {
        for (major, minor) in [(1, 0), (2, 13), (10, 0), (123, 4567), (u32::MAX, u32::MAX)] {
            let version = Version::new(major, minor);
            assert_eq!(text(version), version.to_string());
        }
    }
}
