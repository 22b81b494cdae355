//! The SQLite database's files are private to the service's user: the directory is created
//! `0700` and the database, its `-wal` and its `-shm` are `0600` (they hold password hashes,
//! token records and sealed keys). SQLite creates `-wal` and `-shm` with the mode of the
//! database file, so making that file first, `0600`, covers them; files from an earlier start
//! are narrowed too.

use std::io;
use std::path::Path;

/// Suffixes of the files SQLite keeps next to the database in WAL mode.
const COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// Creates `db`'s directory (mode `0700`) and `db` itself (mode `0600`) if missing, and
/// narrows an existing database's files to `0600`.
pub(crate) fn prepare(db: &Path) -> io::Result<()> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    create_private_file(db)?;
    for suffix in COMPANIONS {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        narrow(Path::new(&name))?;
    }
    narrow(db)
}

/// `create_dir_all`, making what it creates `0700` (an existing directory is left alone: it
/// may be shared, e.g. a mount point).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn create_private_file(path: &Path) -> io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Takes every permission from group and others, if the file exists.
fn narrow(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
