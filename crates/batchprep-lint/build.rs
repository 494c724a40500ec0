//! Embeds the rule catalog (`rules/*.toml` at the workspace root) so the binary carries its own docs.
//!
//! It is read through `rules` in this crate (a symlink to the workspace's `rules/` in the repository,
//! the files themselves in a packaged crate), so `cargo package` and crates.io builds find it.
use std::{env, fs, path::PathBuf};

fn main() {
    let rules = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&rules)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    let mut out =
        String::from("/// The catalog files, by file name, as committed under `rules/`.\n");
    out.push_str("pub(crate) static CATALOG_FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let abs = fs::canonicalize(f).unwrap();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(
        PathBuf::from(env::var("OUT_DIR").unwrap()).join("catalog.rs"),
        out,
    )
    .unwrap();
}
