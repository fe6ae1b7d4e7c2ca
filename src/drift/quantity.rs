//! Kubernetes resource quantities (`500m`, `1Gi`, `1e3`), compared by the
//! amount they stand for rather than by how they are written.

use serde_json::Value;

use crate::quantity::{self, Format};

/// An exact amount: `mantissa × 10^exponent`, with trailing zeros moved into
/// the exponent so that equal amounts have equal representations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    mantissa: i128,
    exponent: i32,
}

impl Quantity {
    /// A quantity from a YAML/JSON value: a string such as `"250m"` or a
    /// number such as `1` or `0.5`.
    pub fn from_value(value: &Value) -> Option<Quantity> {
        match value {
            Value::String(text) => Quantity::parse(text),
            Value::Number(number) => Quantity::parse(&number.to_string()),
            _ => None,
        }
    }

    /// Reads a quantity's text (see [`crate::quantity::parse`]); `None`
    /// when it is not one or its amount does not fit.
    pub fn parse(text: &str) -> Option<Quantity> {
        let parsed = quantity::parse(text)?;
        let mut mantissa = i128::try_from(parsed.digits).ok()?;
        if let Format::BinarySi { power } = parsed.format {
            mantissa = mantissa.checked_mul(1024_i128.checked_pow(power)?)?;
        }
        if parsed.negative {
            mantissa = -mantissa;
        }
        let exponent = i32::try_from(parsed.scale.checked_neg()?).ok()?;
        Quantity::normalized(mantissa, exponent)
    }

    /// Moves trailing zeros into the exponent; `None` when the exponent
    /// then passes `i32` (such an amount is compared as text).
    fn normalized(mut mantissa: i128, mut exponent: i32) -> Option<Quantity> {
        if mantissa == 0 {
            return Some(Quantity {
                mantissa: 0,
                exponent: 0,
            });
        }
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent = exponent.checked_add(1)?;
        }
        Some(Quantity { mantissa, exponent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap()
    }

    #[test]
    fn quantity_1000m_equals_1() {
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(Quantity::from_value(&json!(1)), Some(q("1000m")));
        assert_eq!(Quantity::from_value(&json!(0.5)), Some(q("500m")));
    }

    #[test]
    fn quantity_1gi_equals_1024mi() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_ne!(q("1Gi"), q("1G"));
    }

    #[test]
    fn decimal_and_exponent_forms_agree() {
        assert_eq!(q("1k"), q("1e3"));
        assert_eq!(q("1.5"), q("1500m"));
        assert_eq!(q("0.1"), q("100m"));
        assert_eq!(q("1E"), q("1e18"));
        assert_eq!(q("+2"), q("2"));
        assert_ne!(q("-2"), q("2"));
        assert_eq!(q("0"), q("0m"));
    }

    #[test]
    fn not_a_quantity_is_none() {
        for text in ["", "abc", "1.2.3", "1Xi", "Mi", "1e", "1ee3", "."] {
            assert_eq!(Quantity::parse(text), None, "{text}");
        }
        assert_eq!(Quantity::from_value(&json!(true)), None);
    }

    #[test]
    fn huge_quantity_does_not_overflow() {
        assert_eq!(
            Quantity::parse("999999999999999999999999999999999999999999Ei"),
            None
        );
    }

    #[test]
    fn exponents_at_the_edge_of_i32_are_quantities() {
        assert_eq!(q("1e2147483647"), q("1.0e2147483647"));
        assert_eq!(q("1e-2147483647"), q("10e-2147483648"));
        assert_ne!(q("1e2147483647"), q("1e2147483646"));
    }

    #[test]
    fn exponents_past_i32_are_not_quantities() {
        // Trailing zeros moved into the exponent push it past i32.
        for text in ["10e2147483647", "1000e2147483647", "0.1e-2147483648"] {
            assert_eq!(Quantity::parse(text), None, "{text}");
        }
    }
}
