//! The real terminal: raw mode and the alternate screen on the way in, undone
//! on every way out (return, error, panic, signal). Mouse capture is never
//! turned on, so text selection keeps working. A panic anywhere, in any task
//! or thread, ends the process: a half-dead UI drawing over the shell, or a
//! command that carries on without one of its tasks, is worse than an exit.

use std::io::{self, IsTerminal, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use super::TuiError;

/// Whether the terminal is in the UI's modes, so restoring twice (the panic
/// hook, then the guard) does it once.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// The terminal in the UI's modes; dropping it restores the terminal.
pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    pub fn enter() -> Result<TerminalGuard, TuiError> {
        if !io::stdout().is_terminal() {
            return Err(TuiError::NotATerminal);
        }
        install_panic_hook();
        enable_raw_mode().map_err(TuiError::Terminal)?;
        ACTIVE.store(true, Ordering::SeqCst);
        let entered = execute!(io::stdout(), EnterAlternateScreen)
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match entered {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(err) => {
                restore();
                Err(TuiError::Terminal(err))
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen and raw mode and shows the cursor, once.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    // Nothing useful can be done if the terminal refuses: keep going so the
    // other steps still run.
    if let Err(err) = disable_raw_mode() {
        tracing::warn!("cannot leave raw mode: {err}");
    }
    if let Err(err) = execute!(io::stdout(), LeaveAlternateScreen, Show) {
        tracing::warn!("cannot leave the alternate screen: {err}");
    }
}

/// The exit code after a panic, as Rust's own for a panicking main thread.
pub const PANIC_EXIT: i32 = 101;

/// On a panic in any thread: restores the terminal, prints the message on
/// the normal screen where it can be read, and ends the process with
/// `PANIC_EXIT`. Stdout stays locked from the restore to the exit, so no
/// other thread draws a frame over the shell meanwhile.
pub fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let print_panic = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let mut stdout = io::stdout().lock();
            restore();
            print_panic(info);
            let _ = stdout.flush();
            std::process::exit(PANIC_EXIT);
        }));
    });
}

/// Hands the terminal back to the shell's modes for a program run from the
/// UI (the external diff viewer); `resume` takes it again.
pub fn suspend() -> io::Result<()> {
    disable_raw_mode()?;
    execute!(io::stdout(), LeaveAlternateScreen, Show)
}

pub fn resume() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen)
}
