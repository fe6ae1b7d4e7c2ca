//! Draws a terminal capture with escape codes (stdin) as an SVG (stdout):
//!
//!     tmux capture-pane -p -e | cargo run --example ansi_svg -- 80 24 [--light]
//!
//! `screenshots/regenerate` runs it for every scene.

use std::io::{Read, Write};
use std::process::ExitCode;

#[path = "../screenshots/ansi_svg.rs"]
mod ansi_svg;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<usize>().ok());
    let (Some(columns), Some(rows)) = (number(0), number(1)) else {
        eprintln!("usage: ansi_svg COLUMNS ROWS [--light] < capture > picture.svg");
        return ExitCode::from(2);
    };
    let backdrop = if args.iter().any(|a| a == "--light") {
        ansi_svg::Backdrop::Light
    } else {
        ansi_svg::Backdrop::Dark
    };
    let mut capture = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut capture) {
        eprintln!("cannot read the capture: {err}");
        return ExitCode::from(2);
    }
    let svg = ansi_svg::to_svg(&capture, columns, rows, backdrop, &|c| {
        driftdeck::text::char_width(c)
    });
    match std::io::stdout().write_all(svg.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cannot write the picture: {err}");
            ExitCode::from(2)
        }
    }
}
