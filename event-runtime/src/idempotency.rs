//! Idempotent consumers: idempotency keys, the processed-events store and the
//! handler that runs once per key.
