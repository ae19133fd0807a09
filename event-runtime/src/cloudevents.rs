//! CloudEvents 1.0: the envelope in structured JSON mode and in binary mode
//! headers.
