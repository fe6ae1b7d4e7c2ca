//! The external diff viewer (`DRIFTDECK_EXTERNAL_DIFF`, like kubectl's
//! `KUBECTL_EXTERNAL_DIFF`): the two sides of a resource written to
//! `live/` and `desired/` in a temporary folder, then the viewer's command
//! line run by the shell with the live file and the desired file after it.

use std::path::Path;
use std::process::Command;

use super::msg::ExternalDiff;

/// The variable that names the viewer.
pub const VIEWER_VARIABLE: &str = "DRIFTDECK_EXTERNAL_DIFF";

/// The viewer from the environment, if one is set.
pub fn viewer_from_env() -> Option<String> {
    std::env::var(VIEWER_VARIABLE)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Writes the two files and runs the viewer on them, waiting for it. A
/// viewer that exits non-zero is not an error: `diff` does that when the
/// files differ.
pub fn run(diff: &ExternalDiff) -> Result<(), String> {
    let folder = tempfile::Builder::new()
        .prefix("driftdeck-diff-")
        .tempdir()
        .map_err(|e| format!("cannot make a folder for the diff viewer: {e}"))?;
    let live = write(folder.path(), "live", &diff.label, &diff.live)?;
    let desired = write(folder.path(), "desired", &diff.label, &diff.desired)?;
    // `sh -c 'VIEWER "$@"' sh LIVE DESIRED`: the viewer's own words are the
    // shell's to split, the file names are passed as they are.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{} \"$@\"", diff.viewer))
        .arg("sh")
        .arg(&live)
        .arg(&desired)
        .status()
        .map_err(|e| format!("cannot run the diff viewer \"{}\": {e}", diff.viewer))?;
    match status.code() {
        Some(127) => Err(format!(
            "the diff viewer \"{}\" was not found (exit 127)",
            diff.viewer
        )),
        _ => Ok(()),
    }
}

fn write(folder: &Path, side: &str, label: &str, text: &str) -> Result<String, String> {
    let dir = folder.join(side);
    let file = dir.join(format!("{label}.yaml"));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&file, text))
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(file.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_viewer_gets_the_live_file_then_the_desired_file() {
        let out = tempfile::tempdir().unwrap();
        let record = out.path().join("args");
        // A viewer that copies both files, in the order it gets them.
        let diff = ExternalDiff {
            viewer: format!("sh -c 'cat \"$1\" \"$2\" > {}' sh", record.display()),
            label: "ConfigMap_shop_settings".into(),
            live: "a: 1\n".into(),
            desired: "a: 2\n".into(),
        };
        run(&diff).unwrap();
        assert_eq!(std::fs::read_to_string(&record).unwrap(), "a: 1\na: 2\n");
    }

    #[test]
    fn a_missing_viewer_is_named() {
        let diff = ExternalDiff {
            viewer: "driftdeck-no-such-viewer".into(),
            label: "x".into(),
            live: String::new(),
            desired: String::new(),
        };
        assert!(run(&diff).unwrap_err().contains("driftdeck-no-such-viewer"));
    }
}
