//! Keeps `State::listing` current: which apps and resources the lists
//! show and in what order, after a verdict, a sort, a filter or a context
//! change. The cursors stay on the app and the resource they were on.

use super::app_state::AppState;
use super::order::{SortMode, sort_apps, sort_resources};
use super::pane::Pane;
use super::state::State;
use crate::drift::ResourceKey;
use crate::text;

/// What the cursors are on, taken before a change so that they can be put
/// back on it after.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    app: Option<usize>,
    resource: Option<ResourceKey>,
}

impl Selection {
    pub fn of(state: &State) -> Selection {
        Selection {
            app: state.selected_app_index(),
            resource: state.selected_resource().map(|r| r.key.clone()),
        }
    }
}

/// Lists the apps and the selected app's resources anew.
pub fn relist(state: &mut State) {
    let selection = Selection::of(state);
    relist_keeping(state, selection);
}

/// The same, the cursors put on what `selection` says they were on.
pub fn relist_keeping(state: &mut State, selection: Selection) {
    let selected = selection.app;
    let query = state.query(Pane::Apps);
    let context = state.context_view.as_deref();
    let mut apps: Vec<usize> = state
        .apps
        .iter()
        .enumerate()
        .filter(|(_, app)| context.is_none_or(|c| app.context.as_deref() == Some(c)))
        .filter(|(_, app)| query.matches_app(app))
        .map(|(i, _)| i)
        .collect();
    sort_apps(&state.apps, state.sort, &mut apps);
    let moved = apps
        .iter()
        .position(|&i| Some(i) == selected)
        .filter(|_| state.app_chosen || state.focus != Pane::Apps);
    state.listing.apps = apps;
    match moved {
        Some(position) => state.cursors.apps.selected = position,
        // Not picked yet, or filtered out: the first one listed, from the top.
        None => {
            state.cursors.apps.selected = 0;
            state.cursors.resources = Default::default();
        }
    }
    // The resource cursor stays on its resource once the operator works in
    // the resources; from the apps, it goes to what needs attention most.
    let engaged = matches!(state.focus, Pane::Resources | Pane::Diff);
    let resource = if state.selected_app_index() == selected && engaged {
        selection.resource
    } else {
        state.cursors.resources = Default::default();
        None
    };
    list_resources(state, resource);
}

/// Lists the selected app's resources anew, the cursor on the same one.
pub fn relist_resources(state: &mut State) {
    let selected = state.selected_resource().map(|r| r.key.clone());
    list_resources(state, selected);
}

/// Lists the resources of an app just selected, the cursor at the top.
pub fn list_new_app(state: &mut State) {
    list_resources(state, None);
}

/// Puts an app's resources in the order `mode` asks for, once per report
/// and per change of sort.
pub fn sort_app(app: &mut AppState, mode: SortMode) {
    let Some(report) = &app.report else {
        app.sorted.clear();
        return;
    };
    let mut order: Vec<usize> = (0..report.resources.len()).collect();
    sort_resources(&report.resources, mode, &mut order);
    app.sorted = order;
}

/// The selected app's sorted resources that pass the filter, and the widths
/// of their columns.
fn list_resources(state: &mut State, selected: Option<ResourceKey>) {
    let query = state.query(Pane::Resources);
    let listed: Vec<usize> = match state.selected_app() {
        Some(AppState {
            report: Some(report),
            sorted,
            ..
        }) => {
            let resources = &report.resources;
            if query.is_empty() {
                sorted.clone()
            } else {
                sorted
                    .iter()
                    .copied()
                    .filter(|&i| resources.get(i).is_some_and(|r| query.matches_resource(r)))
                    .collect()
            }
        }
        _ => Vec::new(),
    };
    state.listing.resources = listed;
    let (mut kind_width, mut name_width) = (0, 0);
    for resource in state.listed_resources() {
        let key = &resource.key;
        let namespace = key.namespace.as_deref().map_or(0, |ns| text::width(ns) + 1);
        kind_width = kind_width.max(text::width(&key.kind));
        name_width = name_width.max(namespace + text::width(&key.name));
    }
    state.listing.kind_width = kind_width;
    state.listing.name_width = name_width;
    let position = selected.and_then(|key| state.listed_resources().position(|r| r.key == key));
    if let Some(position) = position {
        state.cursors.resources.selected = position;
    }
}
