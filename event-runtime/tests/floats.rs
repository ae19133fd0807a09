//! A float in a `Value` (here the envelope's metadata) reads back as the
//! same `f64` after a decode and an encode: serde_json's `float_roundtrip`.

use event_runtime::{Envelope, Event, Map, Value, Version};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadingTaken {
    sensor_id: String,
}

impl Event for ReadingTaken {
    const TYPE: &'static str = "reading.taken";
    const VERSION: Version = Version::new(1, 0);
    const PRODUCER: &'static str = "sensor-service";
}

#[test]
fn floats_in_metadata_survive_a_round_trip_bit_for_bit() {
    // Values whose shortest decimal form the fast parser misreads by an ulp,
    // and the edges of the range.
    let floats = [
        0.1 + 0.2,
        2.225_073_858_507_201_4e-308,
        1.797_693_134_862_315_7e308,
        5e-324,
        9_007_199_254_740_993.0,
        0.000_123_456_789_012_345_68,
        123_456.789_012_345_67,
    ];
    let mut more = Vec::new();
    let mut x: f64 = 0.1;
    for _ in 0..2_000 {
        x = x * 1.618_033_988_749_895 + 0.000_123_456_789;
        if x > 1e6 {
            x /= 1e6;
        }
        more.push(x);
    }
    let mut metadata = Map::new();
    let all: Vec<f64> = floats.iter().copied().chain(more).collect();
    metadata.insert(
        "readings".into(),
        Value::Array(all.iter().map(|f| Value::from(*f)).collect()),
    );
    let env = Envelope::new(ReadingTaken {
        sensor_id: "s_1".into(),
    })
    .tenant("tenant_1")
    .correlation("req_1")
    .metadata(metadata)
    .build();
    let bytes = env.to_json_vec().unwrap();
    let back = Envelope::<ReadingTaken>::from_json_slice(&bytes).unwrap();
    let read: Vec<f64> = back.metadata().unwrap()["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let changed: Vec<(f64, f64)> = all
        .iter()
        .zip(&read)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .map(|(a, b)| (*a, *b))
        .collect();
    assert!(
        changed.is_empty(),
        "{} floats changed, e.g. {:?}",
        changed.len(),
        changed.first()
    );
    assert_eq!(read.len(), all.len());
}
