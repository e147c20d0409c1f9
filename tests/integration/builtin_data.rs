//! The built-in datasets: `scripts/build-data.mjs` writes them, `Dataset::from_bytes` reads
//! them and `Dataset::to_bytes` writes the same format. The committed files must be exactly what
//! the Rust writer gives for what the reader read, so the two writers cannot drift apart: a
//! change to either that the other does not share fails here.

use std::path::Path;

use vanillanet::data::BUILTIN_DATASETS;
use vanillanet::data::dataset::Dataset;

fn builtin(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data").join(format!("{name}.vnds"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn builtin_files_are_what_the_rust_writer_writes() {
    for name in BUILTIN_DATASETS {
        let bytes = builtin(name);
        let data = Dataset::from_bytes(name, &bytes).unwrap();
        assert!(!data.train.is_empty() && !data.test.is_empty(), "{name}: empty split");
        assert!(data.to_bytes() == bytes, "{name}.vnds differs from Dataset::to_bytes of itself");
    }
}

#[test]
fn builtin_sets_say_whether_a_mirror_keeps_the_class() {
    // Written as the flags word by build-data.mjs: clothes may be mirrored, digits may not.
    let mirror = |name: &str| Dataset::from_bytes(name, &builtin(name)).unwrap().mirror;
    assert!(mirror("fashion-mnist"));
    assert!(!mirror("mnist"));
}

#[test]
fn every_builtin_file_is_a_builtin_name() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "vnds") {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            assert!(BUILTIN_DATASETS.contains(&stem.as_str()), "www/data/{stem}.vnds is not in BUILTIN_DATASETS");
        }
    }
}
