//! Writing files all at once: a temporary file beside the target, renamed into
//! place, so an interrupted run never leaves a partial file behind.

use std::io::Write;
use std::path::Path;

/// Writes `content` to `path` atomically; with `replace` false, an existing file is an error.
pub fn write_atomically(path: &Path, content: &str, replace: bool) -> std::io::Result<()> {
    if !replace && path.exists() {
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the file already exists"));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?.to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        if !replace && path.exists() {
            return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the file already exists"));
        }
        std::fs::rename(&temporary, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_refuses_to_replace_unless_asked() {
        let dir = std::env::temp_dir().join(format!("pgadvise-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.json");
        write_atomically(&path, "one", false).unwrap();
        assert!(write_atomically(&path, "two", false).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
        write_atomically(&path, "three", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
