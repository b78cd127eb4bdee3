//! Files that survive a power cut: written beside their target, synced, renamed over it, and
//! the directory synced, so a reader finds the old content or the new one, never a torn mix.
//!
//! Without the file sync a rename can reach the disk before the data (an empty file after a
//! crash); without the directory sync the rename itself may be lost.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Replaces `path` with `bytes` durably. `mode` sets the Unix permissions of a new file.
pub fn write_durably(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_durably_with(path, mode, &mut |f| f.write_all(bytes))
}

/// As `write_durably`, with the content produced by `fill` (which may stream a large file).
pub fn write_durably_with(
    path: &Path,
    mode: u32,
    fill: &mut dyn FnMut(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let mut file = DurableFile::create(path, mode)?;
    fill(file.file())?;
    file.commit()
}

/// A file being written beside its target (for content produced by async code): `commit`
/// syncs it, renames it over the target and syncs the directory; dropped uncommitted, the
/// temporary file is removed and the target is untouched.
pub struct DurableFile {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: Option<File>,
}

impl DurableFile {
    pub fn create(path: &Path, mode: u32) -> io::Result<DurableFile> {
        let tmp = temp_path(path);
        let file = create_file(&tmp, mode)?;
        Ok(DurableFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(file),
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("an uncommitted file")
    }

    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("an uncommitted file");
        let synced = file.sync_all();
        drop(file);
        let renamed = synced.and_then(|()| std::fs::rename(&self.tmp, &self.path));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        renamed?;
        sync_parent(&self.path)
    }
}

impl Drop for DurableFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// `NAME.partial` beside `path`: a crash leaves at most this behind, never a torn `path`.
pub fn temp_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn create_file(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Makes the entries of a directory (new, renamed or removed files) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Syncs the directory that holds `path` (the current directory for a bare name).
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// Creates `dir` and any missing parents, syncing each parent whose entries changed.
pub fn create_dir_durably(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_durably(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => sync_parent(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/record.json");
        create_dir_durably(path.parent().unwrap()).unwrap();
        write_durably(&path, b"one", 0o600).unwrap();
        write_durably(&path, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(!temp_path(&path).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_failed_fill_keeps_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        write_durably(&path, b"old", 0o644).unwrap();
        let err = write_durably_with(&path, 0o644, &mut |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!temp_path(&path).exists());
    }
}
