#![deny(warnings)]
#![deny(clippy::all)]

use event_runtime::{Event, EventData, Map, OpenEnum, Uuid, Value};

mod renamed {
    pub use event_runtime as rt;
}

mod money {
    pub fn serialize<S: serde::Serializer>(cents: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{:02}", cents / 100, cents % 100))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        let (units, cents) = s.split_once('.').ok_or_else(|| serde::de::Error::custom("no cents"))?;
        let units: i64 = units.parse().map_err(serde::de::Error::custom)?;
        let cents: i64 = cents.parse().map_err(serde::de::Error::custom)?;
        Ok(units * 100 + cents)
    }
}

/// A part of the payload.
#[derive(Debug, EventData)]
#[event(crate = "::event_runtime")]
pub struct Address {
    #[event(min_length = 1, max_length = 80)]
    pub street: String,
    #[event(pattern = "^[0-9]{5}$")]
    pub zip: Option<String>,
}

#[derive(Debug, PartialEq, OpenEnum)]
pub enum Tier {
    Free,
    #[event(rename = "PRO")]
    Pro,
    #[event(other)]
    Other(String),
}

/// Every key of the grammar, once.
#[derive(Debug, Event)]
#[event(type = "payment.received", version = "2.3", producer = "billing-service",
        delivery = "exactly-once-effect", ordering = "global",
        consumer(service = "ledger-service", reason = "books the payment"),
        consumer(service = "analytics-service", reason = "revenue metrics"),
        crate = "renamed::rt")]
pub struct PaymentReceived {
    /// The payment.
    #[event(key)]
    pub payment_id: Uuid,
    #[event(key, partition)]
    pub account_id: String,
    #[event(rename = "amountInCents")]
    #[serde(with = "money")]
    pub amount: i64,
    #[event(minimum = -10, maximum = 10.5)]
    pub adjustment: f64,
    #[event(exclusive_minimum = 0, exclusive_maximum = 1000)]
    pub fee: u32,
    #[event(min_items = 1, max_items = 5, max_length = 20)]
    pub tags: Vec<String>,
    #[event(constant = "EUR")]
    pub currency: String,
    #[event(since = "2.1")]
    pub address: Option<Address>,
    #[event(since = "2.2", default)]
    pub tier: Option<Tier>,
    #[event(since = "2.3", default)]
    pub retries: u32,
    #[event(not_sensitive)]
    pub token_count: u32,
    #[deprecated = "use tier"]
    pub plan: Option<String>,
    #[event(unknown)]
    pub rest: Map<String, Value>,
}

fn main() {
    let contract = PaymentReceived::contract();
    assert_eq!(contract.consumers.len(), 2);
    assert_eq!(contract.key_fields, ["paymentId", "accountId"]);
    assert_eq!(<Address as EventData>::fields().len(), 2);
}
