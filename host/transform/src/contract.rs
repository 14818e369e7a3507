//! The WIT contract as plugin authors get it: the files of `wit/` (the current `ferry:transform` package and the
//! frozen releases under `deps/`), embedded at build time, so `ferry wit export` and `ferry plugin new` need no
//! checkout. They are the same files `bindings` compiles against, so what an author builds on is what the host
//! runs.

/// The current contract version (`package ferry:transform@…` in `wit/world.wit`).
pub const VERSION: &str = "0.2.0";

/// Every WIT file of the contract: its path relative to the `wit/` directory, and its text.
pub const WIT_FILES: &[(&str, &str)] = &[
    ("host.wit", include_str!("../../../wit/host.wit")),
    ("transform.wit", include_str!("../../../wit/transform.wit")),
    ("types.wit", include_str!("../../../wit/types.wit")),
    ("world.wit", include_str!("../../../wit/world.wit")),
    (
        "deps/ferry-transform@0.1.0/host.wit",
        include_str!("../../../wit/deps/ferry-transform@0.1.0/host.wit"),
    ),
    (
        "deps/ferry-transform@0.1.0/transform.wit",
        include_str!("../../../wit/deps/ferry-transform@0.1.0/transform.wit"),
    ),
    (
        "deps/ferry-transform@0.1.0/types.wit",
        include_str!("../../../wit/deps/ferry-transform@0.1.0/types.wit"),
    ),
    (
        "deps/ferry-transform@0.1.0/world.wit",
        include_str!("../../../wit/deps/ferry-transform@0.1.0/world.wit"),
    ),
];

/// Writes the contract's WIT files under `dir` (created if missing), as `wit/` is laid out.
///
/// # Errors
/// A directory or file cannot be written; the error names it.
pub fn export(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::with_capacity(WIT_FILES.len());
    for (rel, text) in WIT_FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| named(e, parent))?;
        }
        std::fs::write(&path, text).map_err(|e| named(e, &path))?;
        written.push(path);
    }
    Ok(written)
}

fn named(e: std::io::Error, path: &std::path::Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `wit/` is embedded (a new interface file or frozen release must be added to the list), and
    /// the embedded version is the package's.
    #[test]
    fn embeds_every_wit_file_of_the_checkout() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "wit") {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    on_disk.push(rel);
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = WIT_FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        let world = WIT_FILES.iter().find(|(p, _)| *p == "world.wit").unwrap().1;
        assert!(world.contains(&format!("package ferry:transform@{VERSION};")));
    }
}
