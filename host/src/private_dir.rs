//! Directories no other user can change, and the files in them, opened
//! without following links.
//!
//! The host keeps what it trusts in such places: compiled components
//! (machine code it maps and runs), the key that vouches for them, and the
//! token store. A directory that another user owns, or that group or others
//! may write, could have had anything put in it, so it is refused, never
//! tightened. A [`PrivateDir`] is checked through its open handle and every
//! file in it is reached through that handle (`openat`), so renaming or
//! swapping the directory after the check changes nothing.

use std::fs::{File, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

/// The user's data directory for this host: `$XDG_DATA_HOME/discord-host`,
/// else `~/.local/share/discord-host`; `None` when neither variable is set
/// (a relative `XDG_DATA_HOME` is ignored, as the XDG spec says). Only the
/// path: [`PrivateDir::create`] makes and checks it.
pub fn data_dir() -> Option<PathBuf> {
    data_dir_in(
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn data_dir_in(xdg_data_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    xdg_data_home
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            home.filter(|home| !home.as_os_str().is_empty())
                .map(|home| home.join(".local/share"))
        })
        .map(|dir| dir.join("discord-host"))
}

/// A directory owned by the effective user that neither group nor others
/// may write, held open.
#[derive(Debug)]
pub struct PrivateDir {
    handle: File,
    path: PathBuf,
}

impl PrivateDir {
    /// Opens the directory at `path`, creating it (and missing parents) with
    /// mode 0700 first, and checks the opened directory: owned by the
    /// effective user, writable by no one else. An existing directory is
    /// only checked, never changed.
    pub fn create(path: &Path) -> io::Result<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|error| refusal(path, &format!("cannot be made ({error})")))?;
        let handle = File::from(
            rustix::fs::open(
                path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|error| refusal(path, &format!("cannot be opened ({error})")))?,
        );
        check_owned_and_unwritable(path, &handle.metadata()?)?;
        Ok(Self {
            handle,
            path: path.to_owned(),
        })
    }

    /// The directory's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file `name` in this directory for reading, without
    /// following a link, and checks the opened file: a regular file, owned
    /// by the effective user, writable by no one else. An error of kind
    /// `NotFound` when there is none.
    pub fn open_file(&self, name: &str) -> io::Result<File> {
        let path = self.path.join(name);
        let file = File::from(
            rustix::fs::openat(
                &self.handle,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|error| unopened(&path, error))?,
        );
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(refusal(&path, "is not a regular file"));
        }
        check_owned_and_unwritable(&path, &metadata)?;
        Ok(file)
    }

    /// Puts `contents` in the file `name`, replacing whatever is there:
    /// written to a new file under a random name (see
    /// `write_temporary`) and renamed over `name`,
    /// so a reader never sees half a file and a link at `name` is replaced,
    /// never followed.
    pub fn replace_file(&self, name: &str, contents: &[&[u8]]) -> io::Result<()> {
        let temporary = self.write_temporary(name, contents)?;
        rustix::fs::renameat(&self.handle, &temporary, &self.handle, name).map_err(|error| {
            self.remove_quietly(&temporary);
            io::Error::from(error)
        })
    }

    /// Puts `contents` in the file `name` only if there is none: written to
    /// a new file under a random name and linked in as `name` whole, so a
    /// concurrent writer's file is neither overwritten nor read half-made.
    /// Whether this call made it.
    pub fn create_file(&self, name: &str, contents: &[&[u8]]) -> io::Result<bool> {
        let temporary = self.write_temporary(name, contents)?;
        let linked = rustix::fs::linkat(
            &self.handle,
            &temporary,
            &self.handle,
            name,
            AtFlags::empty(),
        );
        self.remove_quietly(&temporary);
        match linked {
            Ok(()) => Ok(true),
            Err(Errno::EXIST) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// A new file holding `contents`, mode 0600, synced, named
    /// `.NAME.RANDOM.tmp`: made with `O_CREAT | O_EXCL | O_NOFOLLOW`, so it
    /// is never an existing file or a link, and the random part (128 bits)
    /// cannot be guessed ahead. Its name.
    fn write_temporary(&self, name: &str, contents: &[&[u8]]) -> io::Result<String> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random)?;
        let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        let temporary = format!(".{name}.{hex}.tmp");
        let mut file = File::from(rustix::fs::openat(
            &self.handle,
            &temporary,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        )?);
        let written = contents
            .iter()
            .try_for_each(|part| file.write_all(part))
            .and_then(|()| file.sync_all());
        match written {
            Ok(()) => Ok(temporary),
            Err(error) => {
                self.remove_quietly(&temporary);
                Err(error)
            }
        }
    }

    /// Removes this directory's entry `name`; a failure leaves a stray
    /// temporary file and nothing worse.
    fn remove_quietly(&self, name: &str) {
        if let Err(error) = rustix::fs::unlinkat(&self.handle, name, AtFlags::empty()) {
            tracing::debug!(%error, name, dir = %self.path.display(), "a temporary file stays");
        }
    }
}

/// Who besides its owner may add or replace files in a directory that
/// [`check_parent`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParentAccess {
    /// Only its owner (this user, or root).
    OwnerOnly,
    /// Group or others may add files, but the sticky bit keeps them from
    /// renaming or removing this user's (as in `/tmp`).
    Sticky,
}

/// Checks the directory at `path` as a home for a file no other user may
/// replace: owned by the effective user or by root, and writable by group
/// or others only with the sticky bit.
pub fn check_parent(path: &Path) -> io::Result<ParentAccess> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| refusal(path, &format!("cannot be read ({error})")))?;
    if !metadata.is_dir() {
        return Err(refusal(path, "is not a directory"));
    }
    let me = effective_uid();
    if metadata.uid() != me && metadata.uid() != 0 {
        return Err(owned_by_another(path, metadata.uid(), me));
    }
    match (metadata.mode() & 0o022 != 0, metadata.mode() & 0o1000 != 0) {
        (false, _) => Ok(ParentAccess::OwnerOnly),
        (true, true) => Ok(ParentAccess::Sticky),
        (true, false) => Err(writable_by_others(path, &metadata)),
    }
}

/// Opens the existing file at `path` for reading without following a link
/// and checks the opened file: a regular file owned by the effective user.
/// Its mode is the caller's to judge.
pub fn open_own_file(path: &Path) -> io::Result<File> {
    let file = File::from(
        rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|error| unopened(path, error))?,
    );
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(refusal(path, "is not a regular file"));
    }
    let me = effective_uid();
    if metadata.uid() != me {
        return Err(owned_by_another(path, metadata.uid(), me));
    }
    Ok(file)
}

fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn check_owned_and_unwritable(path: &Path, metadata: &Metadata) -> io::Result<()> {
    let me = effective_uid();
    if metadata.uid() != me {
        return Err(owned_by_another(path, metadata.uid(), me));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(writable_by_others(path, metadata));
    }
    Ok(())
}

fn unopened(path: &Path, error: Errno) -> io::Error {
    match error {
        Errno::NOENT => io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} does not exist", path.display()),
        ),
        Errno::LOOP => refusal(path, "is a symbolic link"),
        error => refusal(path, &format!("cannot be opened ({error})")),
    }
}

fn owned_by_another(path: &Path, owner: u32, me: u32) -> io::Error {
    refusal(
        path,
        &format!("is owned by another user (uid {owner}, not this user's {me})"),
    )
}

fn writable_by_others(path: &Path, metadata: &Metadata) -> io::Error {
    refusal(
        path,
        &format!(
            "is writable by group or others (mode {:03o})",
            metadata.mode() & 0o7777
        ),
    )
}

fn refusal(path: &Path, problem: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{} {problem}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_data_dir_follows_xdg_then_home() {
        let dir = |xdg: Option<&str>, home: Option<&str>| {
            data_dir_in(xdg.map(PathBuf::from), home.map(PathBuf::from))
        };
        assert_eq!(
            dir(Some("/data"), Some("/home/a")),
            Some(PathBuf::from("/data/discord-host"))
        );
        assert_eq!(
            dir(Some("relative"), Some("/home/a")),
            Some(PathBuf::from("/home/a/.local/share/discord-host"))
        );
        assert_eq!(dir(None, Some("")), None);
        assert_eq!(dir(None, None), None);
    }

    #[test]
    fn files_are_written_whole_and_created_once() {
        let path = std::env::temp_dir().join(format!("discord-private-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        let dir = PrivateDir::create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);

        assert!(dir.create_file("once", &[b"first"]).unwrap());
        assert!(!dir.create_file("once", &[b"second"]).unwrap());
        assert_eq!(std::fs::read(path.join("once")).unwrap(), b"first");
        dir.replace_file("once", &[b"re", b"placed"]).unwrap();
        assert_eq!(std::fs::read(path.join("once")).unwrap(), b"replaced");
        assert_eq!(
            std::fs::metadata(path.join("once")).unwrap().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read_dir(&path).unwrap().count(),
            1,
            "no temporary file stays"
        );
        assert_eq!(
            dir.open_file("missing").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        std::fs::remove_dir_all(&path).unwrap();
    }
}
