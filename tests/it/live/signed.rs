//! `require_signed`: a sync (through the built binary) of an unsigned
//! head is refused before anything is written; a head signed with an ssh
//! key made here, among git's allowed signers, is synced; a rollback to the
//! unsigned commit is refused as the head was, and pins nothing.

use super::support::{APP, World};
use super::watch::configure;
use crate::source::signatures::ssh_key;
use crate::source::support::have;

#[tokio::test]
async fn an_unsigned_head_or_rollback_target_is_refused_and_a_signed_one_is_synced() {
    super::sim::within_timeout(async {
        if !have("ssh-keygen", "-?") {
            return;
        }
        let world = World::new().await;
        configure(&world, "require_signed = \"ssh\"\n");
        let unsigned = world.git(&["rev-parse", "HEAD"]);
        world.sim.metrics().reset();
        let run = world.driftdeck(&["sync", APP, "--yes"]).await;
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "commit {} cannot be deployed: unsigned",
                &unsigned[..7]
            )),
            "{}",
            run.stderr
        );
        assert_eq!(world.writes(), 0, "nothing may be written");

        // git (and driftdeck through gix) trust the key from the operator's
        // global config, as a team would set it up.
        let (key, allowed) = ssh_key(world.dir.path(), "signer");
        let allowed_file = world.path("allowed_signers");
        std::fs::write(&allowed_file, allowed).unwrap();
        let home = world.path("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            format!(
                "[gpg \"ssh\"]\n\tallowedSignersFile = {}\n",
                allowed_file.display()
            ),
        )
        .unwrap();
        world.git(&[
            "config",
            "gpg.ssh.allowedSignersFile",
            allowed_file.to_str().unwrap(),
        ]);
        let signing_key = format!("user.signingkey={}", key.display());
        world.git(&[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing_key,
            "commit",
            "-S",
            "--allow-empty",
            "-qm",
            "signed",
        ]);
        let signed = world.git(&["rev-parse", "HEAD"]);
        let run = world.driftdeck(&["sync", APP, "--yes"]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let log = world.driftdeck(&["log", APP, "-o", "json"]).await;
        let entries: serde_json::Value = serde_json::from_str(&log.stdout).unwrap();
        assert_eq!(entries[0]["id"], signed.as_str());
        assert_eq!(entries[0]["signature"]["status"], "good", "{}", log.stdout);
        assert_eq!(entries[0]["signature"]["format"], "ssh");

        // A rollback target is held to the same rule as the head.
        world.sim.metrics().reset();
        let run = world
            .driftdeck(&["rollback", APP, "--to", &unsigned, "--yes"])
            .await;
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "commit {} cannot be deployed: unsigned",
                &unsigned[..7]
            )),
            "{}",
            run.stderr
        );
        assert_eq!(world.writes(), 0, "nothing may be written");
        let report = world.status().await;
        assert_eq!(report["desired_revision"], signed.as_str(), "{report:#}");
        assert_eq!(report["pinned"], serde_json::Value::Null, "{report:#}");
    })
    .await;
}
