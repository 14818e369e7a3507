//! `ferry plugin new NAME --lang rust|ts|js|python`: a plugin project that needs nothing but this binary and the
//! package registries. Everything it holds is embedded here: the contract's WIT files (`ferry_transform::contract`),
//! the Rust SDK (vendored from `plugins/sdk`, so the scaffold builds against the SDK this host was tested with), a
//! sample order, a working example hook, the declaration of the hooks it implements (the Rust SDK's
//! `export_transform!`, elsewhere a script the build runs: `declare-hooks.mjs`, `declare_hooks.py`), and for
//! JavaScript and TypeScript a `package-lock.json` pinning the toolchain. The templates are the files under `plugins/templates/<lang>/`; `{{name}}`, `{{crate}}` and
//! `{{contract}}` in them become the plugin's name, its Rust crate name and the contract version.

use anyhow::{Context as _, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The language of a new plugin project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, on the vendored SDK (`cargo build --release --target wasm32-wasip2`).
    Rust,
    /// TypeScript, types generated from the WIT, componentize-js (`npm run build`).
    Ts,
    /// JavaScript, componentize-js (`npm run build`).
    Js,
    /// Python, componentize-py (`./build.sh`).
    Python,
}

/// Flags of `ferry plugin new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The plugin's name: lower-case letters, digits and dashes, starting with a letter. It names the project, the
    /// built component and so the plugin once uploaded.
    pub name: String,
    /// The language to write it in.
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// Where to create the project (default: `./NAME`); it must not exist, or be an empty directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// A file of a template: its path in the project and its text, placeholders included.
type File = (&'static str, &'static str);

macro_rules! template {
    ($($path:literal => $source:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../../", $source)))),*]
    };
}

const SAMPLE_ORDER: &str = include_str!("../../../../docs/sample-order.json");

const RUST: &[File] = template![
    "Cargo.toml" => "plugins/templates/rust/Cargo.toml",
    ".cargo/config.toml" => "plugins/templates/rust/.cargo/config.toml",
    ".gitignore" => "plugins/templates/rust/.gitignore",
    "README.md" => "plugins/templates/rust/README.md",
    "src/lib.rs" => "plugins/templates/rust/src/lib.rs",
    "sdk/Cargo.toml" => "plugins/templates/rust/sdk.Cargo.toml",
    "sdk/src/event_alloc.rs" => "plugins/sdk/src/event_alloc.rs",
];

/// The SDK's source, whose bindings are generated from `wit/` two levels up in this repository and from `wit/`
/// beside its manifest once vendored.
const SDK_LIB: &str = include_str!("../../../../plugins/sdk/src/lib.rs");
const SDK_WIT_PATH: &str = "path: \"../../wit\"";

const TS: &[File] = template![
    "package.json" => "plugins/templates/ts/package.json",
    "package-lock.json" => "plugins/templates/ts/package-lock.json",
    "tsconfig.json" => "plugins/templates/ts/tsconfig.json",
    "build.mjs" => "plugins/templates/ts/build.mjs",
    "componentize-plugin.mjs" => "plugins/templates/componentize-plugin.mjs",
    "declare-hooks.mjs" => "plugins/templates/declare-hooks.mjs",
    ".gitignore" => "plugins/templates/ts/.gitignore",
    "README.md" => "plugins/templates/ts/README.md",
    "src/plugin.ts" => "plugins/templates/ts/src/plugin.ts",
];

const JS: &[File] = template![
    "package.json" => "plugins/templates/js/package.json",
    "package-lock.json" => "plugins/templates/js/package-lock.json",
    "build.mjs" => "plugins/templates/js/build.mjs",
    "componentize-plugin.mjs" => "plugins/templates/componentize-plugin.mjs",
    "declare-hooks.mjs" => "plugins/templates/declare-hooks.mjs",
    ".gitignore" => "plugins/templates/js/.gitignore",
    "README.md" => "plugins/templates/js/README.md",
    "src/plugin.js" => "plugins/templates/js/src/plugin.js",
];

const PYTHON: &[File] = template![
    "requirements.txt" => "plugins/templates/python/requirements.txt",
    "build.sh" => "plugins/templates/python/build.sh",
    "declare_hooks.py" => "plugins/templates/python/declare_hooks.py",
    ".gitignore" => "plugins/templates/python/.gitignore",
    "README.md" => "plugins/templates/python/README.md",
    "app.py" => "plugins/templates/python/app.py",
];

/// Files written executable.
const EXECUTABLE: &[&str] = &["build.sh"];

/// Every file of a new project in `lang`, placeholders filled in: (path in the project, contents).
///
/// # Errors
/// `name` is not a valid plugin name.
pub fn files(name: &str, lang: Lang) -> anyhow::Result<Vec<(String, String)>> {
    check_name(name)?;
    let contract = ferry_transform::contract::VERSION;
    let crate_name = name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{contract}}", contract)
    };
    let (template, wit_dir) = match lang {
        Lang::Rust => (RUST, "sdk/wit"),
        Lang::Ts => (TS, "wit"),
        Lang::Js => (JS, "wit"),
        Lang::Python => (PYTHON, "wit"),
    };
    let mut out: Vec<(String, String)> = template
        .iter()
        .map(|(path, text)| ((*path).to_owned(), fill(text)))
        .collect();
    if lang == Lang::Rust {
        // Only the WIT path changes; the SDK's own text is never templated.
        out.push((
            "sdk/src/lib.rs".into(),
            SDK_LIB.replacen(SDK_WIT_PATH, "path: \"wit\"", 1),
        ));
    }
    for (rel, text) in ferry_transform::contract::WIT_FILES {
        out.push((format!("{wit_dir}/{rel}"), (*text).to_owned()));
    }
    out.push(("sample-order.json".into(), SAMPLE_ORDER.to_owned()));
    Ok(out)
}

/// A plugin name: what the admin API accepts, and a valid npm package and Cargo crate name.
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !starts_with_letter || !rest_ok || name.len() > 64 || name.ends_with('-') {
        bail!(
            "plugin name {name:?}: use lower-case letters, digits and dashes, starting with a letter (at most 64)"
        );
    }
    Ok(())
}

/// Runs `ferry plugin new`: writes the project and says how to build and test it.
///
/// # Errors
/// The name is invalid, the directory exists and is not empty, or a file cannot be written.
pub fn run(args: NewArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let files = files(&args.name, args.lang)?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} exists and is not empty; choose another --dir",
            dir.display()
        );
    }
    for (rel, text) in &files {
        write_file(&dir.join(rel), text, EXECUTABLE.contains(&rel.as_str()))?;
    }
    let (build, wasm) = match args.lang {
        Lang::Rust => (
            "cargo build --release --target wasm32-wasip2",
            format!(
                "target/wasm32-wasip2/release/{}.wasm",
                args.name.replace('-', "_")
            ),
        ),
        Lang::Ts | Lang::Js => (
            "npm ci && npm run build",
            format!("dist/{}.wasm", args.name),
        ),
        Lang::Python => ("./build.sh", format!("dist/{}.wasm", args.name)),
    };
    writeln!(
        out,
        "Created {} ({:?}, ferry:transform@{}). Next:\n  cd {}\n  {build}\n  ferry plugin test {wasm} --order \
         sample-order.json",
        dir.display(),
        args.lang,
        ferry_transform::contract::VERSION,
        dir.display(),
    )?;
    Ok(())
}

fn write_file(path: &Path, text: &str, executable: bool) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("make {} executable", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_suit_every_toolchain() {
        for good in ["notes", "acme-tax-2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Notes", "2fast", "a_b", "a b", "trailing-", "../x"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_vendored_sdk_reads_its_own_wit_and_no_placeholder_is_left() {
        assert!(
            SDK_LIB.contains(SDK_WIT_PATH),
            "the SDK's generate! path moved"
        );
        for lang in [Lang::Rust, Lang::Ts, Lang::Js, Lang::Python] {
            let files = files("acme-notes", lang).unwrap();
            for (path, text) in &files {
                assert!(!text.contains("{{"), "{lang:?} {path} keeps a placeholder");
            }
            let wit = if lang == Lang::Rust { "sdk/wit" } else { "wit" };
            assert!(files.iter().any(|(p, _)| *p == format!("{wit}/world.wit")));
            assert!(files.iter().any(|(p, _)| p == "sample-order.json"));
            if lang == Lang::Rust {
                let sdk = &files.iter().find(|(p, _)| p == "sdk/src/lib.rs").unwrap().1;
                assert!(sdk.contains("path: \"wit\"") && !sdk.contains(SDK_WIT_PATH));
            }
        }
    }

    #[test]
    fn refuses_a_directory_with_files_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let args = NewArgs {
            name: "notes".into(),
            lang: Lang::Js,
            dir: Some(dir.path().into()),
        };
        let err = run(args, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
