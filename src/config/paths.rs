//! Where driftdeck keeps its files, following each platform's conventions
//! (XDG on Linux) through `directories`.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

/// Every file and folder driftdeck reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    /// True when the user named the config file (`--config`, `DRIFTDECK_CONFIG`):
    /// then it must exist.
    pub config_given: bool,
    /// Theme files that add to or override the built-in themes.
    pub themes_dir: PathBuf,
    pub data_dir: PathBuf,
    /// Bare clones of remote repositories live here.
    pub cache_dir: PathBuf,
    pub log_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("cannot find the home folder to place driftdeck's files in (is $HOME set?)")]
    NoHome,
}

/// Log files are named `driftdeck.<UTC date>.log` and rotated daily.
pub const LOG_PREFIX: &str = "driftdeck";
pub const LOG_SUFFIX: &str = "log";

impl Paths {
    /// Resolves the paths; `config_override` is `--config` or `DRIFTDECK_CONFIG`.
    pub fn resolve(config_override: Option<&Path>) -> Result<Paths, PathError> {
        let dirs = ProjectDirs::from("dev", "driftdeck", "driftdeck").ok_or(PathError::NoHome)?;
        let (config_file, config_given) = match config_override {
            Some(file) => (file.to_path_buf(), true),
            None => (dirs.config_dir().join("config.toml"), false),
        };
        // Themes sit beside the config file in use, so a config folder moves as one.
        let themes_dir = config_file
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("themes");
        let log_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.cache_dir())
            .to_path_buf();
        Ok(Paths {
            config_file,
            config_given,
            themes_dir,
            data_dir: dirs.data_dir().to_path_buf(),
            cache_dir: dirs.cache_dir().to_path_buf(),
            log_dir,
        })
    }

    /// Today's log file (the appender starts a new one each UTC day).
    pub fn log_file(&self) -> PathBuf {
        let today = jiff::Timestamp::now().strftime("%Y-%m-%d");
        self.log_dir
            .join(format!("{LOG_PREFIX}.{today}.{LOG_SUFFIX}"))
    }
}
