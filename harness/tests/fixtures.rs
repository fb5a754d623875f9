//! Every scenario file under `fixtures/scenarios/` loads, opens with a comment saying what it
//! shows, and has a description.

use std::path::Path;

use ktrial_harness::scenario::load_file;

#[test]
fn every_fixture_scenario_loads_and_says_what_it_shows() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("fixtures/scenarios exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "only {} scenario files", files.len());
    for file in files {
        let scenario = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&file).expect("readable file");
        assert!(
            text.starts_with("# ") && text.lines().next().is_some_and(|l| l.len() > 20),
            "{} must open with a one-line comment on what it shows",
            file.display()
        );
        assert!(!scenario.description.is_empty(), "{}", file.display());
    }
}
