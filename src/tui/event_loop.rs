//! The UI loop: terminal events, engine messages and stop signals in; after
//! each, `update`, and a draw only when something changed. Nothing wakes it
//! on a timer, so an idle driftdeck uses no CPU.

use std::future::Future;
use std::io;

use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::Event;
use tokio::sync::mpsc;

use super::TuiError;
use super::msg::{Command, Msg};
use super::state::State;
use super::update::update;
use super::view::view;

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The operator quit, or the terminal's input ended.
    Quit,
    /// A signal (its number) asked driftdeck to stop.
    Signal(i32),
}

pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    state: &mut State,
    mut events: impl Stream<Item = io::Result<Event>> + Unpin,
    messages: &mut mpsc::UnboundedReceiver<Msg>,
    stop: impl Future<Output = i32>,
) -> Result<Exit, TuiError> {
    let size = terminal.size().map_err(|e| TuiError::Draw(e.to_string()))?;
    update(
        state,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );
    draw(terminal, state)?;
    tokio::pin!(stop);
    let mut engine_open = true;
    loop {
        let msg = tokio::select! {
            biased;
            signal = &mut stop => return Ok(Exit::Signal(signal)),
            event = events.next() => match event {
                Some(Ok(event)) => match from_terminal(event) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(err)) => return Err(TuiError::Input(err)),
                None => return Ok(Exit::Quit),
            },
            message = messages.recv(), if engine_open => match message {
                Some(msg) => msg,
                None => {
                    engine_open = false;
                    continue;
                }
            },
        };
        let outcome = update(state, msg);
        // Engine commands will be sent on from here; quitting is the loop's own.
        if outcome.commands.contains(&Command::Quit) {
            return Ok(Exit::Quit);
        }
        if outcome.changed {
            draw(terminal, state)?;
        }
    }
}

/// The terminal events the UI reacts to; focus and paste events are not among them.
fn from_terminal(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => Some(Msg::Key(key)),
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        _ => None,
    }
}

fn draw<B: Backend>(terminal: &mut Terminal<B>, state: &State) -> Result<(), TuiError> {
    terminal
        .draw(|frame| view(frame, state))
        .map(|_| ())
        .map_err(|e| TuiError::Draw(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::channel::mpsc as event_channel;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::tui::msg::{Generation, Reply, ReplyBody};
    use crate::tui::report::{AppStatus, Health, SyncStatus};
    use crate::tui::test_support::state_with_apps;

    fn key(c: char) -> io::Result<Event> {
        Ok(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )))
    }

    fn frames_drawn(terminal: &mut Terminal<TestBackend>) -> usize {
        let mut count = 0;
        terminal.draw(|frame| count = frame.count()).unwrap();
        count
    }

    #[tokio::test(start_paused = true)]
    async fn draws_only_on_change_never_on_a_timer() {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut state = state_with_apps(&["guestbook"]);
        let (keys, events) = event_channel::unbounded();
        let (engine, mut messages) = mpsc::unbounded_channel();
        let ui = tokio::spawn(async move {
            let exit = run(
                &mut terminal,
                &mut state,
                events,
                &mut messages,
                std::future::pending(),
            )
            .await;
            (exit.unwrap(), terminal)
        });
        // An hour of idle time, a key bound to nothing, a stale reply: no frame.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        keys.unbounded_send(key('x')).unwrap();
        let stale = Reply {
            app: "guestbook".into(),
            generation: Generation(7),
            body: ReplyBody::Failed("old".into()),
        };
        engine.send(Msg::Reply(stale)).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        // A reply that counts: one frame.
        let status = AppStatus {
            sync: SyncStatus::Synced,
            health: Health::Healthy,
            deployed: None,
        };
        let fresh = Reply {
            app: "guestbook".into(),
            generation: Generation(0),
            body: ReplyBody::Status(status),
        };
        engine.send(Msg::Reply(fresh)).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        keys.unbounded_send(key('q')).unwrap();
        let (exit, mut terminal) = ui.await.unwrap();
        assert_eq!(exit, Exit::Quit);
        assert!(terminal.backend().to_string().contains("✓ ●"));
        assert_eq!(frames_drawn(&mut terminal), 2);
    }

    #[tokio::test]
    async fn a_closed_engine_channel_leaves_the_keys_working() {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut state = state_with_apps(&[]);
        let (keys, events) = event_channel::unbounded();
        let (engine, mut messages) = mpsc::unbounded_channel::<Msg>();
        drop(engine);
        keys.unbounded_send(key('?')).unwrap();
        keys.unbounded_send(key('q')).unwrap();
        let exit = run(
            &mut terminal,
            &mut state,
            events,
            &mut messages,
            std::future::pending(),
        )
        .await;
        assert_eq!(exit.unwrap(), Exit::Quit);
        assert_eq!(state.help, Some(0));
    }

    #[tokio::test]
    async fn a_stop_signal_ends_the_loop() {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut state = state_with_apps(&[]);
        let (_keys, events) = event_channel::unbounded();
        let (_engine, mut messages) = mpsc::unbounded_channel::<Msg>();
        let exit = run(&mut terminal, &mut state, events, &mut messages, async {
            15
        })
        .await;
        assert_eq!(exit.unwrap(), Exit::Signal(15));
    }

    #[tokio::test]
    async fn the_end_of_terminal_input_ends_the_loop() {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut state = state_with_apps(&[]);
        let events = futures::stream::iter(Vec::<io::Result<Event>>::new());
        let (_engine, mut messages) = mpsc::unbounded_channel::<Msg>();
        let exit = run(
            &mut terminal,
            &mut state,
            events,
            &mut messages,
            std::future::pending(),
        )
        .await;
        assert_eq!(exit.unwrap(), Exit::Quit);
    }
}
