//! The synthetic catalog of the benchmarks: `n` event schemas of 8
//! properties each (uuid and date-time strings, integers, numbers, an enum,
//! an optional nested object, an array of strings; 5 required).

use std::path::PathBuf;

/// (path relative to the schema root, contents) of `n` event schemas.
pub fn catalog(n: usize) -> Vec<(PathBuf, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let type_name = format!("bench{i:04}.item_created");
            let schema = format!(
                r#"{{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "description": "Synthetic event {i}: an item was created.",
  "x-event": {{
    "type": "{type_name}",
    "version": "1.0",
    "producer": "bench-service",
    "consumers": [{{ "service": "analytics-service", "reason": "counts items" }}],
    "ordering": "per-entity",
    "partitionKey": "itemId"
  }},
  "type": "object",
  "properties": {{
    "itemId": {{ "type": "string", "format": "uuid", "description": "The item." }},
    "createdAt": {{ "type": "string", "format": "date-time", "description": "When it was created." }},
    "quantity": {{ "type": "integer", "minimum": 0, "maximum": 1000, "description": "How many." }},
    "price": {{ "type": "number", "minimum": 0, "description": "Unit price." }},
    "status": {{ "type": "string", "enum": ["active", "paused", "closed"], "description": "Lifecycle state." }},
    "details": {{
      "type": "object",
      "description": "Optional details.",
      "properties": {{
        "label": {{ "type": "string", "maxLength": 80, "description": "A label." }},
        "weight": {{ "type": "integer", "minimum": 0, "description": "Grams." }}
      }},
      "required": ["label"]
    }},
    "tags": {{ "type": "array", "items": {{ "type": "string", "maxLength": 20 }}, "description": "Tags." }},
    "note": {{ "type": "string", "maxLength": 500, "description": "A free note." }}
  }},
  "required": ["itemId", "createdAt", "quantity", "price", "status"]
}}
"#
            );
            (PathBuf::from(format!("bench/{type_name}.v1.0.json")), schema.into_bytes())
        })
        .collect()
}
