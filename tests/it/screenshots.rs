//! `screenshots/regenerate` still runs (one scene, into a temporary
//! folder), and its converter draws what tmux captures.

use std::path::PathBuf;
use std::process::Command;

use crate::ansi_svg::{Backdrop, to_svg};
use crate::tui::terminal::BINARY;

fn width_of(c: char) -> usize {
    driftdeck::text::char_width(c)
}

/// The converter example `cargo test` builds beside the test binaries.
fn converter() -> Option<PathBuf> {
    let deps = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let example = deps.parent()?.join("examples/ansi_svg");
    example.exists().then_some(example)
}

#[test]
fn the_script_draws_a_scene_of_the_demo() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (CI installs it)");
        return;
    }
    let Some(converter) = converter() else {
        eprintln!("skipped: the ansi_svg example is not built (a whole `cargo test` builds it)");
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/screenshots/regenerate"
    ))
    .env("SCENES", "apps-80x24")
    .env("OUT", out.path())
    .env("TMPDIR", out.path())
    .env("DRIFTDECK_BIN", BINARY)
    .env("ANSI_SVG_BIN", &converter)
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "the script failed: {stderr}");
    let svg = std::fs::read_to_string(out.path().join("apps-80x24.svg")).unwrap();
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
    for shown in [
        "▶ api ",
        " shop ",
        " payments ",
        "driftdeck demo",
        "OutOfSync",
    ] {
        assert!(svg.contains(shown), "{shown} is not drawn: {svg}");
    }
    // Only the picture is left: the script's scratch folder and the demo's are gone.
    let left: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["apps-80x24.svg"]);
}

#[test]
fn colours_and_attributes_become_fills_and_runs() {
    let capture = "\u{1b}[1m\u{1b}[38;2;229;192;123mOutOfSync\u{1b}[0m <ok> & \u{1b}[7m\u{1b}[38;5;196msel\u{1b}[0m\n\u{1b}[32m✓\u{1b}[39m next\n";
    let svg = to_svg(capture, 20, 2, Backdrop::Dark, &width_of);
    assert!(
        svg.contains("fill=\"#e5c07b\" font-weight=\"bold\">OutOfSync</text>"),
        "{svg}"
    );
    assert!(svg.contains("&lt;ok&gt; &amp;"), "{svg}");
    // Reverse video: the colour becomes the background, the text the backdrop's.
    assert!(svg.contains("fill=\"#ff0000\"/>"), "{svg}");
    assert!(svg.contains("fill=\"#1e1e1e\">sel</text>"), "{svg}");
    // The second line, its check mark green, the rest in the default colour.
    assert!(svg.contains("y=\"40.3\""), "{svg}");
    assert!(svg.contains("fill=\"#0dbc79\""), "{svg}");
    // Columns count cells: "sel" starts after 9 + 8 cells.
    assert!(svg.contains("x=\"152.8\""), "{svg}");
    let light = to_svg("plain", 5, 1, Backdrop::Light, &width_of);
    assert!(light.contains("fill=\"#ffffff\"/>") && light.contains("fill=\"#24292f\">plain"));
}
