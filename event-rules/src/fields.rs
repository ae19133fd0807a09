//! Payload field names: which ones look sensitive, which belong to the
//! envelope.
//!
//! Names are compared word by word, whatever their case style:
//! `api_key`, `apiKey`, `ApiKey`, `API_KEY` and `api-key` are the same name.

use core::fmt;
use heck::ToSnakeCase;

/// What a sensitive-looking field name seems to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sensitive {
    /// `password`, `passwd`, `pwd`, `passphrase`.
    Password,
    /// `secret`, `client_secret`.
    Secret,
    /// `token`, `access_token`, `refresh_token`.
    Token,
    /// `api_key`, `apikey`, `access_key`.
    ApiKey,
    /// `private_key`, `secret_key`, `signing_key`.
    PrivateKey,
    /// `credentials`.
    Credentials,
    /// `credit_card_number`, `card_number`, `pan`.
    CardNumber,
    /// `cvv`, `cvc`, `security_code`.
    CardSecurityCode,
    /// `ssn`, `social_security_number`.
    NationalId,
    /// `pin`, `pin_code`.
    Pin,
}

impl Sensitive {
    /// A description for messages: `a password`.
    pub const fn description(self) -> &'static str {
        match self {
            Sensitive::Password => "a password",
            Sensitive::Secret => "a secret",
            Sensitive::Token => "an access token",
            Sensitive::ApiKey => "an API key",
            Sensitive::PrivateKey => "a private key",
            Sensitive::Credentials => "credentials",
            Sensitive::CardNumber => "a payment card number",
            Sensitive::CardSecurityCode => "a card security code",
            Sensitive::NationalId => "a social security number",
            Sensitive::Pin => "a PIN",
        }
    }
}

impl fmt::Display for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// The words of a name in any case style, lower case.
fn words(name: &str) -> Vec<String> {
    name.to_snake_case()
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether the field `name` looks like it holds a secret or personal data
/// that must never travel in an event.
///
/// ```
/// use event_rules::fields::{sensitive_field, Sensitive};
/// assert_eq!(sensitive_field("apiKey"), Some(Sensitive::ApiKey));
/// assert_eq!(sensitive_field("API_KEY"), Some(Sensitive::ApiKey));
/// assert_eq!(sensitive_field("userPassword"), Some(Sensitive::Password));
/// assert_eq!(sensitive_field("creditCardNumber"), Some(Sensitive::CardNumber));
/// assert_eq!(sensitive_field("courseTitle"), None);
/// assert_eq!(sensitive_field("keyboard_layout"), None);
/// ```
pub fn sensitive_field(name: &str) -> Option<Sensitive> {
    let words = words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    if ["password", "passwd", "pwd", "passphrase", "passcode"]
        .iter()
        .any(|w| has(w))
        || words.iter().any(|w| w.ends_with("password"))
    {
        return Some(Sensitive::Password);
    }
    if has("apikey") || pair("api", "key") || pair("access", "key") {
        return Some(Sensitive::ApiKey);
    }
    if pair("private", "key") || pair("secret", "key") || pair("signing", "key") {
        return Some(Sensitive::PrivateKey);
    }
    if has("secret") || has("secrets") {
        return Some(Sensitive::Secret);
    }
    if has("token") || has("tokens") || words.iter().any(|w| w.ends_with("token")) {
        return Some(Sensitive::Token);
    }
    if has("credential") || has("credentials") {
        return Some(Sensitive::Credentials);
    }
    if pair("card", "number")
        || pair("credit", "card")
        || has("cardnumber")
        || has("creditcard")
        || has("pan")
    {
        return Some(Sensitive::CardNumber);
    }
    if has("cvv") || has("cvc") || has("cvv2") || pair("security", "code") {
        return Some(Sensitive::CardSecurityCode);
    }
    if has("ssn") || (pair("social", "security")) {
        return Some(Sensitive::NationalId);
    }
    if has("pin") {
        return Some(Sensitive::Pin);
    }
    None
}

/// The envelope fields a payload must not repeat, as `(words, wire name)`.
const ENVELOPE: &[(&[&str], &str)] = &[
    (&["tenant", "id"], "tenantId"),
    (&["tenant"], "tenantId"),
    (&["correlation", "id"], "correlationId"),
    (&["causation", "id"], "causationId"),
    (&["timestamp"], "timestamp"),
    (&["type"], "type"),
    (&["event", "type"], "type"),
    (&["version"], "version"),
    (&["event", "version"], "version"),
    (&["schema", "version"], "version"),
    (&["event", "id"], "id"),
];

/// The envelope field that a payload field `name` repeats, if any, by its
/// wire name (`tenantId`).
///
/// The envelope already carries the tenant, the correlation and causation
/// ids, the timestamp, the event type, version and id; a payload copy of
/// them can only drift.
///
/// ```
/// use event_rules::fields::envelope_field;
/// assert_eq!(envelope_field("tenant_id"), Some("tenantId"));
/// assert_eq!(envelope_field("CorrelationId"), Some("correlationId"));
/// assert_eq!(envelope_field("eventType"), Some("type"));
/// assert_eq!(envelope_field("completedAt"), None);
/// assert_eq!(envelope_field("courseType"), None);
/// ```
pub fn envelope_field(name: &str) -> Option<&'static str> {
    let words = words(name);
    ENVELOPE
        .iter()
        .find(|(pattern, _)| {
            words.len() == pattern.len() && words.iter().zip(*pattern).all(|(a, b)| a == b)
        })
        .map(|(_, wire)| *wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_in_every_case_style() {
        for name in [
            "password",
            "Password",
            "user_password",
            "userPassword",
            "USER_PASSWORD",
            "user-password",
            "newPassword",
        ] {
            assert_eq!(sensitive_field(name), Some(Sensitive::Password), "{name}");
        }
        for name in ["api_key", "apiKey", "ApiKey", "APIKey", "API_KEY", "apikey"] {
            assert_eq!(sensitive_field(name), Some(Sensitive::ApiKey), "{name}");
        }
        for name in ["token", "accessToken", "refresh_token", "authToken"] {
            assert_eq!(sensitive_field(name), Some(Sensitive::Token), "{name}");
        }
        for name in ["ssn", "SSN", "socialSecurityNumber"] {
            assert_eq!(sensitive_field(name), Some(Sensitive::NationalId), "{name}");
        }
        assert_eq!(sensitive_field("client_secret"), Some(Sensitive::Secret));
        assert_eq!(
            sensitive_field("credit_card_number"),
            Some(Sensitive::CardNumber)
        );
        assert_eq!(sensitive_field("cardNumber"), Some(Sensitive::CardNumber));
        assert_eq!(sensitive_field("cvv"), Some(Sensitive::CardSecurityCode));
        assert_eq!(sensitive_field("privateKey"), Some(Sensitive::PrivateKey));
    }

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "enrollment_id",
            "courseTitle",
            "score",
            "total_duration",
            "keyboard",
            "monkey",
            "spinner",
            "passed",
            "secretary_name",
            "tokenizer_version",
            "card_type",
            "company",
        ] {
            assert_eq!(sensitive_field(name), None, "{name}");
        }
    }

    #[test]
    fn envelope_names() {
        assert_eq!(envelope_field("tenantId"), Some("tenantId"));
        assert_eq!(envelope_field("TENANT_ID"), Some("tenantId"));
        assert_eq!(envelope_field("correlation_id"), Some("correlationId"));
        assert_eq!(envelope_field("timestamp"), Some("timestamp"));
        assert_eq!(envelope_field("type"), Some("type"));
        assert_eq!(envelope_field("event_version"), Some("version"));
        assert_eq!(envelope_field("version"), Some("version"));
        assert_eq!(envelope_field("user_id"), None);
        assert_eq!(envelope_field("course_version"), None);
    }
}
