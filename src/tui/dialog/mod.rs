//! Dialogs over the panes that ask before something is written. The plan
//! dialog (`plan.rs`) is the reusable part; `OpenDialog` pairs it with what
//! confirming it does, which `update` carries out.

pub mod message;
pub mod plan;

pub use message::{EditReply, MessageEditor};
pub use plan::{PlanDialog, Planning, Reply};

use crate::engines::ActionKind;
use crate::resource::ResourceKey;

/// The dialog on screen and what it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDialog {
    pub dialog: PlanDialog,
    pub purpose: Purpose,
}

/// What confirming a dialog does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Sync the app, or one of its objects.
    Sync {
        app: String,
        only: Option<ResourceKey>,
    },
    /// Roll the app back to `revision` (a full commit id): pin the cluster
    /// there, or revert in Git (on the branch, or to a merge-request
    /// branch), as the dialog's choice says.
    Rollback { app: String, revision: String },
    /// Ask an Argo CD or Flux app's engine to act (`update/controller.rs`);
    /// an Argo CD sync's choices say whether to prune.
    Engine { app: String, action: ActionKind },
}

impl Purpose {
    /// The app the dialog is about; the engine's `Planned` finds it by it.
    pub fn app(&self) -> &str {
        match self {
            Purpose::Sync { app, .. }
            | Purpose::Rollback { app, .. }
            | Purpose::Engine { app, .. } => app,
        }
    }
}
