use std::process::ExitCode;

use clap::Parser;
use driftdeck::cli::Cli;

fn main() -> ExitCode {
    driftdeck::memory::limit_heap_arenas();
    // Before anything can panic: a panic in any task or thread restores the
    // terminal and ends the process with a non-zero code.
    driftdeck::tui::install_panic_hook();
    driftdeck::commands::run(Cli::parse())
}
