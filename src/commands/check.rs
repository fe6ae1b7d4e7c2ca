//! `driftdeck check PATH [--rev REV] [-o json]`: load, render and validate an
//! app's manifests from the folder on disk or from a revision of its
//! repository. Exit 0 when nothing blocks a sync (warnings are printed but
//! allowed), 1 when there are errors, 2 when the check could not run.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::engine::desired_at;
use crate::manifests::{self, AppSettings, Checked, ObjectId, Origin, Problem, Scope, Severity};
use crate::source::{self, RepoPath};

pub fn run(
    global: &GlobalArgs,
    path: &Path,
    rev: Option<&str>,
    format: OutputFormat,
) -> Result<ExitCode, CommandError> {
    let repo = source::locate_in_repo(path);
    let app = app_settings(global, path, repo.as_ref().ok())?;
    let settings = AppSettings {
        name: &app.name,
        namespace: &app.namespace,
        values: &app.values,
    };
    let checked = match rev {
        Some(rev) => {
            let repo = repo?;
            desired_at(&repo.repo_dir, rev, &repo.app_path, path, &settings)?
        }
        None if path.is_file() => manifests::check_file(path, &app.namespace)?,
        None => manifests::check_folder(path, path, &settings)?,
    };
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Table => {
            for problem in &checked.problems {
                writeln!(out, "{problem}")?;
            }
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &Report::new(path, rev, &checked))
                .map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    let problems = &checked.problems;
    eprintln!(
        "{}: {} objects, {} errors, {} warnings",
        path.display(),
        checked.desired.objects.len(),
        problems.count(Severity::Error),
        problems.count(Severity::Warning)
    );
    Ok(if checked.can_sync() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Name, namespace and Helm values files of the app at PATH.
struct AppAtPath {
    name: String,
    namespace: String,
    values: Vec<String>,
}

/// The app in the config whose repository and path are PATH's, else one
/// named after the folder in the `default` namespace.
fn app_settings(
    global: &GlobalArgs,
    path: &Path,
    repo: Option<&RepoPath>,
) -> Result<AppAtPath, CommandError> {
    let (_, config) = load_config(global)?;
    let configured = repo.and_then(|repo| {
        config.apps.iter().find(|app| {
            app.path == repo.app_path
                && Path::new(&app.repo)
                    .canonicalize()
                    .is_ok_and(|dir| dir == repo.repo_dir)
        })
    });
    if let Some(app) = configured {
        return Ok(AppAtPath {
            name: app.name.clone(),
            namespace: app.namespace.clone(),
            values: app.values.clone(),
        });
    }
    let name = crate::config::offer_work_tree_app(path)
        .map(|app| app.name)
        .or_else(|| {
            let absolute = std::path::absolute(path).ok()?;
            Some(absolute.file_name()?.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "app".to_string());
    Ok(AppAtPath {
        name,
        namespace: "default".to_string(),
        values: Vec::new(),
    })
}

/// The `-o json` document.
#[derive(Serialize)]
struct Report<'a> {
    path: &'a Path,
    revision: Option<&'a str>,
    /// False when any problem is an error.
    can_sync: bool,
    errors: usize,
    warnings: usize,
    objects: Vec<ObjectEntry<'a>>,
    problems: &'a [Problem],
}

#[derive(Serialize)]
struct ObjectEntry<'a> {
    #[serde(flatten)]
    id: &'a ObjectId,
    scope: Scope,
    origin: &'a Origin,
}

impl<'a> Report<'a> {
    fn new(path: &'a Path, revision: Option<&'a str>, checked: &'a Checked) -> Self {
        Report {
            path,
            revision,
            can_sync: checked.can_sync(),
            errors: checked.problems.count(Severity::Error),
            warnings: checked.problems.count(Severity::Warning),
            objects: checked
                .desired
                .objects
                .iter()
                .map(|object| ObjectEntry {
                    id: &object.id,
                    scope: object.scope,
                    origin: &object.origin,
                })
                .collect(),
            problems: checked.problems.as_slice(),
        }
    }
}
