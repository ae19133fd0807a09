//! Writing generated files inside an output folder, and nowhere else.
//!
//! Every writer of the crate (`generate`, `catalog`, `asyncapi`, `alerts`)
//! builds the names it writes from the catalog (a service name, an event
//! type) or from its configuration (the generated file's name). Checks
//! upstream keep those names well formed, but a writer must not trust
//! them: each path goes through [`join`], which accepts only plain relative
//! names, and [`write_if_changed`], which refuses to follow a symbolic link
//! below the output folder.
//!
//! ```
//! use event_codegen::outpath::join;
//! use std::path::Path;
//! let out = Path::new("out");
//! assert_eq!(join(out, "course/course.published.md").unwrap(), out.join("course").join("course.published.md"));
//! assert!(join(out, "../../../../PWNED.json").is_err());
//! assert!(join(out, "/etc/passwd").is_err());
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a name cannot be written under an output folder.
#[derive(Debug)]
pub enum OutPathError {
    /// The name is not a plain relative path of ordinary file names.
    Unsafe {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A file or folder on the way is a symbolic link; links are not
    /// followed, as one could lead out of the output folder.
    Symlink(PathBuf),
    /// Reading or writing failed.
    Io {
        /// Which path.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
}

impl fmt::Display for OutPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutPathError::Unsafe { name, why } => {
                write!(f, "refusing to write {name:?}: {why}")
            }
            OutPathError::Symlink(path) => write!(
                f,
                "refusing to write through {}: it is a symbolic link, and links in the output folder are not followed",
                path.display()
            ),
            OutPathError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for OutPathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OutPathError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Names Windows reserves for devices, with or without an extension.
const WINDOWS_DEVICES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Checks one component of a relative name.
fn component(part: &str) -> Result<(), &'static str> {
    if part.is_empty() {
        return Err("it has an empty path component");
    }
    if part == "." || part == ".." {
        return Err("it has a `.` or `..` component");
    }
    if let Some(c) = part.chars().find(|c| c.is_control()) {
        return Err(if c == '\0' {
            "it holds a NUL byte"
        } else {
            "it holds a control character"
        });
    }
    if part.contains('\\') {
        return Err("it holds a `\\`, a path separator on Windows");
    }
    if part.contains(':') {
        return Err("it holds a `:`, a drive or stream separator on Windows");
    }
    if part.ends_with('.') || part.ends_with(' ') {
        return Err("a component ends with `.` or a space, which Windows drops");
    }
    let stem = part.split('.').next().unwrap_or(part).to_ascii_lowercase();
    if WINDOWS_DEVICES.contains(&stem.as_str()) {
        return Err("a component is a Windows device name");
    }
    Ok(())
}

/// `root` joined with `rel`, a relative name whose components are
/// separated by `/`: refused if it is empty, absolute, has a `.`, `..` or
/// empty component, a `\`, a `:` (drive letters, `\\?\` and UNC forms), a
/// NUL or other control character, or a Windows device name. The result is
/// always inside `root` by construction; symbolic links are the business of
/// [`write_if_changed`].
pub fn join(root: &Path, rel: &str) -> Result<PathBuf, OutPathError> {
    let unsafe_name = |why| OutPathError::Unsafe {
        name: rel.to_string(),
        why,
    };
    if rel.is_empty() {
        return Err(unsafe_name("the name is empty"));
    }
    if rel.starts_with('/') {
        return Err(unsafe_name("it is an absolute path"));
    }
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        component(part).map_err(unsafe_name)?;
        path.push(part);
    }
    Ok(path)
}

/// Like [`join`], for a single file name: a `/` is refused too.
pub fn join_file_name(root: &Path, name: &str) -> Result<PathBuf, OutPathError> {
    if name.contains('/') {
        return Err(OutPathError::Unsafe {
            name: name.to_string(),
            why: "a file name may not hold a `/`",
        });
    }
    join(root, name)
}

/// Writes `bytes` to `root/rel` (checked by [`join`]) unless the file
/// already holds exactly them; creates `root` and the folders between.
/// Refuses when the file, or a folder between `root` and it, is a symbolic
/// link. Returns whether the file was written.
///
/// The check and the write are separate system calls: this guards against
/// hostile names and links left in the folder, not against another process
/// racing to replace a folder with a link while the run writes.
pub fn write_if_changed(root: &Path, rel: &str, bytes: &[u8]) -> Result<bool, OutPathError> {
    let path = join(root, rel)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutPathError::Io { path, source }
    };
    std::fs::create_dir_all(root).map_err(io(root))?;
    let parts: Vec<&str> = rel.split('/').collect();
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let last = i + 1 == parts.len();
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(OutPathError::Symlink(at));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !last {
                    std::fs::create_dir(&at).map_err(io(&at))?;
                }
            }
            Err(e) => {
                return Err(OutPathError::Io {
                    path: at,
                    source: e,
                });
            }
        }
    }
    if std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    std::fs::write(&path, bytes).map_err(io(&path))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(rel: &str) -> &'static str {
        match join(Path::new("out"), rel) {
            Err(OutPathError::Unsafe { why, .. }) => why,
            other => panic!("{rel:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn joins_plain_names() {
        let out = Path::new("out");
        assert_eq!(
            join(out, "enrollment-service.json").unwrap(),
            out.join("enrollment-service.json")
        );
        assert_eq!(
            join(out, "course/course.published.md").unwrap(),
            out.join("course").join("course.published.md")
        );
        assert_eq!(join(out, ".hidden").unwrap(), out.join(".hidden"));
    }

    #[test]
    fn refuses_names_that_leave_the_folder() {
        assert_eq!(why(""), "the name is empty");
        assert_eq!(why("/etc/passwd"), "it is an absolute path");
        assert_eq!(why("//server/share/x"), "it is an absolute path");
        assert_eq!(
            why("../../../../PWNED.json"),
            "it has a `.` or `..` component"
        );
        assert_eq!(why("a/../../b"), "it has a `.` or `..` component");
        assert_eq!(why("./a"), "it has a `.` or `..` component");
        assert_eq!(why("a//b"), "it has an empty path component");
        assert_eq!(why("a/"), "it has an empty path component");
        assert_eq!(why("a\0b"), "it holds a NUL byte");
        assert_eq!(why("a\nb"), "it holds a control character");
        assert_eq!(
            why("..\\..\\x"),
            "it holds a `\\`, a path separator on Windows"
        );
        assert_eq!(
            why("\\\\server\\share"),
            "it holds a `\\`, a path separator on Windows"
        );
        assert_eq!(
            why("C:evil.json"),
            "it holds a `:`, a drive or stream separator on Windows"
        );
        assert_eq!(
            why("C:/Windows/evil.json"),
            "it holds a `:`, a drive or stream separator on Windows"
        );
        assert_eq!(
            why("x.json:stream"),
            "it holds a `:`, a drive or stream separator on Windows"
        );
        assert_eq!(
            why("x.."),
            "a component ends with `.` or a space, which Windows drops"
        );
        assert_eq!(why("CON.json"), "a component is a Windows device name");
        assert_eq!(why("a/lpt1"), "a component is a Windows device name");
    }

    #[test]
    fn a_file_name_is_one_component() {
        let out = Path::new("out");
        assert!(join_file_name(out, "events.rs").is_ok());
        assert!(matches!(
            join_file_name(out, "gen/events.rs"),
            Err(OutPathError::Unsafe { .. })
        ));
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("outpath-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_only_when_changed() {
        let dir = temp("changed");
        let out = dir.join("out");
        assert!(write_if_changed(&out, "a/b.md", b"one").unwrap());
        assert!(!write_if_changed(&out, "a/b.md", b"one").unwrap());
        assert!(write_if_changed(&out, "a/b.md", b"two").unwrap());
        assert_eq!(std::fs::read(out.join("a/b.md")).unwrap(), b"two");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_below_the_folder() {
        let dir = temp("symlink");
        let out = dir.join("out");
        let outside = dir.join("outside");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        // A folder link leading out.
        std::os::unix::fs::symlink(&outside, out.join("course")).unwrap();
        let err = write_if_changed(&out, "course/course.published.md", b"x").unwrap_err();
        assert!(
            matches!(&err, OutPathError::Symlink(p) if *p == out.join("course")),
            "{err}"
        );
        // A file link leading out.
        let target = outside.join("victim.json");
        std::fs::write(&target, b"keep").unwrap();
        std::os::unix::fs::symlink(&target, out.join("shop-service.json")).unwrap();
        let err = write_if_changed(&out, "shop-service.json", b"x").unwrap_err();
        assert!(matches!(err, OutPathError::Symlink(_)), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
        // The output folder itself may be a link: the user chose it.
        let link = dir.join("out-link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        assert!(write_if_changed(&link, "ok.json", b"x").unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
