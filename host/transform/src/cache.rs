//! On-disk cache of precompiled components, keyed by content hash and engine compatibility.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::{Error, Result};

/// Where `.cwasm` files live and how they are named.
#[derive(Debug)]
pub(crate) struct CwasmCache {
    dir: PathBuf,
    /// Fingerprint of everything that makes a `.cwasm` loadable by this engine (wasmtime
    /// version, target, compiler flags); a different engine never sees our files.
    engine_key: String,
}

impl CwasmCache {
    pub(crate) fn open(dir: &Path, engine: &Engine) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Cache {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(Self {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", h.finish()),
        })
    }

    /// Path of the precompiled artifact for a component with this content hash.
    pub(crate) fn path(&self, content_hash: &str) -> PathBuf {
        self.dir
            .join(format!("{content_hash}-{}.cwasm", self.engine_key))
    }

    /// Write a serialized component atomically (temp file + rename), so a crash never leaves a
    /// truncated file that `load` would trust.
    pub(crate) fn store(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let io = |source| Error::Cache {
            path: path.to_path_buf(),
            source,
        };
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Map a cached artifact.
    ///
    /// # Errors
    /// The file is missing, or was produced by an incompatible engine.
    #[allow(unsafe_code)]
    pub(crate) fn load(&self, engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
        // SAFETY: `deserialize_file` trusts its input to be wasmtime's own compiled code. Only
        // `store` above writes into this directory, with bytes from `Component::serialize` of
        // a component we compiled from validated wasm; the name binds the content hash and
        // this engine's compatibility hash, and writes are atomic renames, so a file here is
        // either complete output of this engine build or rejected by wasmtime's version check.
        // Tenant-supplied bytes never reach this function (`load` refuses precompiled input).
        unsafe { Component::deserialize_file(engine, path) }
    }
}
