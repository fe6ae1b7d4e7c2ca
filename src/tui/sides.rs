//! The two sides of a resource, live and desired, as its report holds them:
//! read back from the unified diff (whole objects for Missing and Extra,
//! the changed parts with three lines around them for OutOfSync). Lines the
//! report does not carry are a gap that says how many. Secrets come masked
//! already. Shared by the YAML view, the side-by-side diff and the external
//! viewer.

use similar::{Algorithm, ChangeTag};

/// One line of the diff, by the side it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffLine<'a> {
    /// Unchanged lines the report leaves out; their count when known.
    Gap(Option<usize>),
    Same(&'a str),
    Live(&'a str),
    Desired(&'a str),
}

/// The unified diff's lines without its headers, with a gap before each
/// hunk that does not follow the previous one.
pub fn parse(diff: &str) -> Vec<DiffLine<'_>> {
    let mut lines = Vec::new();
    // The next live line number the diff has not shown yet.
    let mut next_live = 1usize;
    for (index, line) in diff.lines().enumerate() {
        if index < 2 && (line.starts_with("--- ") || line.starts_with("+++ ")) {
            continue;
        }
        if let Some(header) = line.strip_prefix("@@ ") {
            let start = hunk_start(header);
            match start {
                Some(start) if start > next_live => {
                    lines.push(DiffLine::Gap(Some(start - next_live)));
                }
                Some(_) => {}
                None => lines.push(DiffLine::Gap(None)),
            }
            if let Some(start) = start {
                next_live = start;
            }
            continue;
        }
        let (marker, text) = line.split_at(line.len().min(1));
        let entry = match marker {
            "+" => DiffLine::Desired(text),
            "-" => DiffLine::Live(text),
            " " => DiffLine::Same(text),
            // "\ No newline at end of file" and the like.
            _ => continue,
        };
        if matches!(entry, DiffLine::Live(_) | DiffLine::Same(_)) {
            next_live += 1;
        }
        lines.push(entry);
    }
    lines
}

/// The first live line of a hunk, from `-a,b +c,d @@`; 0 lines start at a+1.
fn hunk_start(header: &str) -> Option<usize> {
    let old = header.split_whitespace().next()?.strip_prefix('-')?;
    let (start, count) = match old.split_once(',') {
        Some((start, count)) => (start.parse::<usize>().ok()?, count.parse::<usize>().ok()?),
        None => (old.parse::<usize>().ok()?, 1),
    };
    Some(if count == 0 { start + 1 } else { start })
}

/// One side as text, gaps as a comment line, for a file the external viewer reads.
pub fn side_text(lines: &[DiffLine<'_>], live: bool) -> String {
    let mut text = String::new();
    for line in lines {
        let shown = match (line, live) {
            (DiffLine::Same(t), _) | (DiffLine::Live(t), true) | (DiffLine::Desired(t), false) => {
                t.to_string()
            }
            (DiffLine::Gap(count), _) => gap_text(*count),
            _ => continue,
        };
        text.push_str(&shown);
        text.push('\n');
    }
    text
}

/// `# … 12 unchanged lines not shown`.
pub fn gap_text(count: Option<usize>) -> String {
    match count {
        Some(1) => "# … 1 unchanged line not shown".to_string(),
        Some(n) => format!("# … {n} unchanged lines not shown"),
        None => "# … unchanged lines not shown".to_string(),
    }
}

/// A row of two columns: the left and right text, `None` where a side has
/// no line there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairRow<'a> {
    Gap(Option<usize>),
    Pair {
        left: Option<&'a str>,
        right: Option<&'a str>,
    },
}

/// The lines in two columns, `left_live` saying which side goes left;
/// a run of removed lines pairs row by row with the added run after it.
pub fn pair<'a>(lines: &[DiffLine<'a>], left_live: bool) -> Vec<PairRow<'a>> {
    let mut rows = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        match lines[i] {
            DiffLine::Gap(count) => {
                rows.push(PairRow::Gap(count));
                i += 1;
            }
            DiffLine::Same(text) => {
                rows.push(PairRow::Pair {
                    left: Some(text),
                    right: Some(text),
                });
                i += 1;
            }
            DiffLine::Live(_) | DiffLine::Desired(_) => {
                let (mut live, mut desired) = (Vec::new(), Vec::new());
                while let Some(line) = lines.get(i) {
                    match line {
                        DiffLine::Live(t) => live.push(*t),
                        DiffLine::Desired(t) => desired.push(*t),
                        _ => break,
                    }
                    i += 1;
                }
                for row in 0..live.len().max(desired.len()) {
                    let (l, d) = (live.get(row).copied(), desired.get(row).copied());
                    let (left, right) = if left_live { (l, d) } else { (d, l) };
                    rows.push(PairRow::Pair { left, right });
                }
            }
        }
    }
    rows
}

/// A changed line cut into pieces, each marked whether it differs from
/// the other side's line: `similar`'s word diff.
pub fn word_changes<'a>(this: &'a str, other: &'a str, this_is_old: bool) -> Vec<(bool, &'a str)> {
    let (old, new) = if this_is_old {
        (this, other)
    } else {
        (other, this)
    };
    similar::utils::diff_words(Algorithm::Myers, old, new)
        .into_iter()
        .filter_map(|(tag, piece)| match (tag, this_is_old) {
            (ChangeTag::Equal, _) => Some((false, piece)),
            (ChangeTag::Delete, true) | (ChangeTag::Insert, false) => Some((true, piece)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "\
--- live/ConfigMap/shop/settings
+++ desired/ConfigMap/shop/settings
@@ -5,4 +5,4 @@
 d: 4
-e: 5
+e: 50
 f: 6
 g: 7
";

    #[test]
    fn sides_read_back_from_the_diff_with_the_gap_counted() {
        let lines = parse(DIFF);
        assert_eq!(lines[0], DiffLine::Gap(Some(4)));
        assert_eq!(
            side_text(&lines, true),
            "# … 4 unchanged lines not shown\nd: 4\ne: 5\nf: 6\ng: 7\n"
        );
        assert_eq!(
            side_text(&lines, false),
            "# … 4 unchanged lines not shown\nd: 4\ne: 50\nf: 6\ng: 7\n"
        );
    }

    #[test]
    fn a_whole_object_has_no_gap() {
        let diff = "--- live/x\n+++ desired/x\n@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n";
        let lines = parse(diff);
        assert_eq!(
            lines,
            [DiffLine::Desired("a: 1"), DiffLine::Desired("b: 2")]
        );
        assert_eq!(side_text(&lines, true), "");
    }

    #[test]
    fn changed_runs_pair_row_by_row() {
        let rows = pair(&parse(DIFF), false);
        assert_eq!(rows[0], PairRow::Gap(Some(4)));
        assert_eq!(
            rows[2],
            PairRow::Pair {
                left: Some("e: 50"),
                right: Some("e: 5")
            }
        );
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn word_changes_mark_only_what_differs() {
        let live = word_changes("image: nginx:1.25 # old", "image: nginx:1.27 # old", true);
        let marked: Vec<&str> = live.iter().filter(|(m, _)| *m).map(|(_, p)| *p).collect();
        assert_eq!(marked.concat().trim(), "nginx:1.25");
        let whole: String = live.iter().map(|(_, p)| *p).collect();
        assert_eq!(whole, "image: nginx:1.25 # old");
    }
}
