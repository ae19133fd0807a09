//! JSON Schema's regular expressions, read as the `regex` crate reads them.
//!
//! A `pattern` (and a `patternProperties` key) is an ECMA-262 regular
//! expression with Unicode semantics, the `u` flag. Most of it means the
//! same in the `regex` crate, but not all, and the difference is silent:
//!
//! | ECMA-262 | meaning | `regex` without translation |
//! |---|---|---|
//! | `\d`, `\D` | `[0-9]` and its complement | every Unicode digit (`٣`) |
//! | `\w`, `\W` | `[A-Za-z0-9_]` and its complement | every Unicode letter (`é`) |
//! | `\b`, `\B` | boundary of `\w` | Unicode word boundary |
//! | `\s`, `\S` | ECMA-262's white space and line terminators | Unicode `White_Space` (with U+0085, without U+FEFF) |
//! | `.` | any code point but `\n`, `\r`, U+2028, U+2029 | any but `\n` |
//! | `[\b]` | backspace | a word boundary in a class: an error |
//! | `\cX` | control character `X % 32` | an error |
//! | `[` `&&` `~~` in a class | literal characters | a nested class, set operations |
//!
//! [`to_rust`] rewrites these, so `pattern` means what the schema's author
//! (and every JavaScript validator) meant. A Unicode `\w` repeated is also
//! far larger compiled: `\w{1,255}` passes the `regex` crate's size limit
//! only as the ASCII class it is in ECMA-262. Everything else is copied as
//! written; what the `regex` crate cannot run (look-around,
//! back-references) stays its error.

use std::borrow::Cow;

/// ECMA-262's `\s`: WhiteSpace and LineTerminator.
const SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";

/// `pattern`, an ECMA-262 regular expression, in the `regex` crate's syntax
/// with the same meaning (the module's table). Borrowed when nothing
/// changes.
///
/// ```
/// use event_rules::pattern::to_rust;
/// assert_eq!(to_rust(r"^\w+$"), "^[0-9A-Za-z_]+$");
/// assert_eq!(to_rust("^[a-z]{3}-[0-9]+$"), "^[a-z]{3}-[0-9]+$");
/// ```
pub fn to_rust(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains(['\\', '.', '[']) {
        return Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Inside a character class (`[]` and `[^]`, whose `]` closes them in
    // ECMA-262, are rewritten where the class opens).
    let mut class = false;
    while let Some(c) = chars.next() {
        match (c, class) {
            ('\\', _) => {
                let Some(e) = chars.next() else {
                    // A trailing backslash: left for the engine to refuse.
                    out.push('\\');
                    break;
                };
                let inside = class;
                match e {
                    'd' | 'w' | 's' => {
                        let set = shorthand(e);
                        if inside {
                            out.push_str(set);
                            // `[\w-.]`: ECMA-262 reads the `-` after a
                            // class escape as itself, the `regex` crate
                            // as a range from the set's last member.
                            if chars.peek() == Some(&'-') {
                                chars.next();
                                out.push_str(r"\-");
                            }
                        } else {
                            out.push('[');
                            out.push_str(set);
                            out.push(']');
                        }
                    }
                    'D' | 'W' | 'S' => {
                        // A nested class inside a class: `[a\D]` is
                        // `[a[^0-9]]`, which the `regex` crate reads.
                        out.push_str("[^");
                        out.push_str(shorthand(e.to_ascii_lowercase()));
                        out.push(']');
                    }
                    'b' if inside => out.push_str(r"\x08"),
                    'b' => out.push_str(r"(?-u:\b)"),
                    'B' => out.push_str(r"(?-u:\B)"),
                    'c' if chars.peek().is_some_and(char::is_ascii_alphabetic) => {
                        let letter = chars.next().unwrap_or('@');
                        let code = (letter as u32) % 32;
                        out.push_str(&format!(r"\x{code:02X}"));
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            ('[', false) => {
                if chars.peek() == Some(&'^') {
                    chars.next();
                    if chars.peek() == Some(&']') {
                        // `[^]`: any code point.
                        chars.next();
                        out.push_str(r"[\x{0}-\x{10FFFF}]");
                        continue;
                    }
                    out.push_str("[^");
                } else if chars.peek() == Some(&']') {
                    // `[]`: nothing.
                    chars.next();
                    out.push_str(r"[^\x{0}-\x{10FFFF}]");
                    continue;
                } else {
                    out.push('[');
                }
                class = true;
            }
            (']', true) => {
                out.push(']');
                class = false;
            }
            ('[' | '&' | '~', true) => {
                out.push('\\');
                out.push(c);
            }
            ('.', false) => out.push_str(r"[^\n\r\x{2028}\x{2029}]"),
            _ => out.push(c),
        }
    }
    if out == pattern {
        Cow::Borrowed(pattern)
    } else {
        Cow::Owned(out)
    }
}

fn shorthand(letter: char) -> &'static str {
    match letter {
        'd' => DIGIT,
        'w' => WORD,
        _ => SPACE,
    }
}

#[cfg(test)]
mod tests {
    use super::to_rust;

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(&to_rust(pattern))
            .unwrap_or_else(|e| panic!("{pattern} as {}: {e}", to_rust(pattern)))
            .is_match(text)
    }

    /// The cases of the JSON-Schema-Test-Suite's `optional/ecmascript-regex`
    /// and a few more, as ECMA-262 decides them.
    #[test]
    fn patterns_mean_what_ecma_262_says() {
        let cases: &[(&str, &str, bool)] = &[
            (r"^\d$", "0", true),
            (r"^\d$", "\u{0663}", false),
            (r"^\D$", "\u{0663}", true),
            (r"^\w$", "a", true),
            (r"^\w$", "\u{E9}", false),
            (r"^\W$", "\u{E9}", true),
            (r"\wcole", "\u{E9}cole", false),
            (r"\p{Letter}cole", "\u{E9}cole", true),
            (r"^\s$", "\u{FEFF}", true),
            (r"^\s$", "\u{A0}", true),
            (r"^\s$", "\u{85}", false),
            (r"^\S$", "\u{FEFF}", false),
            (r"^\cC$", "\u{3}", true),
            (r"^\cc$", "\u{3}", true),
            (r"^\t$", "\t", true),
            (r"^abc$", "abc\n", false),
            (r"^.$", "\r", false),
            (r"^.$", "\u{2028}", false),
            (r"^.$", "\u{E9}", true),
            (r"^[\w-.]+$", "a-b.c", true),
            (r"\bcat\b", "\u{E9}cat", true),
            (r"^[]$", "", false),
            (r"^[^]$", "\n", true),
            (r"^a\/b$", "a/b", true),
            (r"\$\w{1,255}", "$VAR", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), *expected, "{pattern} on {text:?}");
        }
    }

    #[test]
    fn what_means_the_same_is_borrowed() {
        for p in [
            "^abc$",
            "^[a-z]{3}-[0-9]+$",
            r"^\p{Letter}+$",
            r"^\$\{",
            "a|b",
        ] {
            assert!(matches!(to_rust(p), std::borrow::Cow::Borrowed(_)), "{p}");
        }
    }

    #[test]
    fn shorthands_are_ascii_outside_and_inside_classes() {
        assert_eq!(to_rust(r"\d\w"), "[0-9][0-9A-Za-z_]");
        assert_eq!(to_rust(r"[\d.]"), "[0-9.]");
        assert_eq!(to_rust(r"[a\D]"), "[a[^0-9]]");
        assert_eq!(to_rust(r"[\w-.]"), r"[0-9A-Za-z_\-.]");
        assert_eq!(to_rust(r"\W"), "[^0-9A-Za-z_]");
        assert_eq!(to_rust(r"[\b]\b"), r"[\x08](?-u:\b)");
        assert_eq!(to_rust(r"\cC[\cj]"), r"\x03[\x0A]");
    }

    #[test]
    fn class_syntax_of_the_regex_crate_is_literal() {
        assert_eq!(to_rust("[a[&&~]"), r"[a\[\&\&\~]");
        assert_eq!(to_rust("[]a"), r"[^\x{0}-\x{10FFFF}]a");
        assert_eq!(to_rust("[^]"), r"[\x{0}-\x{10FFFF}]");
        assert_eq!(to_rust(r"[\]]"), r"[\]]");
        assert_eq!(to_rust(r"\[a."), r"\[a[^\n\r\x{2028}\x{2029}]");
    }
}
