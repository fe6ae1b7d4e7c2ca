//! When a context task compares, as values: changes mark apps dirty, and a
//! round of reports follows `SETTLE` after the first of them, once every
//! watch has listed (or `PRIME_WAIT` passed); the objects to watch are
//! decided again (`Action::Track`) once the label watches have listed; the
//! automatic-sync decisions follow each round and come back when due. The
//! task (`mod.rs`) feeds the changes in with the time, sleeps until
//! `wake_at` and runs the `Action`s `fired` gives. An idle loop has no
//! wake-up: nothing is done on a timer when nothing changed.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

/// Changes are gathered this long before apps are compared again.
pub(super) const SETTLE: Duration = Duration::from_millis(100);
/// Reports wait this long at most for every watch's first list.
pub(super) const PRIME_WAIT: Duration = Duration::from_secs(10);

/// What the live store says at a moment.
#[derive(Debug, Clone, Copy)]
pub(super) struct StoreFacts {
    /// Every watch has answered (a list, or a failure).
    pub settled: bool,
    /// The label watches have listed: which wanted objects carry no label
    /// is known.
    pub labels_known: bool,
}

/// A message the task took in, as it concerns the loop.
pub(super) enum Taken {
    /// About one app of the context; `desired`: its desired state changed,
    /// and with it perhaps the objects to watch.
    App { app: String, desired: bool },
    /// Exact mode was switched: every app is compared again, the other way.
    ExactSwitched,
    /// Nothing to compare again (a plan, a sync, an app of another context).
    Nothing,
}

/// What the task is to do when its timer fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    /// Start or stop watches for the objects the apps want.
    Track,
    /// Compare these apps and send the reports that changed.
    Report {
        apps: Vec<String>,
        /// The round's verdicts are not those of a cache still filling.
        settled: bool,
        /// `PRIME_WAIT` passed: what answered so far is all there will be.
        prime_passed: bool,
    },
    /// Take the automatic-sync decisions; the task gives back when they
    /// are due again (`auto_due`).
    RunAuto,
}

pub(super) struct SettleLoop {
    started: Instant,
    /// Apps to compare in the next round.
    dirty: BTreeSet<String>,
    /// The objects Git names changed: watches to start or stop. Done once
    /// the messages of a settle period are in, so that apps whose desired
    /// states arrive together share a namespace's first list.
    retrack: bool,
    /// When the gathered changes are acted on.
    deadline: Instant,
    /// When an automatic sync falls due (settle delay, self-heal backoff).
    auto_due: Option<Instant>,
}

impl SettleLoop {
    /// A loop that has just started watching: every app is compared, and
    /// what to watch decided, once the first lists are in.
    pub(super) fn new(apps: impl IntoIterator<Item = String>, now: Instant) -> SettleLoop {
        SettleLoop {
            started: now,
            dirty: apps.into_iter().collect(),
            retrack: true,
            deadline: now + SETTLE,
            auto_due: None,
        }
    }

    fn idle(&self) -> bool {
        self.dirty.is_empty() && !self.retrack
    }

    fn prime_passed(&self, now: Instant) -> bool {
        now.duration_since(self.started) >= PRIME_WAIT
    }

    /// Some app is to be compared and the store may be: settled, or
    /// waited for long enough.
    fn ready(&self, settled: bool, now: Instant) -> bool {
        !self.dirty.is_empty() && (settled || self.prime_passed(now))
    }

    /// The first change after an idle spell opens a settle period; later
    /// ones join it.
    fn changed(&mut self, was_idle: bool, now: Instant) {
        if was_idle && !self.idle() {
            self.deadline = now + SETTLE;
        }
    }

    /// These apps are to be compared again.
    pub(super) fn compare(&mut self, apps: impl IntoIterator<Item = String>, now: Instant) {
        let was_idle = self.idle();
        self.dirty.extend(apps);
        self.changed(was_idle, now);
    }

    /// The objects to watch may have changed.
    pub(super) fn retrack(&mut self, now: Instant) {
        let was_idle = self.idle();
        self.retrack = true;
        self.changed(was_idle, now);
    }

    /// A watch started, listed, failed or stopped: staleness is part of
    /// every app's view, and a first list may show labels that make a
    /// watch needless.
    pub(super) fn watches_changed(&mut self, apps: impl IntoIterator<Item = String>, now: Instant) {
        self.compare(apps, now);
        self.retrack(now);
    }

    /// A message was taken in; `every_app`: the apps of the context.
    pub(super) fn taken(
        &mut self,
        taken: Taken,
        every_app: impl IntoIterator<Item = String>,
        now: Instant,
    ) {
        match taken {
            Taken::App { app, desired } => {
                if desired {
                    self.retrack(now);
                }
                self.compare([app], now);
            }
            Taken::ExactSwitched => self.compare(every_app, now),
            Taken::Nothing => {}
        }
    }

    /// When the automatic-sync decisions are due again, as `RunAuto` found.
    pub(super) fn auto_due(&mut self, due: Option<Instant>) {
        self.auto_due = due;
    }

    /// When the task is to wake up with nothing else happening: `None`
    /// when idle with no automatic sync due.
    pub(super) fn wake_at(&self, settled: bool, now: Instant) -> Option<Instant> {
        let settle = (!self.idle()).then(|| self.settle_wake(settled, now));
        match (settle, self.auto_due) {
            (Some(settle), Some(auto)) => Some(settle.min(auto)),
            (settle, auto) => settle.or(auto),
        }
    }

    /// While apps wait for an unsettled store, the end of `PRIME_WAIT`;
    /// else the end of the settle period.
    fn settle_wake(&self, settled: bool, now: Instant) -> Instant {
        if self.ready(settled, now) || self.retrack {
            self.deadline
        } else {
            self.started + PRIME_WAIT
        }
    }

    /// The timer fired at `now`: what is due.
    pub(super) fn fired(&mut self, store: StoreFacts, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if !self.idle() && self.settle_wake(store.settled, now) <= now {
            if self.retrack && !store.labels_known {
                // Which wanted objects carry no label is known only once
                // the label watches have listed: until then, wait.
                self.deadline = now + SETTLE;
            } else if self.retrack {
                self.retrack = false;
                actions.push(Action::Track);
            } else if self.ready(store.settled, now) {
                actions.push(Action::Report {
                    apps: std::mem::take(&mut self.dirty).into_iter().collect(),
                    settled: store.settled,
                    prime_passed: self.prime_passed(now),
                });
                // The decisions follow every round of reports.
                self.auto_due = None;
                actions.push(Action::RunAuto);
            }
        }
        if self.auto_due.is_some_and(|due| due <= now) {
            self.auto_due = None;
            actions.push(Action::RunAuto);
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTLED: StoreFacts = StoreFacts {
        settled: true,
        labels_known: true,
    };
    const LISTING: StoreFacts = StoreFacts {
        settled: false,
        labels_known: false,
    };
    /// The label watches have listed, other watches not yet.
    const LABELLED: StoreFacts = StoreFacts {
        settled: false,
        labels_known: true,
    };

    fn names(apps: &[&str]) -> Vec<String> {
        apps.iter().map(|a| a.to_string()).collect()
    }

    /// A loop whose first round (track, then report every app) is done.
    fn idle_loop(apps: &[&str], t0: Instant) -> SettleLoop {
        let mut settle = SettleLoop::new(names(apps), t0);
        assert_eq!(settle.fired(SETTLED, t0 + SETTLE), vec![Action::Track]);
        let first = settle.fired(SETTLED, t0 + SETTLE);
        assert!(matches!(&first[0], Action::Report { apps: a, .. } if *a == names(apps)));
        settle
    }

    fn reported(actions: &[Action]) -> Option<Vec<String>> {
        actions.iter().find_map(|action| match action {
            Action::Report { apps, .. } => Some(apps.clone()),
            _ => None,
        })
    }

    #[test]
    fn an_idle_loop_has_no_wake_up() {
        let t0 = Instant::now();
        let mut settle = idle_loop(&["a", "b"], t0);
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(settle.wake_at(true, later), None);
        assert_eq!(settle.wake_at(false, later), None);
        assert_eq!(settle.fired(SETTLED, later), vec![]);
    }

    #[test]
    fn changes_within_settle_are_gathered_into_one_round() {
        let t0 = Instant::now();
        let mut settle = idle_loop(&["a", "b", "c"], t0);
        let t1 = t0 + Duration::from_secs(5);
        settle.compare(names(&["a"]), t1);
        assert_eq!(settle.wake_at(true, t1), Some(t1 + SETTLE));
        // A second change within the period does not push the round back.
        let t2 = t1 + SETTLE / 2;
        settle.compare(names(&["b"]), t2);
        assert_eq!(settle.wake_at(true, t2), Some(t1 + SETTLE));
        assert_eq!(settle.fired(SETTLED, t2), vec![]);
        let round = settle.fired(SETTLED, t1 + SETTLE);
        assert_eq!(reported(&round), Some(names(&["a", "b"])));
        assert_eq!(round.last(), Some(&Action::RunAuto));
        // A change after the round opens a period of its own.
        let t3 = t1 + SETTLE * 3;
        settle.compare(names(&["c"]), t3);
        assert_eq!(settle.wake_at(true, t3), Some(t3 + SETTLE));
    }

    /// A loop whose label watches have listed and whose watches are
    /// tracked, the other watches still listing.
    fn tracked_while_listing(t0: Instant) -> SettleLoop {
        let mut settle = SettleLoop::new(names(&["a"]), t0);
        assert_eq!(settle.fired(LABELLED, t0 + SETTLE), vec![Action::Track]);
        settle
    }

    fn first_report(settled: bool, prime_passed: bool) -> Option<Action> {
        Some(Action::Report {
            apps: names(&["a"]),
            settled,
            prime_passed,
        })
    }

    #[test]
    fn nothing_is_reported_before_the_store_settles_unless_prime_wait_passed() {
        let t0 = Instant::now();
        let mut settle = tracked_while_listing(t0);
        // Not settled: the next wake-up is the end of the prime wait.
        let t1 = t0 + SETTLE * 2;
        assert_eq!(settle.wake_at(false, t1), Some(t0 + PRIME_WAIT));
        assert_eq!(settle.fired(LABELLED, t1), vec![]);
        let round = settle.fired(LABELLED, t0 + PRIME_WAIT);
        assert_eq!(round.first().cloned(), first_report(false, true));
    }

    #[test]
    fn a_settled_store_is_reported_at_once() {
        let t0 = Instant::now();
        let mut settle = tracked_while_listing(t0);
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(settle.wake_at(true, t1), Some(t0 + SETTLE));
        let round = settle.fired(SETTLED, t1);
        assert_eq!(round.first().cloned(), first_report(true, false));
    }

    #[test]
    fn retrack_waits_while_labels_are_not_known() {
        let t0 = Instant::now();
        let mut settle = SettleLoop::new(names(&["a"]), t0);
        let t1 = t0 + SETTLE;
        assert_eq!(settle.fired(LISTING, t1), vec![]);
        assert_eq!(settle.wake_at(false, t1), Some(t1 + SETTLE));
        // Still unknown: waits again, and reports nothing meanwhile.
        let t2 = t1 + SETTLE;
        assert_eq!(settle.fired(LISTING, t2), vec![]);
        assert_eq!(settle.fired(LABELLED, t2 + SETTLE), vec![Action::Track]);
    }

    #[test]
    fn a_new_desired_state_retracks_before_it_is_reported() {
        let t0 = Instant::now();
        let mut settle = idle_loop(&["a", "b"], t0);
        let t1 = t0 + Duration::from_secs(1);
        let desired = Taken::App {
            app: "a".to_string(),
            desired: true,
        };
        settle.taken(desired, names(&["a", "b"]), t1);
        assert_eq!(settle.fired(SETTLED, t1 + SETTLE), vec![Action::Track]);
        let round = settle.fired(SETTLED, t1 + SETTLE);
        assert_eq!(reported(&round), Some(names(&["a"])));
        // A refresh (not a new desired state) only compares.
        let generation = Taken::App {
            app: "b".to_string(),
            desired: false,
        };
        let t2 = t1 + Duration::from_secs(1);
        settle.taken(generation, names(&["a", "b"]), t2);
        let round = settle.fired(SETTLED, t2 + SETTLE);
        assert_eq!(reported(&round), Some(names(&["b"])));
    }

    #[test]
    fn the_exact_switch_dirties_every_app() {
        let t0 = Instant::now();
        let mut settle = idle_loop(&["a", "b", "c"], t0);
        let t1 = t0 + Duration::from_secs(1);
        settle.taken(Taken::Nothing, names(&["a", "b", "c"]), t1);
        assert_eq!(settle.wake_at(true, t1), None);
        settle.taken(Taken::ExactSwitched, names(&["a", "b", "c"]), t1);
        let round = settle.fired(SETTLED, t1 + SETTLE);
        assert_eq!(reported(&round), Some(names(&["a", "b", "c"])));
    }

    #[test]
    fn a_watch_change_retracks_and_compares_every_app() {
        let t0 = Instant::now();
        let mut settle = idle_loop(&["a", "b"], t0);
        let t1 = t0 + Duration::from_secs(1);
        settle.watches_changed(names(&["a", "b", "argocd/shop"]), t1);
        assert_eq!(settle.fired(SETTLED, t1 + SETTLE), vec![Action::Track]);
        let round = settle.fired(SETTLED, t1 + SETTLE);
        assert_eq!(reported(&round), Some(names(&["a", "argocd/shop", "b"])));
    }

    #[test]
    fn automatic_sync_wakes_the_loop_when_due_and_follows_each_round() {
        let t0 = Instant::now();
        let mut settle = idle_loop(&["a"], t0);
        let due = t0 + Duration::from_secs(30);
        settle.auto_due(Some(due));
        assert_eq!(settle.wake_at(true, t0 + SETTLE), Some(due));
        assert_eq!(settle.fired(SETTLED, due - SETTLE), vec![]);
        assert_eq!(settle.fired(SETTLED, due), vec![Action::RunAuto]);
        // Run once: what it found due next is set by the task.
        assert_eq!(settle.wake_at(true, due), None);
        // A round of reports runs it once, even when it was due too.
        settle.auto_due(Some(due + SETTLE));
        settle.compare(names(&["a"]), due);
        let round = settle.fired(SETTLED, due + SETTLE);
        let runs = round.iter().filter(|a| **a == Action::RunAuto).count();
        assert_eq!((reported(&round), runs), (Some(names(&["a"])), 1));
    }
}
