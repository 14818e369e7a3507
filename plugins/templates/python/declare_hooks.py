"""Declares which hooks a component implements: `python3 declare_hooks.py COMPONENT HOOK...`.

As the Rust SDK's `export_transform!(T: hook, ...)` does, this appends a custom section `ferry-hooks` holding
[1, bits] (validate-order 1, map-client 2, map-invoice 4, map-item 8) to the component. Ferry never calls (nor
starts) a plugin for a hook it does not declare; for a Python plugin, whose interpreter starts on every call, that
is most of its cost per event. Without the section every hook is called. Declaring a hook you did not write only
makes Ferry call your pass-through; leaving out one you wrote means it never runs.
"""

import sys

BITS = {"validate-order": 1, "map-client": 2, "map-invoice": 4, "map-item": 8}


def main() -> None:
    path, hooks = sys.argv[1], sys.argv[2:]
    bits = 0
    for hook in hooks:
        if hook not in BITS:
            sys.exit(f'unknown hook "{hook}": the hooks are {", ".join(BITS)}')
        bits |= BITS[hook]
    name = b"ferry-hooks"
    body = bytes([len(name)]) + name + bytes([1, bits])
    # A custom section is id 0, then its size (one LEB128 byte: the body is 14 bytes), then the body.
    with open(path, "ab") as component:
        component.write(bytes([0, len(body)]) + body)


if __name__ == "__main__":
    main()
