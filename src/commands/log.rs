//! `driftdeck log APP`: the app's commit log, newest first, printed batch by
//! batch as the walk goes. A remote is brought up to date first (refs only,
//! and a fetch if the branch moved).

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::{Arc, mpsc};

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, LogArgs, OutputFormat};
use crate::source::{
    HistoryQuery, LogEntry, NetworkLimits, SourceError, update_source, walk_history,
};
use crate::text::{fit, printable};

pub fn run(global: &GlobalArgs, args: &LogArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    let app = super::configured_app(&config, &args.app)?;
    let in_app = |source: SourceError| CommandError::Source {
        app: app.name.clone(),
        source: Box::new(source),
    };
    let source = app.source.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let update = runtime
        .block_on(update_source(
            &source,
            &paths.cache_dir,
            std::slice::from_ref(&app.branch),
            &Arc::default(),
            NetworkLimits::default(),
        ))
        .map_err(in_app)?;
    let Some(head) = update.heads.first() else {
        return Err(in_app(SourceError::BranchNotFound {
            repo: source.to_string(),
            branch: app.branch.clone(),
        }));
    };
    let query = HistoryQuery {
        rev: head.commit.to_string(),
        path: args.path_only.then(|| app.path.clone()),
        limit: args.limit,
        signatures: true,
    };
    // The entries are printed on a thread of their own while the walk
    // reads on: JSON of 100,000 commits costs a sixth of the walk.
    let (to_printer, batches) = mpsc::sync_channel::<Printing>(4);
    let format = args.output;
    let (walked, printed) = std::thread::scope(|scope| {
        let printer = scope.spawn(move || print_all(format, batches));
        let walked = walk_history(&source.git_dir(&paths.cache_dir), &query, |batch| {
            // Refused when the printer stopped at a write error.
            match to_printer.send(Printing::Batch(batch)) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            }
        });
        if walked.is_ok() {
            let _ = to_printer.send(Printing::End);
        }
        drop(to_printer);
        let printed = printer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the printer stopped")));
        (walked, printed)
    });
    walked.map_err(in_app)?;
    match printed {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `driftdeck log … | head` closes the pipe early; that is not an error.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(err) => Err(err.into()),
    }
}

/// What the walk hands the printer.
enum Printing {
    Batch(Vec<LogEntry>),
    /// The walk ended well: close the output (a JSON array's `]`).
    End,
}

/// Prints batches as they come until the walk ends; a walk that fails
/// leaves the output as far as it got, and says so on stderr.
fn print_all(format: OutputFormat, batches: mpsc::Receiver<Printing>) -> io::Result<()> {
    // Stdout alone writes at every line end: one write per entry.
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut printer = Printer::new(format);
    for message in batches {
        match message {
            Printing::Batch(batch) => printer.print(&mut out, &batch)?,
            Printing::End => return printer.finish(&mut out),
        }
    }
    out.flush()
}

/// Writes entries as they come: table rows, or the elements of one JSON array.
struct Printer {
    format: OutputFormat,
    printed: usize,
    time_zone: jiff::tz::TimeZone,
}

impl Printer {
    fn new(format: OutputFormat) -> Printer {
        Printer {
            format,
            printed: 0,
            time_zone: jiff::tz::TimeZone::system(),
        }
    }

    fn print(&mut self, out: &mut impl Write, batch: &[LogEntry]) -> io::Result<()> {
        for entry in batch {
            match self.format {
                OutputFormat::Table => {
                    let when = entry
                        .time
                        .to_zoned(self.time_zone.clone())
                        .strftime("%Y-%m-%d %H:%M");
                    writeln!(
                        out,
                        "{}  {when}  {:<8}  {}  {}",
                        entry.short_id,
                        entry.signature.label(),
                        fit(&printable(&entry.author), 20),
                        printable(&entry.subject)
                    )?;
                }
                OutputFormat::Json => {
                    out.write_all(if self.printed == 0 {
                        b"[\n  "
                    } else {
                        b",\n  "
                    })?;
                    serde_json::to_writer(&mut *out, entry).map_err(io::Error::from)?;
                }
            }
            self.printed += 1;
        }
        out.flush()
    }

    fn finish(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.format == OutputFormat::Json {
            out.write_all(if self.printed == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::source::SignatureStatus;

    #[test]
    fn terminal_escapes_in_a_commit_are_printed_escaped() {
        let entry = LogEntry {
            id: gix::ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap(),
            short_id: "0123456".to_string(),
            author: "Eve\u{1b}[31m".to_string(),
            email: "eve@example.com".to_string(),
            time: jiff::Timestamp::UNIX_EPOCH,
            subject: "fix\u{1b}]0;owned\u{7}\u{1b}[2J".to_string(),
            signature: SignatureStatus::Unsigned,
        };
        let mut out = Vec::new();
        Printer::new(OutputFormat::Table)
            .print(&mut out, &[entry])
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(
            text.ends_with("fix\\u{1b}]0;owned\\u{7}\\u{1b}[2J\n"),
            "{text:?}"
        );
    }

    #[test]
    fn the_author_column_is_twenty_characters_a_long_name_cut_with_an_ellipsis() {
        let entry = |author: &str| LogEntry {
            id: gix::ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap(),
            short_id: "0123456".to_string(),
            author: author.to_string(),
            email: "someone@example.com".to_string(),
            time: jiff::Timestamp::UNIX_EPOCH,
            subject: "Bump the image".to_string(),
            signature: SignatureStatus::Unsigned,
        };
        let mut out = Vec::new();
        Printer::new(OutputFormat::Table)
            .print(
                &mut out,
                &[entry("Bartholomew Fitzgerald-Smythe"), entry("Zoë")],
            )
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(
            rows[0].ends_with("unsigned  Bartholomew Fitzger…  Bump the image"),
            "{text}"
        );
        assert!(
            rows[1].ends_with(&format!("unsigned  Zoë{:17}  Bump the image", "")),
            "{text}"
        );
    }
}
