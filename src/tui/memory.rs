//! What the TUI remembers between runs (the sort), in a small TOML file in
//! the data folder. A file that cannot be read or parsed is ignored: it
//! only holds preferences.

use std::path::{Path, PathBuf};

use super::order::SortMode;

/// The file's name in the data folder.
pub const FILE_NAME: &str = "tui-state.toml";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub sort: SortMode,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Stored {
    sort: Option<String>,
}

impl Memory {
    pub fn file_in(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE_NAME)
    }

    pub fn parse(text: &str) -> Memory {
        let stored: Stored = toml::from_str(text).unwrap_or_default();
        Memory {
            sort: stored
                .sort
                .as_deref()
                .and_then(SortMode::from_name)
                .unwrap_or_default(),
        }
    }

    pub fn to_text(self) -> String {
        let stored = Stored {
            sort: Some(self.sort.name().to_string()),
        };
        toml::to_string(&stored).unwrap_or_default()
    }

    /// The remembered choices, the defaults when there are none.
    pub fn load(file: &Path) -> Memory {
        std::fs::read_to_string(file)
            .map(|text| Memory::parse(&text))
            .unwrap_or_default()
    }

    /// Writes the file (and its folder); a failure is logged, not shown:
    /// the choice still holds for this run.
    pub fn save(self, file: &Path) {
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(file, self.to_text()));
        if let Err(err) = written {
            tracing::warn!("cannot keep the TUI's choices in {}: {err}", file.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sort_survives_a_save_and_a_load() {
        let dir = tempfile::tempdir().unwrap();
        let file = Memory::file_in(&dir.path().join("driftdeck"));
        assert_eq!(Memory::load(&file), Memory::default());
        let memory = Memory {
            sort: SortMode::Kind,
        };
        memory.save(&file);
        assert_eq!(Memory::load(&file), memory);
    }

    #[test]
    fn a_damaged_file_gives_the_defaults() {
        assert_eq!(Memory::parse("sort = 3\n"), Memory::default());
        assert_eq!(Memory::parse("sort = \"size\"\n"), Memory::default());
        assert_eq!(Memory::parse("sort = \"name\"\n").sort, SortMode::Name);
    }
}
