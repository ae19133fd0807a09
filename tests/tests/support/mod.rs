//! Broken copies of a valid payload, for the tests that compare how two
//! readers refuse them (`error_paths.rs`, `own_deserialize.rs`).

use serde_json::Value;

/// Every JSON pointer to a value in `value`, the value itself first.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(members) => {
            for (k, v) in members {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `data` broken in one place each: every value replaced by each of
/// `replacements`, every member of an object removed, a member `zzUnknown`
/// with the value `unknown` added to every object, and every non-empty
/// array given its first item again and a `null`.
pub fn broken(data: &Value, replacements: &[Value], unknown: &Value) -> Vec<Value> {
    let mut at = Vec::new();
    pointers(data, String::new(), &mut at);
    let mut out = Vec::new();
    for pointer in &at {
        for replacement in replacements {
            let mut changed = data.clone();
            if pointer.is_empty() {
                changed = replacement.clone();
            } else if let Some(v) = changed.pointer_mut(pointer) {
                *v = replacement.clone();
            }
            out.push(changed);
        }
        let target = data.pointer(pointer).expect("a pointer of the walk");
        if let Value::Object(members) = target {
            for key in members.keys() {
                let mut changed = data.clone();
                if let Some(Value::Object(m)) = changed.pointer_mut(pointer) {
                    m.remove(key);
                }
                out.push(changed);
            }
            let mut changed = data.clone();
            if let Some(Value::Object(m)) = changed.pointer_mut(pointer) {
                m.insert("zzUnknown".to_owned(), unknown.clone());
            }
            out.push(changed);
        }
        if let Value::Array(items) = target {
            if let Some(first) = items.first() {
                let mut changed = data.clone();
                if let Some(Value::Array(a)) = changed.pointer_mut(pointer) {
                    a.push(first.clone());
                    a.push(Value::Null);
                }
                out.push(changed);
            }
        }
    }
    out
}
