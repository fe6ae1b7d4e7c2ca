//! Text made to fit a column and safe to print: the one way driftdeck
//! measures, shortens and escapes what it shows.
//!
//! Widths are terminal cells, as `unicode-width` (ratatui's measure) counts
//! them: a CJK character or an emoji takes two, so columns stay aligned; a
//! cut never splits a character.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `text` with its control characters escaped (`\u{1b}`, `\n`, `\t`): text
/// from a repository, a cluster or a config printed on a terminal can then
/// neither send it escape sequences nor span lines.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// The cells `text` takes on a terminal.
pub fn width(text: &str) -> usize {
    text.width()
}

/// The cells one character takes (0 for control characters).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// `text` cut to at most `width` cells, the last one `…` when something
/// was cut; `text` itself when it fits.
pub fn truncate(text: &str, width: usize) -> Cow<'_, str> {
    if text.width() <= width {
        return Cow::Borrowed(text);
    }
    let Some(room) = width.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        let cells = char_width(c);
        if used + cells > room {
            break;
        }
        used += cells;
        end = at + c.len_utf8();
    }
    Cow::Owned(format!("{}…", text.get(..end).unwrap_or_default()))
}

/// `text` cut or padded with spaces to exactly `width` cells (one less when
/// a wide character would straddle the edge), for a column of a table.
pub fn fit(text: &str, width: usize) -> String {
    pad(&truncate(text, width), width)
}

/// `text` followed by spaces up to `width` cells.
pub fn pad(text: &str, width: usize) -> String {
    let mut padded = text.to_string();
    padded.extend(std::iter::repeat_n(' ', width.saturating_sub(text.width())));
    padded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_carries_no_control_character() {
        let hostile = "fix\u{1b}]0;owned\u{7}\u{1b}[2J\nsecond line\u{9b}31m";
        let shown = printable(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert_eq!(
            shown,
            "fix\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\nsecond line\\u{9b}31m"
        );
        assert!(matches!(printable("Zoë 日本"), Cow::Borrowed("Zoë 日本")));
    }

    #[test]
    fn text_that_fits_is_kept_whole() {
        assert_eq!(truncate("Ada", 20), "Ada");
        assert_eq!(truncate("Ada", 3), "Ada");
        assert!(matches!(truncate("Ada", 3), Cow::Borrowed(_)));
        assert_eq!(truncate("", 0), "");
    }

    #[test]
    fn a_cut_ends_in_an_ellipsis_within_the_width() {
        assert_eq!(truncate("Bartholomew Fitzgerald-Smythe", 10), "Bartholom…");
        assert_eq!(truncate("Ada", 2), "A…");
        assert_eq!(truncate("Ada", 1), "…");
        assert_eq!(truncate("Ada", 0), "");
    }

    #[test]
    fn a_cut_counts_cells_and_never_splits_a_character() {
        assert_eq!(truncate("Zoë Ødegård", 5), "Zoë …");
        // Two cells each: three of them and the ellipsis take 7 of 8 cells.
        assert_eq!(truncate("日本語のテキスト", 8), "日本語…");
        assert_eq!(width(&truncate("日本語のテキスト", 8)), 7);
        assert_eq!(truncate("a🦀🦀🦀", 4), "a🦀…");
        assert_eq!(truncate("a🦀🦀", 5), "a🦀🦀");
    }

    #[test]
    fn fit_pads_short_text_and_cuts_long_text_to_the_width() {
        assert_eq!(fit("KIND", 6), "KIND  ");
        assert_eq!(fit("Zoë", 4), "Zoë ");
        assert_eq!(fit("Deployment", 6), "Deplo…");
        assert_eq!(fit("x", 0), "");
        assert_eq!(fit("山田太郎", 6), "山田… ");
        assert_eq!(width(&fit("山田太郎", 6)), 6);
    }
}
