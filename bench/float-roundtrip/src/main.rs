//! Parses a metadata-like document of floats N times into `Value` and
//! encodes it back; `run.sh` counts the instructions with and without
//! serde_json's `float_roundtrip`.

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let mut doc = String::from("{\"readings\":[");
    let mut written = Vec::new();
    let mut x: f64 = 0.1;
    for i in 0..200 {
        if i > 0 {
            doc.push(',');
        }
        x = x * 1.618_033_988_749_895 + 0.000_123_456_789;
        if x > 1e6 {
            x /= 1e6;
        }
        written.push(x);
        doc.push_str(&format!("{x}"));
    }
    doc.push_str("],\"score\":85.25,\"ratio\":0.30000000000000004}");
    let mut exact = 0usize;
    let mut differ = 0usize;
    for _ in 0..n {
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let back = serde_json::to_string(&value).unwrap();
        let again: serde_json::Value = serde_json::from_str(&back).unwrap();
        let read: Vec<f64> = again["readings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        if read == written {
            exact += 1;
        } else {
            differ = read.iter().zip(&written).filter(|(a, b)| a != b).count();
        }
    }
    println!("{exact} of {n} round trips kept every float; {differ} of 200 floats changed otherwise");
}
