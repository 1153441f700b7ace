//! The input schema in `docs/custom-rules.md` is generated from the model's serde output of
//! the example rules' fixture resources (each read as a `posture_model::Resource` and
//! written back, so a field the model adds, renames or drops changes it): this test fails
//! when the document is stale. Regenerate with
//! `POSTURE_REGENERATE_DOCS=1 cargo test -p posture-rego --test schema`.

use std::path::{Path, PathBuf};

use posture_model::Resource;

const BEGIN: &str = "<!-- BEGIN GENERATED: input schema (tests/schema.rs) -->\n";
const END: &str = "<!-- END GENERATED: input schema -->";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_resources(rules: &Path) -> Vec<Resource> {
    let mut files = Vec::new();
    for rule in std::fs::read_dir(rules).expect("config/rules") {
        let tests = rule.expect("entry").path().join("tests");
        if let Ok(entries) = std::fs::read_dir(&tests) {
            files.extend(entries.map(|e| e.expect("entry").path()));
        }
    }
    files.sort();
    let mut out = Vec::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        let text = std::fs::read_to_string(file).expect("readable");
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let resources: Vec<Resource> = serde_json::from_value(fixture["resources"].clone())
            .unwrap_or_else(|e| panic!("{}: resources in the model's shape: {e}", file.display()));
        out.extend(resources);
    }
    out
}

#[test]
fn the_documented_input_schema_is_the_models() {
    let resources = fixture_resources(&root().join("config/rules"));
    assert!(
        posture_rego::kinds(&resources).len() >= 5,
        "the examples' kinds"
    );
    let generated = posture_rego::input_schema(&resources);
    let doc_path = root().join("docs/custom-rules.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/custom-rules.md");
    let start = doc.find(BEGIN).expect("the BEGIN marker") + BEGIN.len();
    let end = doc.find(END).expect("the END marker");
    if std::env::var_os("POSTURE_REGENERATE_DOCS").is_some() {
        let updated = format!("{}{generated}{}", &doc[..start], &doc[end..]);
        std::fs::write(&doc_path, updated).expect("writable");
        return;
    }
    assert_eq!(
        &doc[start..end],
        generated,
        "docs/custom-rules.md's input schema is stale: run \
         POSTURE_REGENERATE_DOCS=1 cargo test -p posture-rego --test schema"
    );
}
