//! `driftdeck rollback APP --to REV`: a sync of the app at REV that pins it
//! there (the engine keeps the pin in the data folder); `driftdeck unpin APP`
//! removes the pin, so that the app follows its branch's head again.

use std::process::ExitCode;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, RollbackArgs};
use crate::engine::SyncTarget;
use crate::resource::short_revision;
use crate::sync::PinFile;

pub fn run(global: &GlobalArgs, args: &RollbackArgs) -> Result<ExitCode, CommandError> {
    if crate::engines::is_controller_app_name(&args.app) {
        if !args.git {
            return Err(super::rollback_controller::not_git(&args.app));
        }
        return super::rollback_controller::run(global, args);
    }
    if args.git {
        return super::rollback_git::run(global, args);
    }
    super::sync::run_at(
        global,
        Some(&args.app),
        &args.flags,
        SyncTarget::Pin(args.to.clone()),
    )
}

/// Removes the app's pin from the pins file. The objects keep their pin
/// annotation until the next sync, which applies them without it.
pub fn unpin(global: &GlobalArgs, app: &str) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    super::refuse_when_read_only(&config, &format!("app \"{app}\": unpin refused"))?;
    super::configured_app(&config, app)?;
    match PinFile::in_data_dir(&paths).set(app, None)? {
        Some(pin) => eprintln!(
            "app \"{app}\": unpinned from {}; the next sync goes to the branch's head",
            short_revision(&pin.revision)
        ),
        None => eprintln!("app \"{app}\": not pinned"),
    }
    Ok(ExitCode::SUCCESS)
}
