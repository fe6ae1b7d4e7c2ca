//! What the sources task and a context task tell each other.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::At;
use crate::config::AppConfig;
use crate::engine::{Generation, SyncCommand};
use crate::manifests::Checked;
use crate::resource::ResourceKey;
use crate::source::SignatureStatus;

/// What the main task tells a context task.
pub(in crate::engine) enum ToContext {
    Follow {
        app: Box<AppConfig>,
    },
    Desired {
        app: String,
        revision: String,
        checked: Arc<Checked>,
        /// The revision is the app's pin, not its branch's head.
        pinned: Option<String>,
        /// The revision's signature, when the app requires one.
        signature: Option<SignatureStatus>,
    },
    DesiredFailed {
        app: String,
        cause: String,
    },
    Generation {
        app: String,
        generation: Generation,
    },
    /// Compare with server-side dry runs (exact mode), or not.
    Exact(bool),
    /// `at`: another revision than the one compared.
    Plan {
        app: String,
        prune: bool,
        at: Option<Box<At>>,
        only: Option<ResourceKey>,
    },
    /// `finished` hears whether the sync applied everything.
    Sync {
        app: String,
        request: SyncCommand,
        at: Option<Box<At>>,
        finished: Option<oneshot::Sender<bool>>,
    },
    CancelSync {
        app: String,
    },
    /// Sent to every context: the one that has the engine app acts.
    ControllerAction {
        app: String,
        action: crate::engines::ActionKind,
    },
}

/// What a context task asks of the main task: to follow an engine app's
/// source like a native app's (driftdeck's own comparison), or no more.
pub(in crate::engine) enum FromContext {
    /// Poll `app.repo` and render `app.path` at `revision` (the engine's;
    /// `None`: the branch's head); answered by `Desired`/`DesiredFailed`.
    FollowSource {
        app: Box<AppConfig>,
        revision: Option<String>,
        /// A chart's release name.
        release: String,
    },
    ForgetSource {
        app: String,
    },
}
