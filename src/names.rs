//! The name rules of Kubernetes (RFC 1123 and 1035 labels, subdomains,
//! qualified names, label values), as predicates. Each caller words its own
//! message: the manifests check and the config speak to people, the
//! simulated cluster answers as the API server does.

/// The longest label, label value or qualified name part.
pub const LABEL_MAX: usize = 63;
/// The longest subdomain.
pub const SUBDOMAIN_MAX: usize = 253;

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters: namespaces,
/// app names.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() <= LABEL_MAX
        && b.first().is_some_and(|&c| is_lower_alnum(c))
        && b.last().is_some_and(|&c| is_lower_alnum(c))
        && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

/// RFC 1123 labels joined by dots, at most 253 characters: most object names.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= SUBDOMAIN_MAX && s.split('.').all(is_dns1123_label)
}

/// An RFC 1123 label that starts with a letter: Service names.
pub fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters: the
/// name part of a label or annotation key, and a non-empty label value.
pub fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() <= LABEL_MAX
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A label value: empty, or a qualified name part.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_qualified_name_part(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        for good in ["a", "web-1", "0", &"a".repeat(63)] {
            assert!(is_dns1123_label(good), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a.b", "a_b", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
        assert!(is_dns1123_subdomain("example.com"));
        assert!(!is_dns1123_subdomain("example..com"));
        assert!(!is_dns1123_subdomain(&format!("{}.b", "a".repeat(252))));
        assert!(is_dns1035_label("web") && !is_dns1035_label("1web"));
    }

    #[test]
    fn qualified_parts_and_label_values() {
        for good in ["MyName", "my.name", "my_name", "1"] {
            assert!(is_qualified_name_part(good), "{good}");
        }
        for bad in ["", ".a", "a_", "a b", "é", &"a".repeat(64)] {
            assert!(!is_qualified_name_part(bad), "{bad}");
        }
        assert!(is_label_value("") && !is_label_value("-"));
    }
}
