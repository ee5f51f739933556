//! Entries never change a number: integers the canonical form (RFC 8785,
//! numbers as IEEE 754 doubles) cannot carry exactly are refused, naming
//! where they are (found by fuzzing: 9007199254740993 was logged as …992).

use accord_log::{canonical_entry, EntryError};

#[test]
fn integers_beyond_2_pow_53_are_refused_naming_their_place() {
    for (text, path, value) in [
        (
            r#"{"number":9007199254740993}"#,
            "/number",
            "9007199254740993",
        ),
        (
            r#"{"event":{"counts":{"a/b":18446744073709551615}}}"#,
            "/event/counts/a~1b",
            "18446744073709551615",
        ),
        (
            r#"{"x":[1,-9007199254740992]}"#,
            "/x/1",
            "-9007199254740992",
        ),
        (
            r#"{"undeclared_items":9999999999999999990}"#,
            "/undeclared_items",
            "9999999999999999990",
        ),
    ] {
        match canonical_entry(text) {
            Err(EntryError::InexactInteger { path: p, value: v }) => {
                assert_eq!((p.as_str(), v.as_str()), (path, value), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn integers_up_to_2_pow_53_minus_1_are_kept_exactly() {
    let e =
        canonical_entry(r#"{"b":-9007199254740991,"a":9007199254740991,"c":0.5}"#).expect("exact");
    assert_eq!(
        String::from_utf8(e).expect("utf8"),
        r#"{"a":9007199254740991,"b":-9007199254740991,"c":0.5}"#
    );
}
