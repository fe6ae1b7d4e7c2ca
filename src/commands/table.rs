//! Plain text tables for the headless commands: columns padded to their
//! widest cell, the last one left as is.

use std::io::{self, Write};

/// Writes a header row and rows, columns separated by two spaces.
pub fn write_table<W: Write>(out: &mut W, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate() {
            if index + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[index].saturating_sub(cell.chars().count());
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
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
}
