//! Hostile inputs: each is an error at a known place, in bounded time (the
//! run has a timeout) and bounded memory (the run has a 1 GiB address-space
//! limit), never a panic or a hang.

use std::path::Path;
use std::process::Command;

use super::support::{Run, driftdeck, run};

/// `driftdeck check .` in `dir` with its address space limited to 1 GiB:
/// a memory blow-up makes it abort instead of exiting 1.
fn check_bounded(dir: &Path) -> Run {
    let home = tempfile::tempdir().unwrap();
    let probe = driftdeck(dir, home.path());
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" check .")
        .arg(probe.get_program())
        .current_dir(dir)
        .envs(probe.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env_remove("DRIFTDECK_CONFIG");
    run(command)
}

fn assert_refused(dir: &Path, expected: &str) {
    let run = check_bounded(dir);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (1, expected),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn an_alias_bomb_stops_at_the_node_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n");
    text.push_str(
        "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        text.push_str(&format!("  {}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    std::fs::write(dir.path().join("bomb.yaml"), text).unwrap();
    assert_refused(
        dir.path(),
        "bomb.yaml:11: error: the document expands to more than 250000 YAML nodes (an alias bomb?)\n",
    );
}

#[test]
fn a_50_mb_file_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let line = format!("  k: {}\n", "x".repeat(1000));
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(&line);
    }
    let size = text.len();
    std::fs::write(dir.path().join("big.yaml"), text).unwrap();
    assert_refused(
        dir.path(),
        &format!("big.yaml: error: the file is {size} bytes, more than the limit of 16 MiB\n"),
    );
}

#[test]
fn ten_thousand_levels_of_nesting_stop_at_128() {
    let dir = tempfile::tempdir().unwrap();
    let block = format!("{}x\n", "- ".repeat(10_000));
    let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let maps = format!("a: {}1{}\n", "{a: ".repeat(10_000), "}".repeat(10_000));
    std::fs::write(dir.path().join("block.yaml"), block).unwrap();
    std::fs::write(dir.path().join("flow.json"), flow).unwrap();
    std::fs::write(dir.path().join("maps.yaml"), maps).unwrap();
    assert_refused(
        dir.path(),
        "block.yaml:1: error: nested more than 128 levels deep (at column 257)\n\
         flow.json:1: error: nested more than 128 levels deep (at column 129)\n\
         maps.yaml:1: error: nested more than 128 levels deep (at column 512)\n",
    );
}

#[test]
fn binary_garbage_is_not_parsed() {
    let dir = tempfile::tempdir().unwrap();
    // A fixed xorshift stream: the same garbage on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let garbage: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let nul = garbage.iter().position(|&b| b == 0).unwrap();
    let line = garbage[..nul].iter().filter(|&&b| b == b'\n').count() + 1;
    std::fs::write(dir.path().join("garbage.yaml"), &garbage).unwrap();
    let run = check_bounded(dir.path());
    assert_eq!(run.code, 1, "{run:?}");
    let prefix = format!("garbage.yaml:{line}: error: binary data (a NUL byte at column ");
    assert!(run.stdout.starts_with(&prefix), "{}", run.stdout);
    assert!(
        run.stdout.ends_with("), not YAML or JSON\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn invalid_utf8_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n";
    std::fs::write(dir.path().join("latin1.yaml"), text).unwrap();
    assert_refused(
        dir.path(),
        "latin1.yaml:4: error: not valid UTF-8 (at column 12); manifests must be UTF-8\n",
    );
}

#[test]
fn an_empty_folder_is_an_empty_desired_state() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        dir.path(),
        ".: error: no Kubernetes objects: the desired state is empty\n",
    );
}

#[test]
fn symbolic_link_loops_are_reported_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::os::unix::fs::symlink("b.yaml", root.join("a.yaml")).unwrap();
    std::os::unix::fs::symlink("a.yaml", root.join("b.yaml")).unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
    std::fs::write(
        root.join("sub/settings.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    )
    .unwrap();
    assert_refused(
        root,
        "a.yaml: error: symbolic link loop: the link never reaches a file\n\
         b.yaml: error: symbolic link loop: the link never reaches a file\n\
         sub/up: error: symbolic link loop: the link leads back to a folder above it\n",
    );
}

#[test]
fn links_inside_the_folder_are_followed_and_links_out_of_it_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("base")).unwrap();
    std::fs::write(
        root.join("base/settings.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("base", root.join("current")).unwrap();
    std::fs::write(outside.path().join("secret.yaml"), "kind: Secret\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("stolen.yaml"))
        .unwrap();
    let run = check_bounded(root);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "current/settings.yaml:1: error: ConfigMap \"default/settings\": defined more than once, first at base/settings.yaml:1\n\
             stolen.yaml: error: symbolic link to \"{}\" leads out of the app folder\n",
            outside.path().join("secret.yaml").display()
        )
    );
}

#[test]
fn folders_too_deep_and_too_many_files_stop_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    let config_map =
        |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    let deep: std::path::PathBuf = std::iter::repeat_n("d", 40).collect();
    std::fs::create_dir_all(dir.path().join(&deep)).unwrap();
    std::fs::write(dir.path().join(&deep).join("deep.yaml"), config_map("deep")).unwrap();
    let many = dir.path().join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..10_001 {
        std::fs::write(
            many.join(format!("{i:05}.yaml")),
            config_map(&format!("c{i}")),
        )
        .unwrap();
    }
    let shallow: std::path::PathBuf = std::iter::repeat_n("d", 33).collect();
    assert_refused(
        dir.path(),
        &format!(
            ".: error: more than 10000 manifest files; the rest is not read\n\
             {}: error: folders nested more than 32 levels deep are not read\n",
            shallow.display()
        ),
    );
}
