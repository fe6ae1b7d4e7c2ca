//! Splits a YAML stream into its documents before parsing, so that a syntax
//! error in one document does not hide the problems of the others, each
//! document gets its own parser budget, and each keeps its index and line.
//!
//! YAML forbids `---` and `...` at the start of a line inside content, so a
//! line scan finds exactly the boundaries a parser would.

/// One document of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentText<'a> {
    pub text: &'a str,
    /// Byte offset of the stream where `text` starts.
    pub offset: usize,
    /// 1-based line of the stream where `text` starts.
    pub first_line: usize,
}

/// The documents of `stream` in order, at most `limit + 1` of them (so a
/// caller can tell the limit was passed without holding millions). Comments
/// and directives before the first `---` belong to the first document; an
/// explicit empty document (`---` and nothing else) is kept so that indexes
/// match the stream.
pub fn split_documents(stream: &str, limit: usize) -> Vec<DocumentText<'_>> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    // Whether the open document was started by `---` or has content.
    let mut open = false;
    let mut offset = 0;
    for (index, line) in stream.split_inclusive('\n').enumerate() {
        if documents.len() > limit {
            return documents;
        }
        let line_number = index + 1;
        if is_marker(line, "---") {
            if open {
                documents.push(DocumentText {
                    text: &stream[start..offset],
                    offset: start,
                    first_line: start_line,
                });
                start = offset;
                start_line = line_number;
            }
            open = true;
        } else if is_marker(line, "...") {
            if open {
                let end = offset + line.len();
                documents.push(DocumentText {
                    text: &stream[start..end],
                    offset: start,
                    first_line: start_line,
                });
                start = end;
                start_line = line_number + 1;
                open = false;
            }
        } else if !open && is_content(line) {
            open = true;
        }
        offset += line.len();
    }
    if open {
        documents.push(DocumentText {
            text: &stream[start..],
            offset: start,
            first_line: start_line,
        });
    }
    documents
}

/// `---` or `...` at the start of a line, alone or followed by a space.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Anything but blank lines, comments and directives.
fn is_content(line: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t']);
    !(trimmed.trim_end().is_empty() || trimmed.starts_with('#') || line.starts_with('%'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(stream: &str) -> Vec<(&str, usize)> {
        split_documents(stream, 100)
            .into_iter()
            .map(|d| (d.text, d.first_line))
            .collect()
    }

    #[test]
    fn splits_at_document_markers() {
        assert_eq!(
            texts("a: 1\n---\nb: 2\n--- # c\nc: 3"),
            vec![("a: 1\n", 1), ("---\nb: 2\n", 2), ("--- # c\nc: 3", 4)]
        );
    }

    #[test]
    fn leading_comments_and_directives_join_the_first_document() {
        assert_eq!(
            texts("# head\n%YAML 1.2\n---\na: 1\n"),
            vec![("# head\n%YAML 1.2\n---\na: 1\n", 1)]
        );
    }

    #[test]
    fn empty_documents_keep_their_place() {
        assert_eq!(
            texts("---\n---\na: 1\n"),
            vec![("---\n", 1), ("---\na: 1\n", 2)]
        );
    }

    #[test]
    fn document_end_markers_close_a_document() {
        assert_eq!(
            texts("a: 1\n...\nb: 2\n"),
            vec![("a: 1\n...\n", 1), ("b: 2\n", 3)]
        );
    }

    #[test]
    fn markers_need_a_separator_after_them() {
        assert_eq!(texts("a: |\n  x\n----\n"), vec![("a: |\n  x\n----\n", 1)]);
        assert_eq!(texts("---\r\na: 1\r\n"), vec![("---\r\na: 1\r\n", 1)]);
    }

    #[test]
    fn splitting_stops_past_the_limit() {
        assert_eq!(split_documents(&"---\n".repeat(1000), 3).len(), 4);
    }

    #[test]
    fn a_stream_of_comments_has_no_documents() {
        assert!(texts("# nothing\n\n").is_empty());
        assert!(texts("").is_empty());
    }
}
