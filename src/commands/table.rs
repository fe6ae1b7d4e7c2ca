//! Plain text tables for the headless commands: columns padded to their
//! widest cell, the last one left as is.

use std::io::{self, Write};

use crate::text;

/// Writes a header row and rows, columns separated by two spaces.
pub fn write_table<W: Write>(out: &mut W, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| text::width(h)).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(text::width(cell));
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate() {
            if index + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&text::pad(cell, widths[index] + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_the_last_is_not_padded() {
        let mut out = Vec::new();
        let rows = vec![
            vec![
                "Deployment".to_string(),
                "Healthy".to_string(),
                String::new(),
            ],
            vec![
                "Pod".to_string(),
                "Degraded".to_string(),
                "back-off".to_string(),
            ],
        ];
        write_table(&mut out, &["KIND", "HEALTH", "MESSAGE"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "KIND        HEALTH    MESSAGE\nDeployment  Healthy\nPod         Degraded  back-off\n"
        );
    }

    #[test]
    fn wide_characters_take_two_cells_in_a_column() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["山田".to_string(), "x".to_string()],
            vec!["Ada".to_string(), "y".to_string()],
        ];
        write_table(&mut out, &["WHO", "WHAT"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "WHO   WHAT\n山田  x\nAda   y\n"
        );
    }
}
