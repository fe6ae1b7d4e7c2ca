//! The plan dialog: a sync plan (or a rollback's, which is the same kind of
//! plan) shown for confirmation — its counts and objects, scrollable, with
//! an optional row of choices. State and update only; drawn by
//! `view/dialog.rs`. It knows nothing of what confirming does: the caller
//! keeps that (`OpenDialog::purpose`) and acts on `Reply::Confirmed`.
//!
//! Use: `PlanDialog::new("Sync shop")`, optionally `.with_choices(…)`;
//! give it the engine's answer with `planned` (or, for an in-cluster
//! engine's app, what will be written as `Planning::Writes`); feed it the
//! actions read in `Context::Dialog` with `act`, and act on the reply.

use std::sync::Arc;

use crate::sync::SyncPlan;
use crate::tui::keymap::Action;

/// Where the plan is.
#[derive(Debug, Clone, PartialEq)]
pub enum Planning {
    /// Asked of the engine, not answered yet.
    Waiting,
    Ready(Arc<SyncPlan>),
    /// Why there is no plan (manifest errors, an empty render, no verdict yet).
    Failed(String),
    /// No plan: an in-cluster engine plans for itself. What asking it
    /// writes instead, line by line (an Argo CD or Flux app's action).
    Writes(Vec<String>),
}

/// A confirm dialog over a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDialog {
    /// The border's title: "Sync shop", "Roll back shop to abc1234".
    pub title: String,
    pub planning: Planning,
    /// Choices besides yes and no (a rollback's "pin" or "revert commit");
    /// empty for none. Tab and Shift-Tab move between them.
    pub choices: Vec<String>,
    /// The position of the chosen one in `choices`.
    pub choice: usize,
    /// The choices that do something even when the plan writes nothing (a
    /// rollback's commit in Git: the cluster may already be there, pinned).
    pub beyond_the_plan: Vec<usize>,
    /// The first line of the plan shown.
    pub scroll: usize,
}

/// What an action did to the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Nothing changed.
    Unchanged,
    /// Scrolled or another choice: redraw.
    Changed,
    /// Go: with the position of the chosen choice when there are choices.
    Confirmed { choice: Option<usize> },
    /// Closed without doing anything.
    Cancelled,
}

impl PlanDialog {
    /// A dialog waiting for its plan.
    pub fn new(title: impl Into<String>) -> PlanDialog {
        PlanDialog {
            title: title.into(),
            planning: Planning::Waiting,
            choices: Vec::new(),
            choice: 0,
            beyond_the_plan: Vec::new(),
            scroll: 0,
        }
    }

    /// The same, offering these choices (the first one chosen).
    pub fn with_choices(mut self, choices: Vec<String>) -> PlanDialog {
        self.choices = choices;
        self.choice = 0;
        self
    }

    /// The same, where the choices at these positions can be confirmed
    /// with a plan that writes nothing.
    pub fn acting_beyond_the_plan(mut self, choices: &[usize]) -> PlanDialog {
        self.beyond_the_plan = choices.to_vec();
        self
    }

    /// The engine's answer: the plan, or why there is none.
    pub fn planned(&mut self, plan: Result<Arc<SyncPlan>, String>) {
        self.planning = match plan {
            Ok(plan) => Planning::Ready(plan),
            Err(why) => Planning::Failed(why),
        };
        self.scroll = 0;
    }

    /// The plan, once there is one.
    pub fn plan(&self) -> Option<&Arc<SyncPlan>> {
        match &self.planning {
            Planning::Ready(plan) => Some(plan),
            Planning::Waiting | Planning::Failed(_) | Planning::Writes(_) => None,
        }
    }

    /// Whether confirming would do something: a plan, or a request, that writes.
    pub fn can_confirm(&self) -> bool {
        match &self.planning {
            Planning::Ready(plan) => {
                !plan.is_empty() || self.beyond_the_plan.contains(&self.choice)
            }
            Planning::Writes(lines) => !lines.is_empty(),
            Planning::Waiting | Planning::Failed(_) => false,
        }
    }

    /// Takes an action. `page` is the rows the plan has on screen and
    /// `max_scroll` how far it can scroll (both from the view).
    pub fn act(&mut self, action: Action, page: usize, max_scroll: usize) -> Reply {
        let target = match action {
            Action::Confirm if self.can_confirm() => {
                let choice = (!self.choices.is_empty()).then_some(self.choice);
                return Reply::Confirmed { choice };
            }
            Action::Back | Action::Quit => return Reply::Cancelled,
            Action::FocusNext | Action::FocusPrev if !self.choices.is_empty() => {
                let count = self.choices.len();
                self.choice = if action == Action::FocusNext {
                    (self.choice + 1) % count
                } else {
                    (self.choice + count - 1) % count
                };
                return Reply::Changed;
            }
            Action::Up => self.scroll.saturating_sub(1),
            Action::Down => self.scroll.saturating_add(1),
            Action::PageUp => self.scroll.saturating_sub(page.max(1)),
            Action::PageDown => self.scroll.saturating_add(page.max(1)),
            Action::Top => 0,
            Action::Bottom => usize::MAX,
            _ => return Reply::Unchanged,
        };
        let target = target.min(max_scroll);
        if target == self.scroll {
            return Reply::Unchanged;
        }
        self.scroll = target;
        Reply::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan with nothing to do: the shop's narrowed to an object it lacks.
    fn empty_plan() -> SyncPlan {
        let key = crate::resource::ResourceKey {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: Some("shop".into()),
            name: "absent".into(),
        };
        crate::sync::test_support::shop_plan().only(&key)
    }

    #[test]
    fn confirming_needs_a_plan_that_writes() {
        let mut dialog = PlanDialog::new("Sync shop");
        assert_eq!(dialog.act(Action::Confirm, 10, 0), Reply::Unchanged);
        dialog.planned(Err("no verdict yet".into()));
        assert_eq!(dialog.act(Action::Confirm, 10, 0), Reply::Unchanged);
        dialog.planned(Ok(Arc::new(empty_plan())));
        assert_eq!(dialog.act(Action::Confirm, 10, 0), Reply::Unchanged);
        assert_eq!(dialog.act(Action::Back, 10, 0), Reply::Cancelled);
    }

    #[test]
    fn scrolling_stays_within_the_plan() {
        let mut dialog = PlanDialog::new("Sync shop");
        assert_eq!(dialog.act(Action::Down, 10, 3), Reply::Changed);
        assert_eq!(dialog.act(Action::PageDown, 10, 3), Reply::Changed);
        assert_eq!(dialog.scroll, 3);
        assert_eq!(dialog.act(Action::Bottom, 10, 3), Reply::Unchanged);
        assert_eq!(dialog.act(Action::Top, 10, 3), Reply::Changed);
        assert_eq!(dialog.act(Action::Up, 10, 3), Reply::Unchanged);
    }

    #[test]
    fn choices_go_round_and_the_chosen_one_is_confirmed() {
        let mut dialog = PlanDialog::new("Roll back shop to 3f2a91c")
            .with_choices(vec!["pin in the cluster".into(), "revert commit".into()]);
        dialog.planned(Ok(Arc::new(crate::sync::test_support::shop_plan())));
        assert_eq!(dialog.act(Action::FocusPrev, 10, 0), Reply::Changed);
        assert_eq!(dialog.choice, 1);
        assert_eq!(dialog.act(Action::FocusNext, 10, 0), Reply::Changed);
        assert_eq!(
            dialog.act(Action::Confirm, 10, 0),
            Reply::Confirmed { choice: Some(0) }
        );
    }
}
