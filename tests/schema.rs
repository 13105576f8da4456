//! `drctl schema` and the committed `schema/runbook.schema.json` that editors
//! (yaml-language-server) point at.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::{Test, fixture};

const SCHEMA_FILE: &str = "schema/runbook.schema.json";

fn generated() -> String {
    let output = Test::new().args(["schema"]).run();
    output.success().stderr_is("");
    output.stdout.clone()
}

fn schema() -> Value {
    serde_json::from_str(&generated()).expect("`drctl schema` prints JSON")
}

#[test]
fn committed_schema_is_in_sync() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated(),
        "{SCHEMA_FILE} is out of date with the runbook format; regenerate it with:\n\n    \
         cargo run -- schema > {SCHEMA_FILE}\n"
    );
}

#[test]
fn schema_is_draft_07() {
    let schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["title"], "drctl runbook");
    assert_eq!(schema["type"], "object");
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .expect("required keys")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, BTreeSet::from(["version", "name", "steps"]));
}

/// Every object in the format rejects unknown keys, in editors as in `validate`.
#[test]
fn unknown_keys_are_rejected_everywhere() {
    let schema = schema();
    assert_eq!(schema["additionalProperties"], false, "top level");
    let definitions = schema["definitions"].as_object().expect("definitions");
    for name in [
        "RawStep",
        "RawShell",
        "RawHttp",
        "RawPostgres",
        "RawInput",
        "RawRetry",
        "RawDefaults",
        "RawAction",
    ] {
        assert_eq!(definitions[name]["additionalProperties"], false, "{name}");
    }
    for (name, definition) in definitions {
        if definition["type"] == "object" {
            assert_eq!(
                definition["additionalProperties"], false,
                "{name} allows unknown keys"
            );
        }
    }
}

#[test]
fn schema_describes_the_keys() {
    let schema = schema();
    let step = &schema["definitions"]["RawStep"];
    assert_eq!(step["required"], serde_json::json!(["id"]));
    assert!(
        step["properties"]["needs"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("waits for")),
        "{step:#}"
    );
    assert!(
        !schema["description"]
            .as_str()
            .unwrap_or_default()
            .contains("type parameters"),
        "implementation notes leak into the schema description"
    );
}

/// The keys of a mapping in the YAML fixture.
fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn properties(schema: &Value, definition: Option<&str>) -> BTreeSet<String> {
    let node = match definition {
        Some(name) => &schema["definitions"][name],
        None => schema,
    };
    keys(&node["properties"])
}

/// The loader and the schema come from the same structs; this checks that the
/// fixture using every key agrees with the schema, key for key.
#[test]
fn every_key_of_the_format_is_in_the_schema() {
    let schema = schema();
    let runbook: Value = serde_saphyr::from_str(&fixture("valid/every-key.yaml"))
        .expect("every-key.yaml parses as YAML");
    assert_eq!(keys(&runbook), properties(&schema, None), "top level");
    let steps = runbook["steps"].as_array().expect("steps");
    let step_keys: BTreeSet<String> = steps.iter().flat_map(keys).collect();
    assert_eq!(step_keys, properties(&schema, Some("RawStep")), "step keys");
    let input_keys: BTreeSet<String> = runbook["inputs"]
        .as_object()
        .expect("inputs")
        .values()
        .flat_map(keys)
        .collect();
    assert_eq!(
        input_keys,
        properties(&schema, Some("RawInput")),
        "input keys"
    );
    for (action, definition) in [
        ("shell", "RawShell"),
        ("http", "RawHttp"),
        ("postgres", "RawPostgres"),
    ] {
        let used: BTreeSet<String> = steps
            .iter()
            .flat_map(|s| [&s[action], &s["rollback"][action]])
            .flat_map(keys)
            .collect();
        assert_eq!(used, properties(&schema, Some(definition)), "{action} keys");
    }
    assert_eq!(
        keys(&runbook["defaults"]),
        properties(&schema, Some("RawDefaults")),
        "defaults"
    );
    assert_eq!(
        keys(&runbook["objectives"]),
        properties(&schema, Some("RawObjectives")),
        "objectives"
    );
    for (key, definition) in [("roles", "RawRoles"), ("impact", "RawImpact")] {
        assert_eq!(
            keys(&runbook[key]),
            properties(&schema, Some(definition)),
            "{key}"
        );
    }
    let detailed_output: BTreeSet<String> = steps
        .iter()
        .filter_map(|s| s["outputs"].as_object())
        .flat_map(|outputs| outputs.values().flat_map(keys))
        .collect();
    assert_eq!(
        detailed_output,
        properties(&schema, Some("RawDetailedOutput")),
        "output keys"
    );
}
