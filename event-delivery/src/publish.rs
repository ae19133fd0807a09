//! Publishing through an asynchronous [`Transport`], with the producer
//! checked by the types: the runtime's [`Publisher`] and [`ProducedBy`].

use crate::metrics_names as m;
use crate::transport::{Message, Transport};
use event_runtime::{Envelope, ProducedBy, PublishError, Publisher, Service};
use std::future::Future;
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
            metrics::counter!(m::PUBLISHED, "type" => E::TYPE, "version" => E::VERSION.to_string())
                .increment(1);
            Ok(())
        }
    }
}
