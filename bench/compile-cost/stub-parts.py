#!/usr/bin/env python3
"""Attribution of the generated catalog's `cargo check` cost (issue 14).

Turns the expanded source of a crate `bench/compile-cost/run.sh` writes
(`RUSTC_BOOTSTRAP=1 cargo rustc -- -Z unpretty=expanded`) into a crate that
compiles on its own, with some parts of what the derives wrote stubbed out:

    stub-parts.py EXPANDED.rs OUT.rs [PART,PART,...]

PARTS (none: the expanded crate as it is):
    meta      the bodies of `contract()` and `fields()` (the metadata statics)
    validate  the bodies of `validate(&self)`
    checks    `validate`, the `__scalar_N`/`__items_N`/`__check_N` functions,
              and the `__deserialize_N` bodies read without checks
    key       the bodies of `partition_key` / `natural_key`
    ser       the body of the wire mirror's serde `serialize`
    de        the body of the wire mirror's serde `deserialize`
    own_de    the body of the derive's own `visit_map` (the `Deserialize`
              that replaced serde's on the mirror, 2026-12-07)
    defns     the `__deserialize_N` functions, removed (with `de` only)
    plain_de, plain_ser  the same for a plain `#[derive(Serialize,
              Deserialize)]` crate (the baseline's own serde code)

A stubbed body is `loop {}` (or `Ok(())`, `&[]`), which type-checks for
nothing. Compile each variant with the crate's own rustc command line
(`cargo check -v`) under `RUSTC_BOOTSTRAP=1` and count instructions, e.g.
`valgrind --tool=cachegrind --cache-sim=no rustc ...` (instruction counts do
not move with the machine's load); the difference to the unstubbed crate is
what the part costs. The 2026-12-03 evening figures in BENCHMARKS.md were
taken this way on the 10-event crate.
"""
import re
import sys

FEATURES = (
    "#![allow(warnings)]\n"
    "#![feature(fmt_internals, fmt_helpers_for_derive, structural_match, "
    "coverage_attribute, rustc_attrs, panic_internals, core_intrinsics, "
    "print_internals, libstd_sys_internals, rt, derive_eq_internals, "
    "liballoc_internals, trivial_clone)]\n"
    "extern crate alloc;"
)


def skip_string(s, k):
    """s[k] is '"': the index of the closing quote."""
    k += 1
    while s[k] != '"':
        if s[k] == "\\":
            k += 1
        k += 1
    return k


def strip_helper_attrs(s):
    """The derive helper attributes left in the expansion (`#[event(..)]`,
    `#[serde(..)]`) name no attribute once the derives are gone."""
    out, i = [], 0
    pat = re.compile(r"#\[(event|serde)\(")
    while True:
        m = pat.search(s, i)
        if not m:
            out.append(s[i:])
            break
        out.append(s[i : m.start()])
        k, depth = m.start() + 1, 0
        while True:
            c = s[k]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    break
            elif c == '"':
                k = skip_string(s, k)
            k += 1
        i = k + 1
    s = "".join(out)
    return s.replace("#![deny(warnings)]", FEATURES)


def block_end(s, k):
    """s[k] is '{': the index after the matching '}'."""
    depth = 0
    while True:
        c = s[k]
        if c == '"':
            k = skip_string(s, k)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1


def edit(s, pattern, body=None):
    """Replaces the body of every item matching `pattern` by `body`, or
    removes the item when `body` is None."""
    out, i, count = [], 0, 0
    for m in re.finditer(pattern, s):
        if m.start() < i:
            continue
        b = s.index("{", m.end())
        e = block_end(s, b)
        out.append(s[i : m.start()] if body is None else s[i:b])
        if body is not None:
            out.append("{ " + body + " }")
        i, count = e, count + 1
    out.append(s[i:])
    sys.stderr.write(f"{pattern}: {count}\n")
    return "".join(out)


OK = "::core::result::Result::Ok(())"


def stub(s, part):
    if part == "meta":
        s = edit(s, r"fn contract\(\)", "loop {}")
        return edit(s, r"fn fields\(\)", "&[]")
    if part == "validate":
        return edit(s, r"fn validate\(&self\)", OK)
    if part == "checks":
        s = edit(s, r"fn validate\(&self\)", OK)
        for name in ("__scalar", "__items", "__check"):
            s = edit(s, rf"fn {name}_\d+\(")
        return edit(s, r"fn __deserialize_\d+<",
                    "::event_runtime::__private::serde::Deserialize::deserialize(__d)")
    if part == "key":
        s = edit(s, r"fn partition_key\(&self\)", "loop {}")
        return edit(s, r"fn natural_key\(&self\)", "loop {}")
    if part == "ser":
        return edit(s, r"fn serialize<__S>\(__self: &", "loop {}")
    if part == "de":
        return edit(s, r"impl<'de> __\w+Wire \{\s*fn deserialize<__D>", "loop {}")
    if part == "own_de":
        return edit(s, r"fn visit_map<__A: ::[\w:]+::serde::de::MapAccess<'de>>", "loop {}")
    if part == "defns":
        return edit(s, r"fn __deserialize_\d+<")
    if part == "plain_de":
        return edit(s, r"impl<'de> _serde::Deserialize<'de> for \w+ \{\s*fn deserialize<__D>", "loop {}")
    if part == "plain_ser":
        return edit(s, r"impl _serde::Serialize for \w+ \{\s*fn serialize<__S>", "loop {}")
    raise SystemExit(f"unknown part {part}")


def main():
    src = strip_helper_attrs(open(sys.argv[1]).read())
    parts = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else []
    for part in parts:
        src = stub(src, part)
    open(sys.argv[2], "w").write(src)


if __name__ == "__main__":
    main()
