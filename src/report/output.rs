//! Writing report files safely. An output folder is written as a hidden sibling
//! staging folder and renamed into place once complete (with `--force`, swapped with
//! the old one), so whatever happens the destination holds the old folder or the
//! complete new one. A lock file beside it stops two runs writing one folder; SIGINT
//! and SIGTERM remove the staging folder and the lock before the process ends.
//! Single files are written atomically through a temporary file.

use std::ffi::CString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU8, Ordering};

use crate::error::{Error, InputError, Result};

/// A folder that files are written into: a staging folder until [`OutputDir::commit`].
#[derive(Debug)]
pub struct OutputDir {
    dest: PathBuf,
    staging: PathBuf,
    lock_path: PathBuf,
    /// Holds the `flock` for the life of the value.
    _lock: std::fs::File,
    force: bool,
    slot: usize,
    done: bool,
}

/// An input error about the output path the user gave.
fn bad_path(path: &Path, message: impl Into<String>) -> Error {
    InputError::new(path.display().to_string(), message).into()
}

fn is_empty_dir(path: &Path) -> io::Result<bool> {
    Ok(std::fs::read_dir(path)?.next().is_none())
}

impl OutputDir {
    /// Checks the destination `path` and prepares to write it, before any long work:
    /// an existing non-empty folder needs `force`; a file, a path under a file or a
    /// folder that cannot be written is an input error; another run writing the same
    /// folder is reported. Nothing appears at `path` until [`OutputDir::commit`].
    pub fn create(path: &Path, force: bool) -> Result<OutputDir> {
        let name = path
            .file_name()
            .filter(|n| *n != "." && *n != "..")
            .ok_or_else(|| bad_path(path, "expected a folder name (not `.`, `..` or `/`)"))?
            .to_string_lossy()
            .into_owned();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self::check_dest(path, force)?;
        match std::fs::metadata(&parent) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(bad_path(
                    path,
                    format!("{} is a file, not a folder", parent.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&parent).map_err(|e| {
                    bad_path(
                        path,
                        format!("cannot create the folder {}: {e}", parent.display()),
                    )
                })?;
            }
            Err(e) => {
                return Err(bad_path(
                    path,
                    format!("cannot use {}: {e}", parent.display()),
                ))
            }
        }
        let lock_path = parent.join(format!(".{name}.archsim-lock"));
        let prefix = format!(".{name}.archsim-tmp-");
        let staging = parent.join(format!("{prefix}{}", std::process::id()));
        signals::install();
        let lock = take_lock(&lock_path).map_err(|e| match e {
            LockError::Busy => bad_path(
                path,
                format!(
                    "another archsim run is writing this folder now (lock {}): wait for it to finish or choose another folder",
                    lock_path.display()
                ),
            ),
            LockError::Io(e) => bad_path(path, format!("cannot write in {}: {e}", parent.display())),
        })?;
        // From here an interrupt removes the lock (and the staging folder).
        let slot = signals::register(&staging, &lock_path);
        let give_up = |e: Error| {
            let _ = std::fs::remove_file(&lock_path);
            signals::unregister(slot);
            e
        };
        // Another run may have finished into `path` before we took the lock.
        Self::check_dest(path, force).map_err(give_up)?;
        // Staging folders left by a killed run (we hold the lock: nobody writes them).
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        if let Err(e) = std::fs::create_dir(&staging) {
            return Err(give_up(bad_path(
                path,
                format!("cannot write in {}: {e}", parent.display()),
            )));
        }
        Ok(OutputDir {
            dest: path.to_path_buf(),
            staging,
            lock_path,
            _lock: lock,
            force,
            slot,
            done: false,
        })
    }

    fn check_dest(path: &Path, force: bool) -> Result<()> {
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => Err(bad_path(
                path,
                "exists and is not a folder: choose another output folder",
            )),
            Ok(_) if !force && !is_empty_dir(path).map_err(|e| bad_path(path, format!("cannot read: {e}")))? => {
                Err(bad_path(
                    path,
                    "the output folder exists and is not empty: pass --force to replace it, or choose another folder",
                ))
            }
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Err(bad_path(
                path,
                "a part of this path is a file, not a folder: choose another output folder",
            )),
            Err(e) => Err(bad_path(path, format!("cannot use this output folder: {e}"))),
        }
    }

    /// The folder to write into now (the staging folder).
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Where the folder appears on [`OutputDir::commit`].
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Writes `bytes` to the file `name` in the folder, atomically; returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        signals::die_if_interrupted();
        let p = self.staging.join(name);
        write_atomic(&p, bytes)?;
        signals::die_if_interrupted();
        Ok(p)
    }

    /// Puts the complete folder in place: renamed to the destination, or with `force`
    /// swapped with the old folder, which is then removed. Returns the destination.
    pub fn commit(mut self) -> Result<PathBuf> {
        signals::committing(self.slot);
        signals::die_if_interrupted();
        let result = self.put_in_place();
        if result.is_ok() {
            self.done = true;
        }
        self.cleanup();
        signals::die_if_interrupted();
        result.map(|()| self.dest.clone())
    }

    fn put_in_place(&self) -> Result<()> {
        let io = |e: io::Error| Error::io(&self.dest, e);
        match std::fs::metadata(&self.dest) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return std::fs::rename(&self.staging, &self.dest).map_err(io)
            }
            Err(e) => return Err(io(e)),
            Ok(m) if !m.is_dir() => return Self::check_dest(&self.dest, self.force),
            Ok(_) => {}
        }
        if is_empty_dir(&self.dest).map_err(io)? {
            // rename(2) replaces an empty folder.
            return std::fs::rename(&self.staging, &self.dest).map_err(io);
        }
        Self::check_dest(&self.dest, self.force)?;
        if exchange(&self.staging, &self.dest).is_ok() {
            // The staging path now holds the old folder; cleanup removes it.
            return Ok(());
        }
        // No atomic exchange on this file system: move the old folder aside first.
        let old = PathBuf::from(
            self.staging
                .to_string_lossy()
                .replace(".archsim-tmp-", ".archsim-old-"),
        );
        std::fs::rename(&self.dest, &old).map_err(io)?;
        if let Err(e) = std::fs::rename(&self.staging, &self.dest) {
            let _ = std::fs::rename(&old, &self.dest);
            return Err(io(e));
        }
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }

    fn cleanup(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
        let _ = std::fs::remove_file(&self.lock_path);
        signals::unregister(self.slot);
    }
}

impl Drop for OutputDir {
    /// An output folder dropped before [`OutputDir::commit`] (an error, an early
    /// return) leaves nothing behind: no staging folder, no lock, no empty folder.
    fn drop(&mut self) {
        if !self.done {
            self.cleanup();
        }
    }
}

enum LockError {
    Busy,
    Io(io::Error),
}

/// Opens `path` and takes an exclusive `flock` on it without waiting, making sure the
/// file locked is still the one at `path` (a finishing run removes its lock file).
fn take_lock(path: &Path) -> std::result::Result<std::fs::File, LockError> {
    for _ in 0..5 {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(LockError::Io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock on a file descriptor we own.
            let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if r != 0 {
                let e = io::Error::last_os_error();
                return Err(if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    LockError::Busy
                } else {
                    LockError::Io(e)
                });
            }
            let same = match (file.metadata(), std::fs::metadata(path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
        }
        return Ok(file);
    }
    Err(LockError::Busy)
}

/// Swaps two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let ca = CString::new(a.as_os_str().as_bytes())?;
        let cb = CString::new(b.as_os_str().as_bytes())?;
        // SAFETY: two valid NUL-terminated paths relative to the working directory.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        Err(io::Error::last_os_error())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(io::Error::other("no atomic exchange"))
    }
}

/// SIGINT and SIGTERM while output folders are open: the handler removes an empty
/// staging folder and its lock (`rmdir` and `unlink` are async-signal-safe) and ends
/// the process as the signal would. While files are being written or a folder is
/// being put in place, it only records the signal; the writer cleans up and ends the
/// process at its next step, so the destination is never left half-replaced.
mod signals {
    use super::*;

    const SLOTS: usize = 4;
    const FREE: u8 = 0;
    const ACTIVE: u8 = 1;
    const COMMITTING: u8 = 2;

    static STATE: [AtomicU8; SLOTS] = [const { AtomicU8::new(FREE) }; SLOTS];
    static STAGING: [AtomicPtr<libc::c_char>; SLOTS] =
        [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];
    static LOCK: [AtomicPtr<libc::c_char>; SLOTS] =
        [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];
    /// The signal received and deferred, or 0.
    static PENDING: AtomicI32 = AtomicI32::new(0);
    static INSTALLED: std::sync::Once = std::sync::Once::new();

    fn c_path(p: &Path) -> *mut libc::c_char {
        use std::os::unix::ffi::OsStrExt;
        CString::new(p.as_os_str().as_bytes())
            .unwrap_or_default()
            .into_raw()
    }

    /// Registers a staging folder and its lock; returns the slot (or `SLOTS` when all
    /// are taken, in which case the folder is only cleaned up on a normal exit).
    pub(super) fn register(staging: &Path, lock: &Path) -> usize {
        for (i, state) in STATE.iter().enumerate() {
            if state
                .compare_exchange(FREE, ACTIVE, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                free_paths(i);
                STAGING[i].store(c_path(staging), Ordering::SeqCst);
                LOCK[i].store(c_path(lock), Ordering::SeqCst);
                return i;
            }
        }
        SLOTS
    }

    pub(super) fn committing(slot: usize) {
        if slot < SLOTS {
            STATE[slot].store(COMMITTING, Ordering::SeqCst);
        }
    }

    pub(super) fn unregister(slot: usize) {
        if slot < SLOTS {
            STATE[slot].store(FREE, Ordering::SeqCst);
        }
    }

    /// Frees the path strings of a slot that is not in use (the handler reads them
    /// only while a slot is active).
    fn free_paths(i: usize) {
        for p in [&STAGING[i], &LOCK[i]] {
            let old = p.swap(std::ptr::null_mut(), Ordering::SeqCst);
            if !old.is_null() {
                // SAFETY: made by `CString::into_raw` in `c_path`.
                drop(unsafe { CString::from_raw(old) });
            }
        }
    }

    /// Ends the process as the deferred signal would, after removing every staging
    /// folder and lock still registered.
    pub(super) fn die_if_interrupted() {
        let sig = PENDING.load(Ordering::SeqCst);
        if sig == 0 {
            return;
        }
        for i in 0..SLOTS {
            if STATE[i].load(Ordering::SeqCst) != FREE {
                for p in [&STAGING[i], &LOCK[i]] {
                    let ptr = p.load(Ordering::SeqCst);
                    if !ptr.is_null() {
                        // SAFETY: a live CString made in `c_path`.
                        let path = unsafe { std::ffi::CStr::from_ptr(ptr) };
                        let path = Path::new(std::ffi::OsStr::from_bytes(path.to_bytes()));
                        let _ = std::fs::remove_dir_all(path);
                        let _ = std::fs::remove_file(path);
                    }
                }
            }
        }
        // SAFETY: restoring the default action and re-raising the signal.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }

    use std::os::unix::ffi::OsStrExt;

    extern "C" fn on_signal(sig: libc::c_int) {
        // Only async-signal-safe calls here: atomics, rmdir, unlink, signal, raise.
        let mut defer = false;
        for state in &STATE {
            if state.load(Ordering::SeqCst) == COMMITTING {
                defer = true;
            }
        }
        if !defer {
            for i in 0..SLOTS {
                if STATE[i].load(Ordering::SeqCst) != ACTIVE {
                    continue;
                }
                let staging = STAGING[i].load(Ordering::SeqCst);
                // SAFETY: a NUL-terminated path kept alive while the slot is active.
                if !staging.is_null() && unsafe { libc::rmdir(staging) } != 0 {
                    let errno = std::io::Error::last_os_error().raw_os_error();
                    if errno != Some(libc::ENOENT) {
                        // Files are being written: the writer finishes the clean-up.
                        defer = true;
                        continue;
                    }
                }
                let lock = LOCK[i].load(Ordering::SeqCst);
                if !lock.is_null() {
                    // SAFETY: as above.
                    unsafe { libc::unlink(lock) };
                }
            }
        }
        if defer {
            PENDING.store(sig, Ordering::SeqCst);
            return;
        }
        // SAFETY: async-signal-safe calls.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }

    pub(super) fn install() {
        INSTALLED.call_once(|| {
            for sig in [libc::SIGINT, libc::SIGTERM] {
                // SAFETY: installing a handler that makes only async-signal-safe calls.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                    libc::sigemptyset(&mut action.sa_mask);
                    action.sa_flags = libc::SA_RESTART;
                    libc::sigaction(sig, &action, std::ptr::null_mut());
                }
            }
        });
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
    fn folder_appears_only_on_commit() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a/b");
        let d = OutputDir::create(&p, false).unwrap();
        d.write("x.txt", b"x").unwrap();
        assert!(!p.exists());
        assert_eq!(d.commit().unwrap(), p);
        assert_eq!(names(&p), ["x.txt"]);
        assert_eq!(
            names(&t.path().join("a")),
            ["b"],
            "no staging folder or lock left"
        );
        // An empty existing folder is filled without --force.
        std::fs::create_dir(t.path().join("e")).unwrap();
        let d = OutputDir::create(&t.path().join("e"), false).unwrap();
        d.write("y.txt", b"y").unwrap();
        d.commit().unwrap();
        assert_eq!(names(&t.path().join("e")), ["y.txt"]);
    }

    #[test]
    fn non_empty_folder_needs_force_and_is_replaced_whole() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("out");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("old.txt"), "old").unwrap();
        let err = OutputDir::create(&p, false).unwrap_err();
        assert!(err.is_input());
        assert!(err.to_string().contains("--force"), "{err}");
        let d = OutputDir::create(&p, true).unwrap();
        d.write("new.txt", b"new").unwrap();
        assert_eq!(names(&p), ["old.txt"], "the old folder stays until commit");
        d.commit().unwrap();
        assert_eq!(names(&p), ["new.txt"]);
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn a_dropped_folder_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("out");
        let d = OutputDir::create(&p, false).unwrap();
        d.write("half.txt", b"half").unwrap();
        drop(d);
        assert!(names(t.path()).is_empty(), "{:?}", names(t.path()));
    }

    #[test]
    fn two_writers_cannot_share_a_folder() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("out");
        let first = OutputDir::create(&p, false).unwrap();
        let err = OutputDir::create(&p, false).unwrap_err();
        assert!(
            err.is_input() && err.to_string().contains("another archsim run"),
            "{err}"
        );
        first.write("a.txt", b"a").unwrap();
        first.commit().unwrap();
        // Once the first is done, a second run finds the folder full.
        let err = OutputDir::create(&p, false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
    }

    #[test]
    fn a_path_under_a_file_is_an_input_error() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("f");
        std::fs::write(&f, "x").unwrap();
        let err = OutputDir::create(&f.join("sub"), true).unwrap_err();
        assert!(err.is_input(), "{err}");
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
