//! A bounded fuzz run of the loader and validator: the corpus files, mutated
//! by a seeded random generator, must never panic and must give results that
//! hold together. `DRIFTDECK_FUZZ_ITERATIONS` and `DRIFTDECK_FUZZ_SEED` make
//! longer or other runs; a failure prints the seed and the input.

use std::path::{Path, PathBuf};

use driftdeck::manifests::{ManifestFile, Severity, check_files};

#[path = "../../common/random.rs"]
mod random;
use random::Random;

/// Pieces of YAML and JSON syntax that make parsers take unusual paths.
const TOKENS: &[&[u8]] = &[
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"[",
    b"]",
    b"{",
    b"}",
    b"---\n",
    b"...\n",
    b": ",
    b"- ",
    b"\t",
    b"\0",
    b"\xff",
    b"\xc3",
    b"'",
    b"\"",
    b"|\n",
    b">-\n",
    b"!!binary ",
    b"!tag ",
    b"? ",
    b"#",
    b"%YAML 1.2\n",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"kind: List\nitems:\n- ",
    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    b"1e999",
    b".nan",
    b"~",
];

fn mutate(bytes: &mut Vec<u8>, random: &mut Random) {
    for _ in 0..=random.below(4) {
        let at = random.below(bytes.len() + 1);
        match random.below(6) {
            0 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] ^= 1 << random.below(8);
            }
            1 => bytes.insert(at, random.next() as u8),
            2 => {
                let end = (at + random.below(32)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + random.below(64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                let to = random.below(bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
            _ => {
                let token = TOKENS[random.below(TOKENS.len())];
                bytes.splice(at..at, token.iter().copied());
            }
        }
    }
}

fn corpus_files() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/manifests");
    let mut files = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                let name = path.file_name().unwrap().into();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn mutated_manifests_never_break_the_loader() {
    let iterations: usize = std::env::var("DRIFTDECK_FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1500);
    let seed: u64 = std::env::var("DRIFTDECK_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5eed_d81f_7dec_0005);
    let corpus = corpus_files();
    assert!(corpus.len() >= 15, "the corpus is missing");
    let mut random = Random(seed);
    for iteration in 0..iterations {
        let (name, original) = &corpus[random.below(corpus.len())];
        let mut bytes = original.clone();
        mutate(&mut bytes, &mut random);
        let context = || {
            format!(
                "seed {seed}, iteration {iteration}, {}:\n{}",
                name.display(),
                String::from_utf8_lossy(&bytes)
            )
        };
        let file = ManifestFile {
            path: name.clone(),
            bytes: bytes.clone(),
            rendered_by: None,
        };
        let checked = check_files(std::slice::from_ref(&file), Path::new("app"), "default");
        let lines = bytes.split(|&b| b == b'\n').count();
        assert!(
            !checked.desired.objects.is_empty() || checked.problems.has_errors(),
            "nothing loaded and no error: {}",
            context()
        );
        for object in &checked.desired.objects {
            assert_eq!(
                object.origin.file,
                Path::new("app").join(name),
                "{}",
                context()
            );
            assert!(
                (1..=lines).contains(&object.origin.line),
                "{object:?}: {}",
                context()
            );
        }
        for problem in &checked.problems {
            assert!(!problem.message.is_empty(), "{}", context());
            assert!(!problem.message.contains('\n'), "{problem}: {}", context());
            if let Some(line) = problem.line {
                assert!((1..=lines).contains(&line), "{problem}: {}", context());
            }
            if problem.severity == Severity::Warning {
                assert!(problem.object.is_some(), "{problem}: {}", context());
            }
        }
        let again = check_files(std::slice::from_ref(&file), Path::new("app"), "default");
        assert_eq!(again, checked, "not deterministic: {}", context());
    }
}
