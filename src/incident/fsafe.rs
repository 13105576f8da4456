//! Opening files under the state directory without following links.
//!
//! Anyone who can write to the state directory could plant a symbolic link
//! at a lock, journal or output path and have drctl write its next line into
//! a file of their choice. So every file and directory below the state
//! directory is opened relative to its parent's handle (`openat`) with
//! `O_NOFOLLOW`, one component at a time, and new ones are created with
//! `O_CREAT|O_EXCL` (files 0600, directories 0700). Whatever is opened must
//! be owned by the current user, writable by no one else, and of the
//! expected type; anything else is refused with an error naming the path
//! (docs/incident-log.md). Files are opened `O_NONBLOCK`, so a FIFO planted
//! where a file is expected is refused at once instead of blocking drctl
//! until some writer comes.
//!
//! The state directory itself is the operator's choice (`--state-dir`): its
//! path is followed as given, links included, but the directory it leads to
//! is held to the same owner, mode and type rules.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// How a file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    /// Read and append (the journal, the torn-line file).
    Append,
    /// Read and write at any offset (locks).
    ReadWrite,
}

/// Whether a missing file is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    /// Must exist.
    No,
    /// Must not exist (`O_EXCL`): fails with `AlreadyExists`.
    New,
    /// Created with `O_EXCL` when missing, opened (never followed) when present.
    IfMissing,
}

/// Opens (creating when asked) the state directory itself, 0700 when new.
pub(crate) fn root(state_dir: &Path, create: bool) -> io::Result<OwnedFd> {
    if create {
        match rustix::fs::mkdir(state_dir, Mode::from_raw_mode(DIR_MODE)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(rustix::io::Errno::NOENT) => {
                // Parents first (the operator's directories, not drctl's state).
                if let Some(parent) = state_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                match rustix::fs::mkdir(state_dir, Mode::from_raw_mode(DIR_MODE)) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let fd = rustix::fs::open(
        state_dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    check(&fd, FileType::Directory).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("the state directory {}: {e}", state_dir.display()),
        )
    })?;
    Ok(fd)
}

/// Opens the directory `path` (under `state_dir`), creating the missing ones when asked.
pub(crate) fn dir(state_dir: &Path, path: &Path, create: bool) -> io::Result<OwnedFd> {
    let mut fd = root(state_dir, create)?;
    for name in components(state_dir, path)? {
        fd = subdir(&fd, name, create)?;
    }
    Ok(fd)
}

/// Opens the file `path` (under `state_dir`); its directories must exist
/// unless `create` asks for the file to be created.
pub(crate) fn open(
    state_dir: &Path,
    path: &Path,
    access: Access,
    create: Create,
) -> io::Result<File> {
    let (parent, name) = split(state_dir, path)?;
    let dir = dir(state_dir, parent, create != Create::No)?;
    open_at(&dir, name, access, create)
}

/// Reads a whole file under the state directory.
pub(crate) fn read(state_dir: &Path, path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open(state_dir, path, Access::Read, Create::No)?;
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

/// The names in the directory `path`, read through the handle that was
/// checked (never by path again, which a link could have replaced since).
/// Names that are not UTF-8 are left out: drctl makes none.
pub(crate) fn list(state_dir: &Path, path: &Path) -> io::Result<Vec<String>> {
    let handle = dir(state_dir, path, false)?;
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(&handle)? {
        if let Ok(name) = entry?.file_name().to_str()
            && name != "."
            && name != ".."
        {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// Creates the directory `path` (its parents must exist); `AlreadyExists` when it does.
pub(crate) fn create_dir(state_dir: &Path, path: &Path) -> io::Result<()> {
    let (parent, name) = split(state_dir, path)?;
    let dir = dir(state_dir, parent, false)?;
    rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(DIR_MODE))?;
    Ok(())
}

/// Replaces `to` by `from`, both files of the directory `handle` (from [`dir`]).
pub(crate) fn rename_in(handle: &OwnedFd, from: &Path, to: &Path) -> io::Result<()> {
    if let Ok(stat) = rustix::fs::statat(handle, to, AtFlags::SYMLINK_NOFOLLOW) {
        // Renaming over a link replaces the link, not its target, but a link
        // there was planted: say so rather than quietly removing it.
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => {}
            FileType::Symlink => return Err(link_refused(to)),
            _ => {
                return Err(refused(&format!(
                    "`{}` is not a regular file",
                    to.display()
                )));
            }
        }
    }
    rustix::fs::renameat(handle, from, handle, to)?;
    Ok(())
}

/// Removes a file of the directory `handle` (from [`dir`]), if it is there.
pub(crate) fn remove_in(handle: &OwnedFd, name: &Path) -> io::Result<()> {
    match rustix::fs::unlinkat(handle, name, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn subdir(parent: &OwnedFd, name: &Path, create: bool) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(parent, name, flags, Mode::empty()) {
        Err(rustix::io::Errno::NOENT) if create => {
            match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(DIR_MODE)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            rustix::fs::openat(parent, name, flags, Mode::empty())
        }
        other => other,
    }
    .map_err(|e| explain(parent, name, e, FileType::Directory))?;
    // Named, since the path in the caller's error may go on below it.
    check(&fd, FileType::Directory)
        .map_err(|e| io::Error::new(e.kind(), format!("`{}`: {e}", name.display())))?;
    Ok(fd)
}

/// Opens the file `name` of the directory `dir` (from [`dir`]).
pub(crate) fn open_at(
    dir: &OwnedFd,
    name: &Path,
    access: Access,
    create: Create,
) -> io::Result<File> {
    // `NONBLOCK`: opening a FIFO would otherwise wait for a writer, forever.
    let mut flags = OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    flags |= match access {
        Access::Read => OFlags::RDONLY,
        Access::Append => OFlags::RDWR | OFlags::APPEND,
        Access::ReadWrite => OFlags::RDWR,
    };
    let mode = Mode::from_raw_mode(FILE_MODE);
    let fd = match create {
        Create::No => rustix::fs::openat(dir, name, flags, mode),
        Create::New => rustix::fs::openat(dir, name, flags | OFlags::CREATE | OFlags::EXCL, mode),
        Create::IfMissing => {
            match rustix::fs::openat(dir, name, flags | OFlags::CREATE | OFlags::EXCL, mode) {
                Err(rustix::io::Errno::EXIST) => rustix::fs::openat(dir, name, flags, mode),
                other => other,
            }
        }
    }
    .map_err(|e| explain(dir, name, e, FileType::RegularFile))?;
    check(&fd, FileType::RegularFile)?;
    // A regular file: reads and writes block as usual from here on.
    let flags = rustix::fs::fcntl_getfl(&fd)?;
    rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK)?;
    Ok(File::from(fd))
}

/// The components of `path` below `state_dir`, each a plain name.
fn components<'a>(state_dir: &Path, path: &'a Path) -> io::Result<Vec<&'a Path>> {
    let relative = path
        .strip_prefix(state_dir)
        .map_err(|_| io::Error::other("it is not inside the state directory"))?;
    relative
        .components()
        .map(|c| match c {
            Component::Normal(name) => Ok(Path::new(name)),
            _ => Err(io::Error::other("the path leaves the state directory")),
        })
        .collect()
}

fn split<'a>(state_dir: &Path, path: &'a Path) -> io::Result<(&'a Path, &'a Path)> {
    let name = path
        .file_name()
        .map(Path::new)
        .ok_or_else(|| io::Error::other("the path names no file"))?;
    components(state_dir, path)?;
    let parent = path
        .parent()
        .ok_or_else(|| io::Error::other("the path names no file"))?;
    Ok((parent, name))
}

/// An `openat` failure, said plainly when a link or a file of another kind
/// (a socket, a directory where a file belongs) caused it.
fn explain(dir: &OwnedFd, name: &Path, errno: rustix::io::Errno, expected: FileType) -> io::Error {
    use rustix::io::Errno;
    if matches!(
        errno,
        Errno::LOOP | Errno::NOTDIR | Errno::NXIO | Errno::ISDIR | Errno::OPNOTSUPP
    ) && let Ok(stat) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
    {
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => return link_refused(name),
            kind if kind != expected => return wrong_kind(kind, expected),
            _ => {}
        }
    }
    errno.into()
}

/// What was opened is of the expected type and belongs to this user.
fn check(fd: &impl AsFd, expected: FileType) -> io::Result<()> {
    let stat = rustix::fs::fstat(fd)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != expected {
        return Err(wrong_kind(kind, expected));
    }
    // A second name for the file is a link too, one `O_NOFOLLOW` cannot see:
    // a hard link planted here could point at a file of this user's elsewhere.
    if expected == FileType::RegularFile && stat.st_nlink > 1 {
        return Err(refused(&format!(
            "it has {} hard links; drctl writes only files of its own",
            stat.st_nlink
        )));
    }
    // drctl makes nothing its group or others may write (0600, 0700): such a
    // file could hold anyone's lines, such a directory anyone's files.
    let mode = stat.st_mode & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refused(&format!(
            "it is writable by its group or by others (mode {mode:04o}); drctl keeps its files 0600 and its directories 0700 (`chmod go-w` it if its contents are known good)"
        )));
    }
    let me = rustix::process::geteuid().as_raw();
    if stat.st_uid != me {
        return Err(refused(&format!(
            "it is owned by uid {}, not by this user (uid {me})",
            stat.st_uid
        )));
    }
    Ok(())
}

fn wrong_kind(kind: FileType, expected: FileType) -> io::Error {
    let found = match kind {
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::Directory => "a directory",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::RegularFile => "a regular file",
        _ => "of another kind",
    };
    refused(&if expected == FileType::Directory {
        format!("it is not a directory (it is {found})")
    } else {
        format!("it is not a regular file (it is {found})")
    })
}

fn link_refused(name: &Path) -> io::Error {
    refused(&format!(
        "`{}` is a symbolic link, and drctl never follows links under the state directory",
        name.display()
    ))
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, format!("refused: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_private_dirs_and_files_and_refuses_links() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let file = state.join("a/b/f");
        drop(open(&state, &file, Access::Append, Create::New).unwrap());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("a/b")), 0o700);
        assert_eq!(mode(&file), 0o600);
        let error = open(&state, &file, Access::Append, Create::New).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);

        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, state.join("a/link")).unwrap();
        for create in [Create::No, Create::IfMissing] {
            let error = open(&state, &state.join("a/link"), Access::Append, create).unwrap_err();
            assert!(
                error.to_string().contains("symbolic link"),
                "{create:?}: {error}"
            );
        }
        // `O_EXCL` never follows a link either: the name is taken.
        let error = open(&state, &state.join("a/link"), Access::Append, Create::New).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        std::os::unix::fs::symlink(dir.path(), state.join("dirlink")).unwrap();
        let error = open(
            &state,
            &state.join("dirlink/victim"),
            Access::Read,
            Create::No,
        )
        .unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        std::fs::hard_link(&victim, state.join("a/hard")).unwrap();
        let error = open(
            &state,
            &state.join("a/hard"),
            Access::Append,
            Create::IfMissing,
        )
        .unwrap_err();
        assert!(error.to_string().contains("2 hard links"), "{error}");
        assert!(open(&state, &dir.path().join("victim"), Access::Read, Create::No).is_err());
        assert!(open(&state, &state.join("../victim"), Access::Read, Create::No).is_err());
    }
}
