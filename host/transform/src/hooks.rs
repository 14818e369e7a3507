//! Which hooks a plugin implements, as declared by the guest SDK in a custom section.
//!
//! `ferry_plugin_sdk::export_transform!(T: map_client)` records the implemented hooks in a
//! custom section named [`SECTION`] holding `[1, bits]` inside the component's core module, and
//! makes every unlisted hook a pass-through. The chain skips a hook a plugin does not implement:
//! no instance, no copy of the order into guest memory. A component without the section (another
//! toolchain, an older SDK) is called for every hook. A plugin that under-declares only skips its
//! own code, so the section needs no trust.

use crate::error::Hook;

/// Name of the custom section the SDK writes.
pub(crate) const SECTION: &str = "ferry-hooks";

/// Format version of the section's payload.
const FORMAT_V1: u8 = 1;

/// Nesting depth of components/modules searched for the section.
const MAX_DEPTH: u32 = 4;

/// A set of hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HookSet(u8);

impl HookSet {
    /// Every hook.
    pub(crate) const ALL: HookSet = HookSet(0b1111);

    const fn bit(hook: Hook) -> u8 {
        match hook {
            Hook::ValidateOrder => 1,
            Hook::MapClient => 2,
            Hook::MapInvoice => 4,
            Hook::MapItem => 8,
        }
    }

    /// Whether `hook` is in the set.
    pub(crate) fn contains(self, hook: Hook) -> bool {
        self.0 & Self::bit(hook) != 0
    }

    /// The hooks declared by a component, or [`HookSet::ALL`] when it declares none (or the
    /// declaration is unreadable).
    pub(crate) fn declared_by(component: &[u8]) -> HookSet {
        find_section(component, 0)
            .and_then(|data| match data {
                [FORMAT_V1, bits, ..] => Some(HookSet(bits & Self::ALL.0)),
                _ => None,
            })
            .unwrap_or(Self::ALL)
    }
}

/// Read an unsigned LEB128 `u32` at `*pos`, advancing it.
fn leb_u32(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Payload of the first [`SECTION`] custom section in a core module or component binary,
/// looking inside nested core modules (section 1 of a component) and components (section 4).
fn find_section(binary: &[u8], depth: u32) -> Option<&[u8]> {
    if depth > MAX_DEPTH || binary.get(..4)? != b"\0asm" {
        return None;
    }
    let is_component = binary.get(6..8)? == [1, 0];
    let mut pos = 8;
    while pos < binary.len() {
        let id = *binary.get(pos)?;
        pos += 1;
        let size = usize::try_from(leb_u32(binary, &mut pos)?).ok()?;
        let body = binary.get(pos..pos.checked_add(size)?)?;
        pos += size;
        match id {
            0 => {
                let mut at = 0;
                let name_len = usize::try_from(leb_u32(body, &mut at)?).ok()?;
                let name = body.get(at..at.checked_add(name_len)?)?;
                if name == SECTION.as_bytes() {
                    return body.get(at + name_len..);
                }
            }
            1 | 4 if is_component => {
                if let Some(found) = find_section(body, depth + 1) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, data: &[u8]) -> Vec<u8> {
        let mut body = vec![u8::try_from(name.len()).unwrap()];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(data);
        let mut s = vec![0, u8::try_from(body.len()).unwrap()];
        s.extend(body);
        s
    }

    fn module(sections: &[Vec<u8>]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        sections.iter().for_each(|s| m.extend_from_slice(s));
        m
    }

    fn component_with(module: &[u8]) -> Vec<u8> {
        let mut c = b"\0asm\x0d\0\x01\0".to_vec();
        c.push(1);
        c.push(u8::try_from(module.len()).unwrap());
        c.extend_from_slice(module);
        c
    }

    #[test]
    fn the_declared_hooks_are_read_from_the_nested_core_module() {
        let m = module(&[section("producers", b"x"), section(SECTION, &[1, 0b0110])]);
        let set = HookSet::declared_by(&component_with(&m));
        assert!(set.contains(Hook::MapClient) && set.contains(Hook::MapInvoice));
        assert!(!set.contains(Hook::ValidateOrder) && !set.contains(Hook::MapItem));
    }

    #[test]
    fn a_missing_truncated_or_unknown_declaration_means_every_hook() {
        let none = component_with(&module(&[section("producers", b"x")]));
        assert_eq!(HookSet::declared_by(&none), HookSet::ALL);
        let unknown = component_with(&module(&[section(SECTION, &[9, 0])]));
        assert_eq!(HookSet::declared_by(&unknown), HookSet::ALL);
        let full = component_with(&module(&[section(SECTION, &[1, 2])]));
        for cut in 0..full.len() {
            let _ = HookSet::declared_by(&full[..cut]);
        }
        assert_eq!(HookSet::declared_by(b"garbage"), HookSet::ALL);
    }
}
