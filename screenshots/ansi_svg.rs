//! A terminal capture with escape codes (`tmux capture-pane -p -e`) drawn
//! as an SVG picture: a grid of cells, each run of one style a `<text>`
//! with a background `<rect>` where it has one. Only what tmux writes is
//! read: SGR codes (bold, dim, italic, underline, reverse, 16, 256 and
//! 24-bit colours); anything else is skipped. Used by `examples/ansi_svg.rs`
//! (which `screenshots/regenerate` runs) and by a test on a capture.

use std::fmt::Write;

/// A cell's width and a line's height in pixels, for a 14 px monospace font.
const CELL_WIDTH: f64 = 8.4;
const LINE_HEIGHT: f64 = 17.0;
const PADDING: f64 = 10.0;

/// The terminal's own colours, behind what the application sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backdrop {
    Dark,
    Light,
}

impl Backdrop {
    fn colours(self) -> (Rgb, Rgb) {
        match self {
            Backdrop::Dark => ((0xd4, 0xd4, 0xd4), (0x1e, 0x1e, 0x1e)),
            Backdrop::Light => ((0x24, 0x29, 0x2f), (0xff, 0xff, 0xff)),
        }
    }
}

type Rgb = (u8, u8, u8);

/// The 16 colours of xterm.
const BASIC: [Rgb; 16] = [
    (0x00, 0x00, 0x00),
    (0xcd, 0x31, 0x31),
    (0x0d, 0xbc, 0x79),
    (0xe5, 0xe5, 0x10),
    (0x24, 0x72, 0xc8),
    (0xbc, 0x3f, 0xbc),
    (0x11, 0xa8, 0xcd),
    (0xe5, 0xe5, 0xe5),
    (0x66, 0x66, 0x66),
    (0xf1, 0x4c, 0x4c),
    (0x23, 0xd1, 0x8b),
    (0xf5, 0xf5, 0x43),
    (0x3b, 0x8e, 0xea),
    (0xd6, 0x70, 0xd6),
    (0x29, 0xb8, 0xdb),
    (0xff, 0xff, 0xff),
];

/// A colour of the 256-colour palette.
fn indexed(index: u16) -> Rgb {
    let index = usize::from(index.min(255));
    if index < 16 {
        return BASIC[index];
    }
    if index >= 232 {
        let level = u8::try_from(8 + (index - 232) * 10).unwrap_or(u8::MAX);
        return (level, level, level);
    }
    let cube = index - 16;
    let level = |step: usize| -> u8 {
        if step == 0 {
            0
        } else {
            u8::try_from(55 + step * 40).unwrap_or(u8::MAX)
        }
    };
    (level(cube / 36), level((cube / 6) % 6), level(cube % 6))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    fg: Option<Rgb>,
    bg: Option<Rgb>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    reverse: bool,
}

impl Style {
    /// Applies the parameters of one SGR sequence.
    fn apply(&mut self, params: &str) {
        let numbers: Vec<u16> = params
            .split([';', ':'])
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let mut i = 0;
        while i < numbers.len() {
            let n = numbers[i];
            match n {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                7 => self.reverse = true,
                22 => (self.bold, self.dim) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                27 => self.reverse = false,
                30..=37 => self.fg = Some(BASIC[usize::from(n - 30)]),
                39 => self.fg = None,
                40..=47 => self.bg = Some(BASIC[usize::from(n - 40)]),
                49 => self.bg = None,
                90..=97 => self.fg = Some(BASIC[usize::from(n - 90 + 8)]),
                100..=107 => self.bg = Some(BASIC[usize::from(n - 100 + 8)]),
                38 | 48 => {
                    let colour = match numbers.get(i + 1) {
                        Some(5) => {
                            let c = numbers.get(i + 2).map(|&c| indexed(c));
                            i += 2;
                            c
                        }
                        Some(2) => {
                            let part = |k: usize| {
                                numbers
                                    .get(i + k)
                                    .map_or(0, |&v| u8::try_from(v.min(255)).unwrap_or(0))
                            };
                            let c = Some((part(2), part(3), part(4)));
                            i += 4;
                            c
                        }
                        _ => None,
                    };
                    if n == 38 {
                        self.fg = colour;
                    } else {
                        self.bg = colour;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// The colours the cell shows, reverse video resolved.
    fn shown(&self, backdrop: Backdrop) -> (Rgb, Option<Rgb>) {
        let (default_fg, default_bg) = backdrop.colours();
        let fg = self.fg.unwrap_or(default_fg);
        if self.reverse {
            (self.bg.unwrap_or(default_bg), Some(fg))
        } else {
            (fg, self.bg)
        }
    }
}

/// One run of cells of one style on a line.
struct Run {
    column: usize,
    width: usize,
    text: String,
    style: Style,
}

/// The runs of one line of the capture.
fn runs_of(line: &str, width_of: &dyn Fn(char) -> usize) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut style = Style::default();
    let mut column = 0;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                let mut params = String::new();
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() {
                        if p == 'm' {
                            style.apply(&params);
                        }
                        break;
                    }
                    params.push(p);
                }
            }
            continue;
        }
        let width = width_of(c);
        if width == 0 && c.is_control() {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.style == style => {
                run.text.push(c);
                run.width += width;
            }
            _ => runs.push(Run {
                column,
                width,
                text: c.to_string(),
                style,
            }),
        }
        column += width;
    }
    runs
}

fn hex((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The capture as an SVG of `columns` x `rows` cells; `width_of` gives the
/// cells a character takes.
pub fn to_svg(
    capture: &str,
    columns: usize,
    rows: usize,
    backdrop: Backdrop,
    width_of: &dyn Fn(char) -> usize,
) -> String {
    let (_, default_bg) = backdrop.colours();
    let px = |cells: usize| -> f64 { cells as f64 * CELL_WIDTH };
    let width = px(columns) + 2.0 * PADDING;
    let height = rows as f64 * LINE_HEIGHT + 2.0 * PADDING;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.1} {height:.1}\">"
    );
    let _ = writeln!(
        svg,
        "<style>text{{font-family:'DejaVu Sans Mono','Menlo','Consolas',monospace;font-size:14px;white-space:pre}}</style>"
    );
    let _ = writeln!(
        svg,
        "<rect width=\"100%\" height=\"100%\" rx=\"6\" fill=\"{}\"/>",
        hex(default_bg)
    );
    for (row, line) in capture.lines().take(rows).enumerate() {
        let top = PADDING + row as f64 * LINE_HEIGHT;
        let baseline = top + LINE_HEIGHT * 0.78;
        for run in runs_of(line, width_of) {
            let (fg, bg) = run.style.shown(backdrop);
            let x = PADDING + px(run.column);
            if let Some(bg) = bg {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{LINE_HEIGHT}\" fill=\"{}\"/>",
                    px(run.width),
                    hex(bg)
                );
            }
            if run.text.trim().is_empty() {
                continue;
            }
            let mut attributes = format!("fill=\"{}\"", hex(fg));
            if run.style.bold {
                attributes.push_str(" font-weight=\"bold\"");
            }
            if run.style.dim {
                attributes.push_str(" opacity=\"0.6\"");
            }
            if run.style.italic {
                attributes.push_str(" font-style=\"italic\"");
            }
            if run.style.underline {
                attributes.push_str(" text-decoration=\"underline\"");
            }
            // The run is stretched to its cells, so a font whose glyphs are
            // not exactly CELL_WIDTH wide still lines the columns up.
            let _ = writeln!(
                svg,
                "<text x=\"{x:.1}\" y=\"{baseline:.1}\" textLength=\"{:.1}\" lengthAdjust=\"spacingAndGlyphs\" {attributes}>{}</text>",
                px(run.width),
                escape(&run.text)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}
