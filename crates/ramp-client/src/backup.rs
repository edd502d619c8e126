//! The backup file: the last good snapshot, as the server's snapshot JSON, so an application
//! that starts while the server is unreachable still answers as it did before.
//!
//! A write never leaves a torn file behind: the snapshot goes to `PATH.tmp`, which is synced to
//! disk and then renamed over `PATH` (rename is atomic on POSIX file systems), and the directory
//! is synced so the rename itself survives a power cut. A reader sees the old file or the new
//! one, never half of either. Each client needs its own path: two processes sharing one would
//! share `PATH.tmp` too.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ramp_core::Snapshot;

use crate::ClientError;

/// Where a write goes before it is renamed into place.
pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `snapshot` to `path` atomically (write, fsync, rename, fsync the directory).
pub(crate) fn save(path: &Path, snapshot: &Snapshot) -> Result<(), ClientError> {
    let io_error = |source| ClientError::Backup {
        path: path.to_owned(),
        source,
    };
    let temporary = temporary_path(path);
    let result = (|| {
        let file = File::create(&temporary)?;
        let mut writer = BufWriter::new(file);
        serde_json::to_writer(&mut writer, snapshot)?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        fs::rename(&temporary, path)?;
        sync_directory(path);
        Ok::<(), std::io::Error>(())
    })();
    if result.is_err() {
        // Leave nothing half-written behind; the old backup, if any, is untouched.
        let _ = fs::remove_file(&temporary);
    }
    result.map_err(io_error)
}

/// Reads the snapshot saved at `path`.
pub(crate) fn load(path: &Path) -> Result<Snapshot, ClientError> {
    let bytes = fs::read(path).map_err(|source| ClientError::Backup {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ClientError::BackupFormat {
        path: path.to_owned(),
        source,
    })
}

/// Makes the rename durable. Best effort: some systems (Windows) cannot open a directory, and
/// the file's own contents are already synced.
fn sync_directory(path: &Path) {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(directory) = File::open(directory) {
        let _ = directory.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_snapshot_loads_back_and_leaves_no_temporary_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("ramp.json");
        let snapshot = Snapshot {
            version: 7,
            ..Snapshot::default()
        };
        save(&path, &snapshot).unwrap();
        save(&path, &snapshot).unwrap();
        assert_eq!(load(&path).unwrap(), snapshot);
        assert!(!temporary_path(&path).exists());
    }

    #[test]
    fn an_unwritable_path_is_an_error_not_a_panic() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("missing-directory").join("ramp.json");
        assert!(matches!(
            save(&path, &Snapshot::default()),
            Err(ClientError::Backup { .. })
        ));
        assert!(matches!(load(&path), Err(ClientError::Backup { .. })));
    }

    #[test]
    fn a_file_that_is_not_a_snapshot_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("ramp.json");
        fs::write(&path, b"{\"not\": \"a snapshot\"}").unwrap();
        assert!(matches!(load(&path), Err(ClientError::BackupFormat { .. })));
    }
}
