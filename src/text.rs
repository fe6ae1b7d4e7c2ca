//! Text made to fit a column: the one way driftdeck shortens what it shows.
//!
//! Widths count characters (not bytes), so a cut never splits a character.

use std::borrow::Cow;

/// `text` cut to at most `width` characters, the last one `…` when
/// something was cut; `text` itself when it fits.
pub fn truncate(text: &str, width: usize) -> Cow<'_, str> {
    if text.chars().nth(width).is_none() {
        return Cow::Borrowed(text);
    }
    let Some(kept) = width.checked_sub(1) else {
        return Cow::Borrowed("");
    };
    // `nth(width)` exists, so the `kept`-th character does too.
    let end = text
        .char_indices()
        .nth(kept)
        .map_or(text.len(), |(at, _)| at);
    Cow::Owned(format!("{}…", text.get(..end).unwrap_or_default()))
}

/// `text` cut or padded with spaces to exactly `width` characters, for a
/// column of a table.
pub fn fit(text: &str, width: usize) -> String {
    format!("{:<width$}", truncate(text, width))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_cut_counts_characters_and_never_splits_one() {
        assert_eq!(truncate("Zoë Ødegård", 5), "Zoë …");
        assert_eq!(truncate("日本語のテキスト", 4), "日本語…");
        assert_eq!(truncate("a🦀🦀🦀", 3), "a🦀…");
        assert_eq!(truncate("a🦀🦀", 3), "a🦀🦀");
    }

    #[test]
    fn fit_pads_short_text_and_cuts_long_text_to_the_width() {
        assert_eq!(fit("KIND", 6), "KIND  ");
        assert_eq!(fit("Zoë", 4), "Zoë ");
        assert_eq!(fit("Deployment", 6), "Deplo…");
        assert_eq!(fit("x", 0), "");
    }
}
