//! Binary mode: the attributes in transport headers, the payload alone as
//! the body.

use super::attributes::{self, Incoming, Names, Slot};
use crate::decode::{self, Str, truncate};
use crate::error::{DecodeError, DecodeErrorKind as Kind, EncodeError};
use crate::{Envelope, Event};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode, utf8_percent_encode};
use serde_json::Value;
use std::borrow::Cow;

/// The header that carries `datacontenttype` in every binding.
pub const CONTENT_TYPE_HEADER: &str = "content-type";

/// What the HTTP binding percent-encodes in a header value: everything
/// outside printable ASCII (U+0021 to U+007E), plus space, `"` and `%`.
/// Non-ASCII characters are encoded as their UTF-8 bytes.
const HEADER_VALUE: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'%');

/// A CloudEvents protocol binding for binary mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// Kafka: headers `ce_<attribute>`, values as UTF-8 bytes unchanged;
    /// the partition key is the record key.
    Kafka,
    /// HTTP: headers `ce-<attribute>`, values percent-encoded.
    Http,
    /// NATS: as HTTP, headers `ce-<attribute>`, values percent-encoded.
    Nats,
}

impl Binding {
    /// The prefix of attribute headers: `ce_` for Kafka, `ce-` otherwise.
    pub const fn prefix(self) -> &'static str {
        match self {
            Binding::Kafka => "ce_",
            Binding::Http | Binding::Nats => "ce-",
        }
    }

    /// Whether header values are percent-encoded.
    pub const fn percent_encodes(self) -> bool {
        match self {
            Binding::Kafka => false,
            Binding::Http | Binding::Nats => true,
        }
    }

    fn names(self) -> Names {
        Names {
            prefix: self.prefix(),
            content_type: CONTENT_TYPE_HEADER,
        }
    }
}

/// An event in binary mode: headers, body and, for Kafka, the record key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryMessage {
    /// The attribute headers (`ce-id`, `ce_tenantid`, ...) and
    /// `content-type`, in a stable order: names lower case, values encoded
    /// as the binding wants them.
    pub headers: Vec<(String, String)>,
    /// The payload as JSON.
    pub body: Vec<u8>,
    /// The partition key of the payload, if it names one: the Kafka record
    /// key, so one entity always lands on one partition.
    pub key: Option<String>,
}

impl BinaryMessage {
    /// The value of header `name` (compared without regard to case), as
    /// written.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl<T: Event> Envelope<T> {
    /// Encodes the envelope as a CloudEvent in binary mode for `binding`:
    /// one header per attribute, `datacontenttype` as `content-type`, the
    /// payload as the body, the partition key as the record key.
    ///
    /// Refuses what [`to_cloudevent_json`](Self::to_cloudevent_json)
    /// refuses. Booleans and integers in metadata are written in their
    /// canonical string form (`true`, `42`), since headers are strings.
    pub fn to_binary(&self, binding: Binding) -> Result<BinaryMessage, EncodeError> {
        let mut buf = [0u8; 64];
        let attrs = attributes::outgoing(self, &mut buf)?;
        let prefix = binding.prefix();
        let mut headers = Vec::with_capacity(attrs.len());
        for (name, value) in &attrs {
            let name = if name == "datacontenttype" {
                CONTENT_TYPE_HEADER.to_owned()
            } else {
                format!("{prefix}{name}")
            };
            let value = value.to_header_string();
            let value = if binding.percent_encodes() {
                utf8_percent_encode(&value, HEADER_VALUE).to_string()
            } else {
                value.into_owned()
            };
            headers.push((name, value));
        }
        let body = serde_json::to_vec(&self.data).map_err(EncodeError::json)?;
        Ok(BinaryMessage {
            headers,
            body,
            key: self.data.partition_key(),
        })
    }

    /// Decodes a CloudEvent in binary mode for `binding` from its headers and
    /// body. Headers other than `content-type` and the binding's `ce-` /
    /// `ce_` ones are transport business and ignored; for HTTP and NATS,
    /// names are compared without regard to case and values
    /// percent-decoded.
    ///
    /// Refuses what [`from_cloudevent_json`](Self::from_cloudevent_json)
    /// refuses, naming the header (`ce-time`), and a header value that is
    /// not UTF-8. Extensions the envelope does not own become metadata
    /// entries, as strings: binary mode does not carry their types.
    pub fn from_binary<I, K, V>(
        binding: Binding,
        headers: I,
        body: &[u8],
    ) -> Result<Self, DecodeError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let names = binding.names();
        let mut incoming = Incoming::default();
        let mut seen_partition = false;
        for (name, value) in headers {
            let name = name.as_ref();
            let attribute = if name.eq_ignore_ascii_case(CONTENT_TYPE_HEADER) {
                "datacontenttype".to_owned()
            } else if let Some(rest) = strip_prefix(name, binding.prefix()) {
                match binding {
                    // HTTP and NATS header names are not case-sensitive.
                    Binding::Http | Binding::Nats => rest.to_ascii_lowercase(),
                    Binding::Kafka => rest.to_owned(),
                }
            } else {
                continue;
            };
            let path = if attribute == "datacontenttype" {
                CONTENT_TYPE_HEADER.to_owned()
            } else {
                format!("{}{attribute}", binding.prefix())
            };
            let value = header_value(binding, value.as_ref(), &path)?;
            match Slot::of(&attribute) {
                Slot::Extension => incoming.extension(&attribute, &path, Value::String(value)),
                Slot::Partition => {
                    if seen_partition {
                        incoming.duplicate(&path);
                    }
                    seen_partition = true;
                }
                slot => {
                    if let Some(target) = incoming.slot(&slot) {
                        if target.is_some() {
                            incoming.duplicate(&path);
                        } else {
                            *target = Some(Str(Cow::Owned(value)));
                        }
                    }
                }
            }
        }
        let head = attributes::check::<T>(incoming, &names)?;
        let context = |e: DecodeError| e.with_context(Some(head.id()), Some(T::TYPE));
        if body.is_empty() {
            return Err(context(DecodeError::new(
                Kind::MissingField,
                "data",
                "missing required payload: the body is empty",
            )));
        }
        match serde_json::from_slice::<T>(body) {
            Ok(data) => Ok(head.into_envelope(data)),
            Err(fast) => {
                let error = match std::str::from_utf8(body) {
                    Ok(text) => decode::check_data::<T>(text).unwrap_or_else(|| {
                        DecodeError::new(Kind::InvalidData, "data", fast.to_string())
                    }),
                    Err(e) => DecodeError::new(
                        Kind::Malformed,
                        "data",
                        format!("the body is not UTF-8 JSON: {e}"),
                    ),
                };
                Err(context(error))
            }
        }
    }
}

/// `name` without `prefix`, compared without regard to case.
fn strip_prefix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

/// A header value as text: UTF-8, percent-decoded for HTTP and NATS.
fn header_value(binding: Binding, raw: &[u8], path: &str) -> Result<String, DecodeError> {
    let not_utf8 = |e: std::str::Utf8Error, what: &str| {
        DecodeError::new(
            Kind::FieldType,
            path,
            format!("header `{path}` is not UTF-8{what}: {e}"),
        )
    };
    if binding.percent_encodes() {
        let text = std::str::from_utf8(raw).map_err(|e| not_utf8(e, ""))?;
        if let Some(bad) = bad_escape(text) {
            return Err(DecodeError::new(
                Kind::FieldType,
                path,
                format!(
                    "header `{path}` has an invalid percent-encoding `{bad}` in {:?}",
                    truncate(text)
                ),
            ));
        }
        let decoded = percent_decode(raw)
            .decode_utf8()
            .map_err(|e| not_utf8(e, " once percent-decoded"))?;
        Ok(decoded.into_owned())
    } else {
        match std::str::from_utf8(raw) {
            Ok(text) => Ok(text.to_owned()),
            Err(e) => Err(not_utf8(e, "")),
        }
    }
}

/// The first `%` not followed by two hex digits, with what follows it.
fn bad_escape(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'%') {
        let at = i + offset;
        let ok = bytes.len() > at + 2
            && bytes[at + 1].is_ascii_hexdigit()
            && bytes[at + 2].is_ascii_hexdigit();
        if !ok {
            let mut end = (at + 3).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            return Some(&text[at..end]);
        }
        i = at + 3;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encodes_what_the_http_binding_names() {
        let encoded = utf8_percent_encode("a b\"c%d\u{e9}\n~!", HEADER_VALUE).to_string();
        assert_eq!(encoded, "a%20b%22c%25d%C3%A9%0A~!");
    }

    #[test]
    fn finds_bad_escapes() {
        assert_eq!(bad_escape("a%20b"), None);
        assert_eq!(bad_escape("100%"), Some("%"));
        assert_eq!(bad_escape("%2"), Some("%2"));
        assert_eq!(bad_escape("a%zzb"), Some("%zz"));
        assert_eq!(bad_escape("%C3%A9%g"), Some("%g"));
    }
}
