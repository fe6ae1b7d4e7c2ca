//! Whether a commit may be deployed under the app's `require_signed`: the
//! one rule sync, auto-sync, rollback and the Commits pane share. Pure.

use crate::config::SignatureRequirement;
use crate::source::{SignatureFormat, SignatureStatus, SigningSetup};

/// Why a commit cannot be deployed: `unsigned`, `bad: …`,
/// `cannot_check: …`, or a good signature of the other kind. `None`: it
/// may be deployed. `signature` is `None` when it was not checked.
pub fn signature_refusal(
    requirement: SignatureRequirement,
    signature: Option<&SignatureStatus>,
) -> Option<String> {
    let wanted = match requirement {
        SignatureRequirement::None => return None,
        SignatureRequirement::Any => None,
        SignatureRequirement::Gpg => Some(SignatureFormat::Gpg),
        SignatureRequirement::Ssh => Some(SignatureFormat::Ssh),
    };
    match signature {
        None => Some("cannot_check: the signature was not checked".to_string()),
        Some(SignatureStatus::Unsigned) => Some("unsigned".to_string()),
        Some(SignatureStatus::Bad { reason }) => Some(format!("bad: {reason}")),
        Some(SignatureStatus::CannotCheck { reason }) => Some(format!("cannot_check: {reason}")),
        Some(SignatureStatus::Good { format, signer }) => match wanted {
            Some(wanted) if wanted != *format => Some(format!(
                "signed with {format} by {signer}, and require_signed = \"{wanted}\""
            )),
            _ => None,
        },
    }
}

/// Why a Git rollback of `app` must not be committed: its commit would not
/// be signed as `require_signed` asks (git is not set up to sign, or signs
/// with the other kind), so the sync after the push would refuse it. Asked
/// before anything is committed. `None`: it will be signed as required, or
/// nothing is required.
pub fn unsignable_rollback(
    app: &str,
    requirement: SignatureRequirement,
    signing: &SigningSetup,
) -> Option<String> {
    let (wanted, setting, kind) = match requirement {
        SignatureRequirement::None => return None,
        SignatureRequirement::Any => ("signed commits", "true", None),
        SignatureRequirement::Gpg => ("gpg-signed commits", "\"gpg\"", Some(SignatureFormat::Gpg)),
        SignatureRequirement::Ssh => ("ssh-signed commits", "\"ssh\"", Some(SignatureFormat::Ssh)),
    };
    let fix = match kind {
        Some(SignatureFormat::Ssh) => {
            "set user.signingkey (an SSH key), gpg.format = ssh and commit.gpgsign = true"
        }
        Some(_) => {
            "set user.signingkey (a gpg key), gpg.format = openpgp and commit.gpgsign = true"
        }
        None => {
            "set user.signingkey and commit.gpgsign = true (and gpg.format = ssh for an SSH key)"
        }
    };
    let format = &signing.format_name;
    let why = if !signing.sign {
        "git is not configured to sign".to_string()
    } else {
        match signing.format {
            None => format!("git's gpg.format \"{format}\" is not openpgp, x509 or ssh"),
            Some(made) if kind.is_some_and(|kind| kind != made) => {
                format!("git signs with {made} (gpg.format = {format})")
            }
            Some(SignatureFormat::Ssh) if signing.key.is_none() => {
                "git has no key to sign with (gpg.format = ssh and no user.signingkey)".to_string()
            }
            Some(_) => return None,
        }
    };
    Some(format!(
        "{app} requires {wanted} (require_signed = {setting}) and {why}: {fix}; nothing was committed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(sign: bool, format: &str, key: Option<&str>) -> SigningSetup {
        SigningSetup {
            sign,
            format_name: format.to_string(),
            format: match format {
                "openpgp" => Some(SignatureFormat::Gpg),
                "x509" => Some(SignatureFormat::X509),
                "ssh" => Some(SignatureFormat::Ssh),
                _ => None,
            },
            key: key.map(str::to_string),
        }
    }

    #[test]
    fn a_rollback_commit_git_will_not_sign_is_refused_naming_app_and_fix() {
        let unsigned = setup(false, "openpgp", None);
        assert_eq!(
            unsignable_rollback("api", SignatureRequirement::None, &unsigned),
            None
        );
        assert_eq!(
            unsignable_rollback("api", SignatureRequirement::Any, &unsigned).as_deref(),
            Some(
                "api requires signed commits (require_signed = true) and git is not configured to sign: set user.signingkey and commit.gpgsign = true (and gpg.format = ssh for an SSH key); nothing was committed"
            )
        );
        let ssh = setup(true, "ssh", Some("/home/olga/.ssh/id_ed25519"));
        let gpg = setup(true, "openpgp", None);
        assert_eq!(
            unsignable_rollback("api", SignatureRequirement::Any, &ssh),
            None
        );
        assert_eq!(
            unsignable_rollback("api", SignatureRequirement::Ssh, &ssh),
            None
        );
        assert_eq!(
            unsignable_rollback("api", SignatureRequirement::Gpg, &gpg),
            None
        );
        assert_eq!(
            unsignable_rollback("api", SignatureRequirement::Ssh, &gpg).as_deref(),
            Some(
                "api requires ssh-signed commits (require_signed = \"ssh\") and git signs with gpg (gpg.format = openpgp): set user.signingkey (an SSH key), gpg.format = ssh and commit.gpgsign = true; nothing was committed"
            )
        );
        let refused = unsignable_rollback("api", SignatureRequirement::Gpg, &ssh).unwrap();
        assert!(
            refused.contains("git signs with ssh (gpg.format = ssh)"),
            "{refused}"
        );
        let keyless =
            unsignable_rollback("api", SignatureRequirement::Ssh, &setup(true, "ssh", None));
        assert!(keyless.unwrap().contains("no user.signingkey"));
        let odd = unsignable_rollback("api", SignatureRequirement::Any, &setup(true, "pgp", None));
        assert!(
            odd.unwrap()
                .contains("gpg.format \"pgp\" is not openpgp, x509 or ssh")
        );
    }

    fn good(format: SignatureFormat) -> SignatureStatus {
        SignatureStatus::Good {
            signer: "alice".to_string(),
            format,
        }
    }

    #[test]
    fn without_a_requirement_every_commit_deploys() {
        assert_eq!(signature_refusal(SignatureRequirement::None, None), None);
        let unsigned = SignatureStatus::Unsigned;
        assert_eq!(
            signature_refusal(SignatureRequirement::None, Some(&unsigned)),
            None
        );
    }

    #[test]
    fn only_a_good_signature_of_the_asked_kind_deploys() {
        let any = SignatureRequirement::Any;
        assert_eq!(
            signature_refusal(any, Some(&good(SignatureFormat::Ssh))),
            None
        );
        assert_eq!(
            signature_refusal(any, Some(&SignatureStatus::Unsigned)).as_deref(),
            Some("unsigned")
        );
        let bad = SignatureStatus::Bad {
            reason: "the signature by alice does not match the commit".into(),
        };
        assert_eq!(
            signature_refusal(any, Some(&bad)).as_deref(),
            Some("bad: the signature by alice does not match the commit")
        );
        let unknown = SignatureStatus::CannotCheck {
            reason: "no public key for ABCD".into(),
        };
        assert_eq!(
            signature_refusal(any, Some(&unknown)).as_deref(),
            Some("cannot_check: no public key for ABCD")
        );
        assert!(
            signature_refusal(any, None)
                .unwrap()
                .starts_with("cannot_check")
        );
        let gpg = SignatureRequirement::Gpg;
        assert_eq!(
            signature_refusal(gpg, Some(&good(SignatureFormat::Gpg))),
            None
        );
        assert_eq!(
            signature_refusal(gpg, Some(&good(SignatureFormat::Ssh))).as_deref(),
            Some("signed with ssh by alice, and require_signed = \"gpg\"")
        );
        let ssh = SignatureRequirement::Ssh;
        assert!(signature_refusal(ssh, Some(&good(SignatureFormat::Gpg))).is_some());
    }
}
