//! Whether a commit may be deployed under the app's `require_signed`: the
//! one rule sync, auto-sync, rollback and the Commits pane share. Pure.

use crate::config::SignatureRequirement;
use crate::source::{SignatureFormat, SignatureStatus};

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

#[cfg(test)]
mod tests {
    use super::*;

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
