//! The UI loop: terminal events, engine events and stop signals in; after
//! each, `update`, its commands carried out, and a draw only when something
//! changed. The timers run only while there is something to show: the
//! spinner while some app waits for a verdict, the clock while an age is on
//! screen; an idle driftdeck uses no CPU.

use std::future::Future;
use std::io;
use std::time::Duration;

use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::Event;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::TuiError;
use super::msg::{Command, ExternalDiff, Msg};
use super::state::State;
use super::theme::{ColorDepth, Theme};
use super::update::update;
use super::view::view;
use crate::engine::{EngineCommand, EngineEvent};

/// Time between two frames of the spinner.
const SPIN: Duration = Duration::from_millis(120);
/// Time between two readings of the clock, while ages are shown.
const CLOCK: Duration = Duration::from_secs(1);

/// What the loop asks of the world beyond the screen.
pub trait Effects {
    fn engine(&mut self, command: EngineCommand);
    /// Hands the terminal to the external diff viewer until it exits; why
    /// it could not run, if it could not.
    fn external_diff(&mut self, diff: &ExternalDiff) -> Result<(), String>;
}

/// A closure takes the engine's commands; it has no terminal to hand over.
impl<F: FnMut(EngineCommand)> Effects for F {
    fn engine(&mut self, command: EngineCommand) {
        self(command);
    }

    fn external_diff(&mut self, _: &ExternalDiff) -> Result<(), String> {
        Err("no terminal to run the external diff viewer in".to_string())
    }
}

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
    mut terminal_events: impl Stream<Item = io::Result<Event>> + Unpin,
    engine_events: &mut mpsc::UnboundedReceiver<EngineEvent>,
    mut effects: impl Effects,
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
    // Debug builds only: lets the end-to-end tests check that a panic
    // leaves a usable terminal with its message on the normal screen.
    #[cfg(debug_assertions)]
    #[allow(clippy::panic)]
    if std::env::var_os("DRIFTDECK_TEST_PANIC").is_some() {
        panic!("DRIFTDECK_TEST_PANIC is set");
    }
    tokio::pin!(stop);
    let mut spinner = tokio::time::interval(SPIN);
    spinner.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut clock = tokio::time::interval(CLOCK);
    clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut engine_open = true;
    loop {
        let busy = state.is_busy();
        let ages = state.shows_ages();
        let msg = tokio::select! {
            biased;
            signal = &mut stop => return Ok(Exit::Signal(signal)),
            event = terminal_events.next() => match event {
                Some(Ok(event)) => match from_terminal(event) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(err)) => return Err(TuiError::Input(err)),
                None => return Ok(Exit::Quit),
            },
            event = engine_events.recv(), if engine_open => match event {
                Some(event) => Msg::Engine(event),
                None => {
                    engine_open = false;
                    continue;
                }
            },
            _ = spinner.tick(), if busy => Msg::Tick,
            _ = clock.tick(), if ages => Msg::Clock(jiff::Timestamp::now()),
        };
        let mut outcome = update(state, msg);
        while !outcome.commands.is_empty() {
            let mut follow_ups = Vec::new();
            for command in std::mem::take(&mut outcome.commands) {
                match command {
                    Command::Quit => return Ok(Exit::Quit),
                    Command::Engine(command) => effects.engine(command),
                    Command::Remember(memory) => {
                        if let Some(file) = &state.memory_file {
                            memory.save(file);
                        }
                    }
                    Command::LoadTheme(name) => follow_ups.push(load_theme(state, &name)),
                    Command::ExternalDiff(diff) => {
                        let result = effects.external_diff(&diff);
                        // The viewer had the screen: every cell is drawn again.
                        terminal
                            .clear()
                            .map_err(|e| TuiError::Draw(e.to_string()))?;
                        follow_ups.push(Msg::ViewerDone(result));
                    }
                }
            }
            for msg in follow_ups {
                let more = update(state, msg);
                outcome.changed |= more.changed;
                outcome.commands.extend(more.commands);
            }
        }
        if outcome.changed {
            draw(terminal, state)?;
        }
    }
}

/// `:theme NAME`: a built-in theme, or a file in the themes folder.
fn load_theme(state: &State, name: &str) -> Msg {
    let depth = ColorDepth::from_env();
    let (theme, warning) = match &state.themes_dir {
        Some(dir) => Theme::load(Some(name), dir, depth),
        None => match Theme::built_in(name) {
            Some(Ok(theme)) => (theme.for_depth(depth), None),
            _ => (
                state.theme.clone(),
                Some(format!("no built-in theme \"{name}\"")),
            ),
        },
    };
    Msg::Theme {
        theme: Box::new(theme),
        warning,
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
    use std::sync::{Arc, Mutex};

    use futures::channel::mpsc as event_channel;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::tui::test_support::{guestbook_report, report_event, source_ok, state_with_apps};

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

    /// A UI loop on a test terminal, fed by the returned channels; it hands
    /// back the terminal, the state and the commands sent to the engine.
    struct Harness {
        keys: event_channel::UnboundedSender<io::Result<Event>>,
        engine: mpsc::UnboundedSender<EngineEvent>,
        ui: tokio::task::JoinHandle<(Exit, Terminal<TestBackend>, State, Vec<EngineCommand>)>,
    }

    fn start(mut state: State) -> Harness {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let (keys, terminal_events) = event_channel::unbounded();
        let (engine, mut engine_events) = mpsc::unbounded_channel();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let ui = tokio::spawn(async move {
            let record = sent.clone();
            let exit = run(
                &mut terminal,
                &mut state,
                terminal_events,
                &mut engine_events,
                move |command| record.lock().unwrap().push(command),
                std::future::pending(),
            )
            .await;
            let sent = sent.lock().unwrap().clone();
            (exit.unwrap(), terminal, state, sent)
        });
        Harness { keys, engine, ui }
    }

    #[tokio::test(start_paused = true)]
    async fn draws_only_on_change_never_on_a_timer() {
        let mut state = state_with_apps(&["guestbook"]);
        update(
            &mut state,
            Msg::Engine(report_event("guestbook", 0, guestbook_report())),
        );
        // A refresh was asked for and answered since generation 1.
        state.apps[0].generation = 2;
        assert!(!state.is_busy());
        let harness = start(state);
        // An hour of idle time, a key bound to nothing, a stale verdict: no frame.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        harness.keys.unbounded_send(key('x')).unwrap();
        let stale = report_event("guestbook", 1, guestbook_report());
        harness.engine.send(stale).unwrap();
        // Counts: the first are news, the same again are not.
        harness
            .engine
            .send(EngineEvent::Requests { git: 0, cluster: 0 })
            .unwrap();
        harness
            .engine
            .send(EngineEvent::Requests { git: 0, cluster: 0 })
            .unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        // One event that counts: one frame.
        harness.engine.send(source_ok("guestbook")).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        harness.keys.unbounded_send(key('q')).unwrap();
        let (exit, mut terminal, _, _) = harness.ui.await.unwrap();
        assert_eq!(exit, Exit::Quit);
        assert!(terminal.backend().to_string().contains("polls every 1m"));
        // The first frame, the request counts, the source.
        assert_eq!(frames_drawn(&mut terminal), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_spinner_turns_while_a_verdict_is_awaited_and_then_stops() {
        let harness = start(state_with_apps(&["guestbook"]));
        tokio::time::sleep(Duration::from_millis(1000)).await;
        harness
            .engine
            .send(report_event("guestbook", 0, guestbook_report()))
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        harness.keys.unbounded_send(key('q')).unwrap();
        let (_, mut terminal, state, _) = harness.ui.await.unwrap();
        // About one frame per beat for the first second, then none for an hour.
        let frames = frames_drawn(&mut terminal);
        assert!((8..=12).contains(&frames), "{frames} frames");
        assert!(state.spinner >= 7, "{}", state.spinner);
    }

    #[tokio::test]
    async fn refresh_goes_to_the_engine() {
        let harness = start(state_with_apps(&["guestbook"]));
        harness.keys.unbounded_send(key('r')).unwrap();
        harness.keys.unbounded_send(key('q')).unwrap();
        let (_, _, state, sent) = harness.ui.await.unwrap();
        assert_eq!(
            sent,
            vec![EngineCommand::Refresh {
                app: "guestbook".into(),
                generation: 1
            }]
        );
        assert_eq!(state.apps[0].generation, 1);
    }

    #[tokio::test]
    async fn the_sort_is_written_to_the_memory_file_and_a_theme_command_loads_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/tui-state.toml");
        let mut state = state_with_apps(&["guestbook"]);
        state.memory_file = Some(file.clone());
        let harness = start(state);
        harness.keys.unbounded_send(key('o')).unwrap();
        for c in ":theme light".chars() {
            harness.keys.unbounded_send(key(c)).unwrap();
        }
        let enter = Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        harness.keys.unbounded_send(Ok(enter)).unwrap();
        harness.keys.unbounded_send(key('q')).unwrap();
        let (_, _, state, _) = harness.ui.await.unwrap();
        let kept = std::fs::read_to_string(&file).unwrap();
        assert_eq!(kept.trim(), "sort = \"name\"");
        assert_eq!(state.theme.name, "light");
        assert_eq!(state.notice, None);
    }

    #[tokio::test]
    async fn a_closed_engine_channel_leaves_the_keys_working() {
        let harness = start(state_with_apps(&[]));
        drop(harness.engine);
        harness.keys.unbounded_send(key('?')).unwrap();
        harness.keys.unbounded_send(key('q')).unwrap();
        let (exit, _, state, _) = harness.ui.await.unwrap();
        assert_eq!(exit, Exit::Quit);
        assert_eq!(state.help, Some(0));
    }

    #[tokio::test]
    async fn a_stop_signal_ends_the_loop() {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut state = state_with_apps(&[]);
        let (_keys, events) = event_channel::unbounded();
        let (_engine, mut engine_events) = mpsc::unbounded_channel();
        let exit = run(
            &mut terminal,
            &mut state,
            events,
            &mut engine_events,
            |_| {},
            async { 15 },
        )
        .await;
        assert_eq!(exit.unwrap(), Exit::Signal(15));
    }

    #[tokio::test]
    async fn the_end_of_terminal_input_ends_the_loop() {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut state = state_with_apps(&[]);
        let events = futures::stream::iter(Vec::<io::Result<Event>>::new());
        let (_engine, mut engine_events) = mpsc::unbounded_channel();
        let exit = run(
            &mut terminal,
            &mut state,
            events,
            &mut engine_events,
            |_| {},
            std::future::pending(),
        )
        .await;
        assert_eq!(exit.unwrap(), Exit::Quit);
    }
}
