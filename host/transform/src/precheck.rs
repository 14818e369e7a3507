//! The checks an upload can afford while the client waits: the component's header and its top-level imports and
//! exports, read without compiling anything.
//!
//! Wasmtime only describes a component's imports and exports (`Component::component_type`) once it has compiled
//! it, and Cranelift takes seconds for a JavaScript or Python component (12–18 MB, an engine inside). The names
//! are in the binary's top-level import and export sections, so `wasmparser` (already wasmtime's own parser)
//! reads them in microseconds, skipping the nested core modules where the code is. What this cannot see (a
//! function body that does not validate, a hook with the wrong signature, an import of the right name and the
//! wrong type) the full [`crate::PluginRuntime::load`] still refuses, with the same kind of reason.

use wasmparser::{ComponentExternalKind, Encoding, Parser, Payload};

use crate::exports::Contract;
use crate::host::wasi::forbidden_imports;

/// What the cheap checks found out about a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outline {
    /// Top-level import names, in order.
    pub(crate) imports: Vec<String>,
    /// Top-level export names of instances.
    pub(crate) instance_exports: Vec<String>,
}

/// Reads the top-level import and export names of a component binary.
///
/// # Errors
/// A reason naming what is wrong: not WebAssembly, a core module instead of a component, a malformed section.
pub(crate) fn outline(bytes: &[u8]) -> Result<Outline, String> {
    let mut outline = Outline {
        imports: Vec::new(),
        instance_exports: Vec::new(),
    };
    let mut parser = Parser::new(0);
    let mut at = 0usize;
    loop {
        let rest = bytes.get(at..).unwrap_or_default();
        let (payload, consumed) = match parser.parse(rest, true) {
            Ok(wasmparser::Chunk::Parsed { payload, consumed }) => (payload, consumed),
            // `eof` is true: the parser never asks for more, it fails instead.
            Ok(wasmparser::Chunk::NeedMoreData(_)) => {
                return Err("not a WebAssembly component: truncated".into());
            }
            Err(e) => return Err(format!("not a WebAssembly component: {e}")),
        };
        at += consumed;
        match payload {
            Payload::Version { encoding, .. } if encoding != Encoding::Component => {
                return Err(
                    "a core WebAssembly module, not a component: build for wasm32-wasip2 \
                     (or wrap the module with `wasm-tools component new`)"
                        .into(),
                );
            }
            // The nested module or component is skipped whole: the code inside is the compiler's business.
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                if unchecked_range.end > bytes.len() {
                    return Err("not a WebAssembly component: a nested module is truncated".into());
                }
                at = unchecked_range.end;
            }
            Payload::ComponentImportSection(section) => {
                for import in section {
                    let import = import.map_err(|e| format!("malformed import section: {e}"))?;
                    outline.imports.push(import.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(section) => {
                for export in section {
                    let export = export.map_err(|e| format!("malformed export section: {e}"))?;
                    if export.kind == ComponentExternalKind::Instance {
                        outline.instance_exports.push(export.name.name.to_owned());
                    }
                }
            }
            Payload::End(_) => return Ok(outline),
            _ => {}
        }
    }
}

/// The cheap checks of an upload: a component, importing only the allowed WASI subset and our own package and
/// exporting the `transform` interface of a contract version the host runs.
///
/// # Errors
/// The reason, in the words [`crate::PluginRuntime::load`] uses for the same faults.
pub(crate) fn precheck(bytes: &[u8]) -> Result<(), String> {
    if wasmtime::Engine::detect_precompiled(bytes).is_some() {
        return Err("precompiled artifacts are not accepted, upload the .wasm component".into());
    }
    let outline = outline(bytes)?;
    forbidden_imports(outline.imports.iter().map(String::as_str))?;
    let exported = Contract::ALL
        .iter()
        .any(|c| outline.instance_exports.iter().any(|e| e == c.interface()));
    if !exported {
        return Err(format!(
            "not a ferry:transform/transformer@0.2 or @0.1 component (missing or mistyped export): \
             no exported instance named `{}` or `{}`",
            Contract::V0_2.interface(),
            Contract::V0_1.interface()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_truncated_bytes_and_core_modules_are_named() {
        let err = precheck(b"\0asm not really").unwrap_err();
        assert!(err.contains("not a WebAssembly component"), "{err}");
        let err = precheck(b"\0asm\x01\0\0\0").unwrap_err();
        assert!(err.contains("core WebAssembly module"), "{err}");
        let err = precheck(b"").unwrap_err();
        assert!(err.contains("not a WebAssembly component"), "{err}");
        // A component header and nothing else: no export of the contract.
        let err = precheck(b"\0asm\x0d\0\x01\0").unwrap_err();
        assert!(err.contains("missing or mistyped export"), "{err}");
    }
}
