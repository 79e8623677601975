//! Writing report files safely: an output folder that is never silently mixed with
//! old files, and atomic writes so a file appears complete or not at all.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, InputError, Result};

/// A folder that report files are written into.
#[derive(Debug, Clone)]
pub struct OutputDir {
    path: PathBuf,
}

impl OutputDir {
    /// Creates `path` (and its parents) or opens it. An existing non-empty folder is
    /// an input error unless `force` is set; with `force`, files are replaced one by
    /// one as they are written and other files are left alone.
    pub fn create(path: &Path, force: bool) -> Result<OutputDir> {
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => {
                return Err(InputError::new(
                    shown,
                    "exists and is not a folder: choose another output folder",
                )
                .into())
            }
            Ok(_) => {
                let mut entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
                if !force && entries.next().is_some() {
                    return Err(InputError::new(
                        shown,
                        "the output folder exists and is not empty: pass --force to replace \
                         the report files in it, or choose another folder",
                    )
                    .into());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
            }
            Err(e) => return Err(Error::io(path, e)),
        }
        Ok(OutputDir {
            path: path.to_path_buf(),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` to the file `name` in the folder, atomically; returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let p = self.path.join(name);
        write_atomic(&p, bytes)?;
        Ok(p)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder that is
/// renamed over `path` once complete: readers see the old file or the new one, never
/// a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], with the content produced by `fill`. If `fill` fails,
/// nothing is left behind and an existing file at `path` is untouched.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".archsim-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    // On failure `tmp` is dropped here, which deletes the temporary file.
    fill(tmp.as_file_mut()).map_err(|e| Error::io(path, e))?;
    tmp.as_file_mut().flush().map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates 0600; a report is meant to be read by others.
        let perm = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(tmp.path(), perm).map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn creates_missing_folder_and_accepts_empty_one() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a/b");
        let d = OutputDir::create(&p, false).unwrap();
        assert!(p.is_dir());
        assert_eq!(d.path(), p);
        OutputDir::create(&p, false).unwrap();
    }

    #[test]
    fn non_empty_folder_needs_force() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("old.txt"), "old").unwrap();
        let err = OutputDir::create(t.path(), false).unwrap_err();
        assert!(err.is_input());
        assert!(err.to_string().contains("--force"), "{err}");
        let d = OutputDir::create(t.path(), true).unwrap();
        d.write("old.txt", b"new").unwrap();
        assert_eq!(
            std::fs::read_to_string(t.path().join("old.txt")).unwrap(),
            "new"
        );
    }

    #[test]
    fn a_file_is_not_a_folder() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("f");
        std::fs::write(&f, "x").unwrap();
        let err = OutputDir::create(&f, true).unwrap_err();
        assert!(err.is_input(), "{err}");
    }

    #[test]
    fn write_atomic_replaces_whole_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.csv");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        assert_eq!(names(t.path()), ["x.csv"]);
    }

    #[test]
    fn interrupted_write_leaves_no_partial_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("new.json");
        let err = write_atomic_with(&p, |w| {
            w.write_all(b"{\"half\": ")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert!(!p.exists());
        assert!(names(t.path()).is_empty(), "{:?}", names(t.path()));
    }

    #[test]
    fn interrupted_write_keeps_the_existing_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("summary.json");
        write_atomic(&p, b"complete old report").unwrap();
        let r = write_atomic_with(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"complete old report");
        assert_eq!(names(t.path()), ["summary.json"]);
    }
}
