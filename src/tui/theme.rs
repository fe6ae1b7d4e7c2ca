//! Themes: TOML files of named styles. The built-in ones are embedded; a file
//! of the same name in the config folder's `themes/` overrides one. Colours are
//! brought down to what the terminal shows (true colour, 256, 16 or none).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The themes shipped inside the binary, by name.
pub const BUILT_IN: [(&str, &str); 5] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "solarized-dark",
        include_str!("../../themes/solarized-dark.toml"),
    ),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

macro_rules! theme_roles {
    ($($(#[doc = $doc:literal])* $role:ident,)*) => {
        /// How each part of the screen is drawn. A role a theme file leaves out
        /// is drawn in the terminal's own colours.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Theme {
            pub name: String,
            $($(#[doc = $doc])* pub $role: Style,)*
        }

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            $(#[serde(default)] $role: StyleSpec,)*
        }

        impl ThemeFile {
            fn into_theme(self, name: &str) -> Theme {
                Theme { name: name.to_string(), $($role: self.$role.to_style(),)* }
            }
        }

        impl Theme {
            fn map_styles(mut self, adapt: impl Fn(Style) -> Style) -> Theme {
                $(self.$role = adapt(self.$role);)*
                self
            }
        }
    };
}

theme_roles! {
    /// The whole screen; every other role is drawn over it.
    text,
    /// Hints, empty states, secondary words.
    muted,
    border,
    /// The border of the pane that has the focus.
    border_focused,
    title,
    /// The selected row of the focused pane.
    selected,
    /// The selected row of the other panes.
    selected_unfocused,
    status_bar,
    /// A key in the status bar and the help.
    key_hint,
    warning,
    error,
    synced,
    out_of_sync,
    /// Unknown status or health, and what is not known yet.
    unknown,
    /// In Git, not live (a resource status and a health).
    missing,
    /// Live, gone from Git: prunable.
    extra,
    healthy,
    progressing,
    degraded,
    suspended,
    diff_added,
    diff_removed,
    diff_header,
    /// The deployed commit in the log.
    deployed,
}

/// One style as a theme file writes it.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<ThemeColor>,
    bg: Option<ThemeColor>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reverse: bool,
}

impl StyleSpec {
    fn to_style(&self) -> Style {
        let mut style = Style::default();
        if let Some(ThemeColor(color)) = self.fg {
            style = style.fg(color);
        }
        if let Some(ThemeColor(color)) = self.bg {
            style = style.bg(color);
        }
        let flags = [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reverse, Modifier::REVERSED),
        ];
        for (on, modifier) in flags {
            if on {
                style = style.add_modifier(modifier);
            }
        }
        style
    }
}

/// A colour name (`"red"`, `"lightblue"`), `"#rrggbb"`, or a 256-colour index.
#[derive(Clone, Copy)]
struct ThemeColor(Color);

impl<'de> Deserialize<'de> for ThemeColor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ThemeColor;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a colour")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ThemeColor, E> {
                text.parse::<Color>().map(ThemeColor).map_err(|_| {
                    E::custom(format!(
                        "invalid colour \"{text}\" (a name such as \"red\", \"#rrggbb\", or 0 to 255)"
                    ))
                })
            }
            fn visit_i64<E: serde::de::Error>(self, index: i64) -> Result<ThemeColor, E> {
                u8::try_from(index)
                    .map(|i| ThemeColor(Color::Indexed(i)))
                    .map_err(|_| {
                        E::custom(format!(
                            "invalid colour {index}: a 256-colour index is 0 to 255"
                        ))
                    })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
    /// `NO_COLOR` is set: state is shown by symbols and bold/reverse only.
    NoColor,
}

impl ColorDepth {
    /// Decides from the values of `NO_COLOR`, `COLORTERM` and `TERM`.
    pub fn detect(
        no_color: Option<&str>,
        colorterm: Option<&str>,
        term: Option<&str>,
    ) -> ColorDepth {
        if no_color.is_some_and(|value| !value.is_empty()) {
            return ColorDepth::NoColor;
        }
        let colorterm = colorterm.unwrap_or_default().to_ascii_lowercase();
        let term = term.unwrap_or_default().to_ascii_lowercase();
        if term == "dumb" {
            ColorDepth::NoColor
        } else if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
            ColorDepth::TrueColor
        } else if term.contains("256color") {
            ColorDepth::Ansi256
        } else {
            ColorDepth::Ansi16
        }
    }

    /// Decides from this process's environment.
    pub fn from_env() -> ColorDepth {
        let var = |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        ColorDepth::detect(
            var("NO_COLOR").as_deref(),
            var("COLORTERM").as_deref(),
            var("TERM").as_deref(),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{}: cannot read the theme file: {source}", file.display())]
    Read { file: PathBuf, source: io::Error },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("no theme \"{name}\": it is not built in ({}) and {} does not exist", built_in_names(), file.display())]
    NotFound { name: String, file: PathBuf },
}

fn built_in_names() -> String {
    BUILT_IN.map(|(name, _)| name).join(", ")
}

impl Theme {
    /// Reads a theme file's text; `file` is only used in messages.
    pub fn parse(name: &str, file: &Path, text: &str) -> Result<Theme, ThemeError> {
        let raw: ThemeFile = toml::from_str(text).map_err(|err| {
            let offset = err.span().map_or(0, |span| span.start);
            let (line, column) = crate::config::line_column(text, offset);
            ThemeError::Invalid {
                file: file.to_path_buf(),
                line,
                column,
                message: err.message().trim().replace('`', "\""),
            }
        })?;
        Ok(raw.into_theme(name))
    }

    /// A built-in theme.
    pub fn built_in(name: &str) -> Option<Result<Theme, ThemeError>> {
        BUILT_IN
            .iter()
            .find(|(built_in, _)| *built_in == name)
            .map(|(name, text)| {
                Theme::parse(
                    name,
                    &Path::new("themes").join(format!("{name}.toml")),
                    text,
                )
            })
    }

    /// The theme `name`: the file `<name>.toml` in `themes_dir` if there is
    /// one, else the built-in.
    pub fn find(name: &str, themes_dir: &Path) -> Result<Theme, ThemeError> {
        let file = themes_dir.join(format!("{name}.toml"));
        // A name is a file stem, never a path out of the folder.
        let plain_name = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']);
        if plain_name {
            match std::fs::read_to_string(&file) {
                Ok(text) => return Theme::parse(name, &file, &text),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(ThemeError::Read { file, source }),
            }
        }
        Theme::built_in(name).unwrap_or(Err(ThemeError::NotFound {
            name: name.to_string(),
            file,
        }))
    }

    /// The theme to draw with: the one asked for (`default` when none), `mono`
    /// without colours; a theme that cannot be used gives the built-in one and
    /// a warning for the status bar.
    pub fn load(
        requested: Option<&str>,
        themes_dir: &Path,
        depth: ColorDepth,
    ) -> (Theme, Option<String>) {
        let fallback = if depth == ColorDepth::NoColor {
            "mono"
        } else {
            "default"
        };
        let name = if depth == ColorDepth::NoColor {
            "mono"
        } else {
            requested.unwrap_or("default")
        };
        let (theme, warning) = match Theme::find(name, themes_dir) {
            Ok(theme) => (theme, None),
            Err(err) => {
                let theme = Theme::built_in(fallback)
                    .and_then(Result::ok)
                    .unwrap_or_else(|| Theme {
                        name: fallback.to_string(),
                        ..Theme::default()
                    });
                (
                    theme,
                    Some(format!("{err}; using the built-in {fallback} theme")),
                )
            }
        };
        (theme.for_depth(depth), warning)
    }

    /// The same theme with every colour one the terminal can show.
    pub fn for_depth(self, depth: ColorDepth) -> Theme {
        self.map_styles(|style| Style {
            fg: style.fg.and_then(|c| adapt_color(c, depth)),
            bg: style.bg.and_then(|c| adapt_color(c, depth)),
            underline_color: style.underline_color.and_then(|c| adapt_color(c, depth)),
            ..style
        })
    }
}

/// The 16 ANSI colours with xterm's default values, to find the nearest.
const ANSI_16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The levels of each channel in the 6x6x6 cube of the 256-colour palette.
const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn adapt_color(color: Color, depth: ColorDepth) -> Option<Color> {
    match (depth, color) {
        (ColorDepth::NoColor, _) => None,
        (ColorDepth::TrueColor, color) => Some(color),
        (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_256((r, g, b)))),
        (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_16((r, g, b))),
        (ColorDepth::Ansi16, Color::Indexed(index)) => Some(nearest_16(rgb_of_index(index))),
        (_, color) => Some(color),
    }
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).unsigned_abs().pow(2);
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

fn nearest_16(rgb: (u8, u8, u8)) -> Color {
    ANSI_16
        .iter()
        .min_by_key(|(_, value)| distance(rgb, *value))
        .map_or(Color::Reset, |(color, _)| *color)
}

/// The nearest of the cube and the grey ramp (16 to 255); the first 16 are
/// left out because terminals redefine them.
fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    let level = |channel: u8| {
        (0..6u8)
            .min_by_key(|&i| distance((CUBE_LEVELS[usize::from(i)], 0, 0), (channel, 0, 0)))
            .unwrap_or(0)
    };
    let cube = 16 + 36 * level(rgb.0) + 6 * level(rgb.1) + level(rgb.2);
    let average = (u16::from(rgb.0) + u16::from(rgb.1) + u16::from(rgb.2)) / 3;
    let grey_step = u8::try_from((average.saturating_sub(3) / 10).min(23)).unwrap_or(23);
    let grey = 232 + grey_step;
    if distance(rgb, rgb_of_index(grey)) < distance(rgb, rgb_of_index(cube)) {
        grey
    } else {
        cube
    }
}

fn rgb_of_index(index: u8) -> (u8, u8, u8) {
    match index {
        0..=15 => ANSI_16[usize::from(index)].1,
        16..=231 => {
            let i = index - 16;
            let level = |n: u8| CUBE_LEVELS[usize::from(n)];
            (level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        232..=255 => {
            let value = 8 + 10 * (index - 232);
            (value, value, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses_and_the_coloured_ones_set_every_role() {
        for (name, _) in BUILT_IN {
            let theme = Theme::built_in(name).unwrap().unwrap();
            assert_eq!(theme.name, name);
            if name != "mono" {
                theme.map_styles(|style| {
                    assert_ne!(style, Style::default(), "{name} leaves a role unset");
                    style
                });
            }
        }
    }

    #[test]
    fn mono_has_no_colour_and_marks_selection_by_reverse() {
        let mono = Theme::built_in("mono").unwrap().unwrap();
        let colours = mono.clone().map_styles(|s| Style {
            fg: None,
            bg: None,
            ..s
        });
        assert_eq!(colours, mono);
        assert!(mono.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn bad_theme_names_file_line_and_column() {
        let err = Theme::parse(
            "mine",
            Path::new("themes/mine.toml"),
            "muted = {}\n\ntext = { fg = \"#fff\" }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("themes/mine.toml:3:15: invalid colour \"#fff\""),
            "{err}"
        );
        let err = Theme::parse(
            "mine",
            Path::new("mine.toml"),
            "text = {}\nsinced = { bold = true }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("mine.toml:2:1: unknown field \"sinced\""),
            "{err}"
        );
        let err = Theme::parse("mine", Path::new("mine.toml"), "text = { fg = 300 }\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mine.toml:1:15: invalid colour 300"),
            "{err}"
        );
    }

    #[test]
    fn colours_by_name_hex_and_index() {
        let theme = Theme::parse(
            "t",
            Path::new("t.toml"),
            "text = { fg = \"lightblue\", bg = \"#102030\" }\nmuted = { fg = 244, bold = true }\n",
        )
        .unwrap();
        assert_eq!(theme.text.fg, Some(Color::LightBlue));
        assert_eq!(theme.text.bg, Some(Color::Rgb(16, 32, 48)));
        assert_eq!(theme.muted.fg, Some(Color::Indexed(244)));
        assert!(theme.muted.add_modifier.contains(Modifier::BOLD));
        assert_eq!(theme.synced, Style::default());
    }

    #[test]
    fn a_file_in_the_themes_folder_overrides_the_built_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("light.toml"),
            "synced = { fg = \"magenta\" }\n",
        )
        .unwrap();
        let (theme, warning) = Theme::load(Some("light"), dir.path(), ColorDepth::TrueColor);
        assert_eq!(warning, None);
        assert_eq!(theme.synced.fg, Some(Color::Magenta));
        let (theme, _) = Theme::load(Some("default"), dir.path(), ColorDepth::TrueColor);
        assert_eq!(theme, Theme::built_in("default").unwrap().unwrap());
    }

    #[test]
    fn a_bad_theme_file_warns_with_file_and_line_and_gives_the_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "text = {}\nsynced = { fg = \"bleu\" }\n",
        )
        .unwrap();
        let (theme, warning) = Theme::load(Some("mine"), dir.path(), ColorDepth::TrueColor);
        let warning = warning.unwrap();
        assert!(
            warning.contains("mine.toml:2:17: invalid colour \"bleu\""),
            "{warning}"
        );
        assert!(
            warning.ends_with("; using the built-in default theme"),
            "{warning}"
        );
        assert_eq!(theme.name, "default");
    }

    #[test]
    fn an_unknown_theme_name_warns_and_lists_the_built_ins() {
        let dir = tempfile::tempdir().unwrap();
        let (theme, warning) = Theme::load(Some("nope"), dir.path(), ColorDepth::TrueColor);
        let warning = warning.unwrap();
        assert!(
            warning.starts_with("no theme \"nope\": it is not built in (default, light,"),
            "{warning}"
        );
        assert!(warning.contains("nope.toml does not exist"), "{warning}");
        assert_eq!(theme.name, "default");
        let (_, warning) = Theme::load(Some("../etc/passwd"), dir.path(), ColorDepth::TrueColor);
        assert!(warning.unwrap().starts_with("no theme \"../etc/passwd\""));
    }

    #[test]
    fn no_color_gives_mono_without_any_colour_even_from_a_user_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mono.toml"),
            "selected = { fg = \"red\", reverse = true }\n",
        )
        .unwrap();
        let (theme, warning) = Theme::load(Some("light"), dir.path(), ColorDepth::NoColor);
        assert_eq!(warning, None);
        assert_eq!(theme.name, "mono");
        assert_eq!(theme.selected.fg, None);
        assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn detects_colour_depth_from_the_environment_values() {
        use ColorDepth::*;
        let cases = [
            (
                (Some("1"), Some("truecolor"), Some("xterm-256color")),
                NoColor,
            ),
            (
                (Some(""), Some("truecolor"), Some("xterm-256color")),
                TrueColor,
            ),
            ((None, Some("24bit"), Some("xterm")), TrueColor),
            ((None, None, Some("xterm-direct")), TrueColor),
            ((None, None, Some("tmux-256color")), Ansi256),
            ((None, Some(""), Some("xterm-256color")), Ansi256),
            ((None, None, Some("xterm")), Ansi16),
            ((None, None, Some("linux")), Ansi16),
            ((None, None, None), Ansi16),
            ((None, Some("truecolor"), Some("dumb")), NoColor),
        ];
        for ((no_color, colorterm, term), expected) in cases {
            assert_eq!(
                ColorDepth::detect(no_color, colorterm, term),
                expected,
                "{no_color:?} {colorterm:?} {term:?}"
            );
        }
    }

    #[test]
    fn true_colour_falls_back_to_the_nearest_of_256_and_16() {
        assert_eq!(
            adapt_color(Color::Rgb(255, 0, 0), ColorDepth::Ansi256),
            Some(Color::Indexed(196))
        );
        assert_eq!(
            adapt_color(Color::Rgb(128, 128, 128), ColorDepth::Ansi256),
            Some(Color::Indexed(244))
        );
        assert_eq!(
            adapt_color(Color::Rgb(0, 95, 135), ColorDepth::Ansi256),
            Some(Color::Indexed(24))
        );
        assert_eq!(
            adapt_color(Color::Rgb(250, 10, 10), ColorDepth::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(
            adapt_color(Color::Rgb(20, 20, 30), ColorDepth::Ansi16),
            Some(Color::Black)
        );
        assert_eq!(
            adapt_color(Color::Indexed(196), ColorDepth::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(
            adapt_color(Color::Indexed(2), ColorDepth::Ansi16),
            Some(Color::Green)
        );
        assert_eq!(
            adapt_color(Color::Green, ColorDepth::Ansi16),
            Some(Color::Green)
        );
        assert_eq!(
            adapt_color(Color::Rgb(1, 2, 3), ColorDepth::TrueColor),
            Some(Color::Rgb(1, 2, 3))
        );
        assert_eq!(adapt_color(Color::Green, ColorDepth::NoColor), None);
    }

    #[test]
    fn a_theme_brought_down_to_16_colours_uses_only_named_colours() {
        for (name, _) in BUILT_IN {
            let theme = Theme::built_in(name)
                .unwrap()
                .unwrap()
                .for_depth(ColorDepth::Ansi16);
            theme.map_styles(|style| {
                for color in [style.fg, style.bg].into_iter().flatten() {
                    assert!(
                        !matches!(color, Color::Rgb(..) | Color::Indexed(_)),
                        "{name}: {color:?}"
                    );
                }
                style
            });
        }
    }

    #[test]
    fn the_grey_ramp_and_cube_round_trip() {
        for index in 16..=255u8 {
            assert_eq!(nearest_256(rgb_of_index(index)), index, "{index}");
        }
    }
}
