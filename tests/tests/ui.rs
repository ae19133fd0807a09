//! The compile errors of the derives, each with its snapshot beside it
//! (`tests/ui/<topic>/<case>.stderr`), and the accepted forms.
//!
//! Rewrite the snapshots with `TRYBUILD=overwrite cargo test -p
//! event-contracts-tests --test ui` and read the diff before committing.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    for topic in [
        "container",
        "naming",
        "version",
        "since",
        "fields",
        "partition",
        "shape",
        "open_enum",
        "routing",
    ] {
        t.compile_fail(format!("tests/ui/{topic}/*.rs"));
    }
}
