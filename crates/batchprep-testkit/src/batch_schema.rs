//! The official Batch data-plane schema (the swagger document in `shared/reference` beside the
//! repository, or `BATCHPREP_BATCH_SCHEMA`) as a validator of pool bodies, for every test that
//! checks what batchprep writes or fixes against what the service takes.

use std::path::PathBuf;

use serde_json::Value;

/// The swagger document.
pub fn swagger() -> Value {
    let path = std::env::var_os("BATCHPREP_BATCH_SCHEMA").map_or_else(
        || crate::repo_root().join("../shared/reference/batch-service-2026-10-01.json"),
        PathBuf::from,
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the Batch data-plane schema {} is needed: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// A JSON Schema over the swagger `definitions` that checks a `BatchPoolCreateOptions`. With `strict`,
/// objects also reject properties the schema does not define (a misspelt name would otherwise pass).
pub fn pool_validator(strict: bool) -> jsonschema::Validator {
    let mut definitions = swagger()["definitions"].clone();
    if strict {
        for def in definitions.as_object_mut().unwrap().values_mut() {
            let obj = def.as_object_mut().unwrap();
            if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
                obj.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
    }
    let schema = serde_json::json!({
        "definitions": definitions,
        "allOf": [{"$ref": "#/definitions/BatchPoolCreateOptions"}],
    });
    jsonschema::validator_for(&schema).unwrap()
}

/// The validator's errors for `body`, each with where it is.
pub fn errors(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
