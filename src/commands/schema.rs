//! `drctl schema`: the JSON Schema (draft-07) of the runbook format, for
//! yaml-language-server and other editors.

use crate::runbook::raw::RawRunbook;

pub fn schema_json() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<RawRunbook>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
