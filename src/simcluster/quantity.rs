//! Resource quantities in the canonical form the API server stores them in:
//! `1000m` becomes `1`, `0.5` becomes `500m`, `1024Mi` becomes `1Gi`. What
//! was written in Git and what the cluster returns then differ in text but
//! not in amount, one of the reasons drift detection compares by meaning.

use crate::quantity::{self, Format, Parsed};

/// The regular expression the API server quotes when a quantity is invalid.
pub const QUANTITY_PATTERN: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// Nanos in one unit: the API server keeps no amount finer than a nano.
const NANO_SCALE: i64 = 9;
const NANOS_PER_UNIT: u128 = 1_000_000_000;
/// The largest binary-suffixed amount, in nanos; the API server caps larger
/// ones at `i64::MAX` (decimal ones it keeps exactly).
const BINARY_CAP_NANOS: u128 = i64::MAX as u128 * NANOS_PER_UNIT;

/// The canonical text of a quantity, or `None` when it is not one.
///
/// Nothing loops over the exponent: `1e-2000000000` costs what `1e-3`
/// does.
pub fn canonical(text: &str) -> Option<String> {
    let Parsed {
        negative,
        digits,
        scale,
        format,
    } = quantity::parse(text)?;
    let (digits, scale) = match format {
        Format::BinarySi { power } => {
            let nanos = binary_nanos(digits, scale, power)?;
            let whole = nanos / NANOS_PER_UNIT;
            if nanos.is_multiple_of(NANOS_PER_UNIT) && whole >= 1024 {
                return Some(binary_text(negative, whole));
            }
            // A fraction, or less than 1Ki: written in decimal.
            (nanos, NANO_SCALE)
        }
        Format::DecimalSi | Format::DecimalExponent if scale > NANO_SCALE => {
            // Below a nano the API server rounds up.
            let places = u64::try_from(scale - NANO_SCALE).ok()?;
            (ceil_scaled(digits, 0, places)?, NANO_SCALE)
        }
        Format::DecimalSi | Format::DecimalExponent => (digits, scale),
    };
    if digits == 0 {
        return Some("0".into());
    }
    let sign = if negative { "-" } else { "" };
    let (mantissa, exponent) = decimal_canonical(digits, scale.checked_neg()?)?;
    let suffix = match (format, exponent) {
        (Format::DecimalExponent, 0) => String::new(),
        (Format::DecimalExponent, other) => format!("e{other}"),
        (_, -9) => "n".into(),
        (_, -6) => "u".into(),
        (_, -3) => "m".into(),
        (_, 0) => String::new(),
        (_, 3) => "k".into(),
        (_, 6) => "M".into(),
        (_, 9) => "G".into(),
        (_, 12) => "T".into(),
        (_, 15) => "P".into(),
        (_, 18) => "E".into(),
        // Past `E` the API server falls back to an exponent.
        (_, other) => format!("e{other}"),
    };
    Some(format!("{sign}{mantissa}{suffix}"))
}

/// A binary amount in nanos, rounded up to a nano and capped as the API
/// server caps it.
fn binary_nanos(digits: u128, scale: i64, power: u32) -> Option<u128> {
    let shift = 10 * power;
    let nanos = if scale > NANO_SCALE {
        ceil_scaled(digits, shift, u64::try_from(scale - NANO_SCALE).ok()?)
    } else {
        u32::try_from(NANO_SCALE - scale)
            .ok()
            .and_then(|places| 10u128.checked_pow(places))
            .and_then(|factor| digits.checked_mul(factor))
            .and_then(|nanos| nanos.checked_mul(1u128 << shift))
    };
    // An amount past `u128` nanos is far past the cap it gets anyway.
    Some(nanos.unwrap_or(BINARY_CAP_NANOS).min(BINARY_CAP_NANOS))
}

/// `⌈x × 2^shift / 10^places⌉` for `shift` up to 60, or `None` past `u128`.
/// Long division one bit at a time keeps every step in a `u128` and the work
/// bounded by `shift`, not `places`.
fn ceil_scaled(x: u128, shift: u32, places: u64) -> Option<u128> {
    const WIDEST: u64 = 38;
    if places > WIDEST {
        // ⌈⌈a / b⌉ / c⌉ = ⌈a / bc⌉, so the division can come in two steps.
        let first = ceil_scaled(x, shift, WIDEST)?;
        let rest = u32::try_from(places - WIDEST)
            .ok()
            .and_then(|rest| 10u128.checked_pow(rest));
        return Some(match rest {
            Some(divisor) => first.div_ceil(divisor),
            None => u128::from(first != 0),
        });
    }
    let divisor = 10u128.pow(u32::try_from(places).ok()?);
    let whole = (x / divisor).checked_mul(1u128 << shift)?;
    let mut remainder = x % divisor;
    let mut fraction: u128 = 0;
    for _ in 0..shift {
        // Doubling the remainder could overflow; comparing with what is left
        // of the divisor cannot.
        fraction <<= 1;
        if remainder >= divisor - remainder {
            remainder -= divisor - remainder;
            fraction |= 1;
        } else {
            remainder *= 2;
        }
    }
    whole
        .checked_add(fraction)?
        .checked_add(u128::from(remainder != 0))
}

/// A whole binary amount of at least 1Ki with the largest suffix that
/// divides it.
fn binary_text(negative: bool, whole: u128) -> String {
    let mut amount = whole;
    let mut power = 0;
    while power < 6 && amount.is_multiple_of(1024) {
        amount /= 1024;
        power += 1;
    }
    let sign = if negative { "-" } else { "" };
    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
    format!("{sign}{amount}{suffix}")
}

/// Mantissa and an exponent that is a multiple of three, with no trailing
/// zeros left in the mantissa that a larger exponent could absorb.
fn decimal_canonical(mut mantissa: u128, mut exponent: i64) -> Option<(u128, i64)> {
    while mantissa != 0 && mantissa.is_multiple_of(10) {
        mantissa /= 10;
        exponent = exponent.checked_add(1)?;
    }
    while exponent.rem_euclid(3) != 0 {
        mantissa = mantissa.checked_mul(10)?;
        exponent -= 1;
    }
    Some((mantissa, exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_take_the_api_servers_canonical_form() {
        let cases = [
            ("1000m", "1"),
            ("0.5", "500m"),
            ("2.5", "2500m"),
            ("100m", "100m"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("512Ki", "512Ki"),
            ("0.5Gi", "512Mi"),
            ("0.5Ki", "512"),
            ("1.5Ki", "1536"),
            ("-1.5Gi", "-1536Mi"),
            ("1.5k", "1500"),
            ("2000", "2k"),
            ("1G", "1G"),
            ("1000E", "1e21"),
            ("1e3", "1e3"),
            ("0", "0"),
            ("-0.0", "0"),
            ("100", "100"),
            ("128974848", "128974848"),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical(input).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn amounts_below_a_nano_round_up_to_one() {
        assert_eq!(canonical("0.1n").as_deref(), Some("1n"));
        assert_eq!(canonical("1.0000000001").as_deref(), Some("1000000001n"));
        assert_eq!(canonical("0.0000000000001Ki").as_deref(), Some("1n"));
        assert_eq!(
            canonical("1.0000000001Ki").as_deref(),
            Some("1024000000103n")
        );
    }

    #[test]
    fn huge_exponents_both_ways_take_their_canonical_form() {
        let cases = [
            ("1e-2000000000", "1e-9"),
            ("-1e-2000000000", "-1e-9"),
            ("1e-2147483648", "1e-9"),
            ("1e2000000000", "100e1999999998"),
            ("1e2147483647", "10e2147483646"),
            ("1.5e2147483647", "15e2147483646"),
            ("1000e2147483647", "10e2147483649"),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical(input).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn binary_amounts_past_the_cap_are_capped() {
        for input in ["123456789012345678901Ei", "8Ei"] {
            assert_eq!(canonical(input).as_deref(), Some("9223372036854775807"));
        }
        assert_eq!(canonical("-8Ei").as_deref(), Some("-9223372036854775807"));
        // Decimal amounts are kept exactly.
        assert_eq!(
            canonical("9223372036854775808").as_deref(),
            Some("9223372036854775808")
        );
    }

    #[test]
    fn binary_fractions_too_wide_for_u128_keep_their_exact_amount() {
        // 21 digits times 2^60 passes u128 before the division brings it back.
        assert_eq!(
            canonical("0.000000000123456789012345678901Ei").as_deref(),
            Some("142335986942043634n")
        );
        let widest = format!("0.00001{}1Ei", "0".repeat(34));
        assert_eq!(
            canonical(&widest).as_deref(),
            Some("11529215046068469760001n")
        );
        let past_u128_divisor = format!("0.{}{}Ei", "0".repeat(24), "9".repeat(36));
        assert_eq!(canonical(&past_u128_divisor).as_deref(), Some("1153n"));
    }

    #[test]
    fn text_that_is_not_a_quantity_is_rejected() {
        for input in ["abc", "1.2.3", "10Xi", "", "1e", "1e2147483648", "1Ki2"] {
            assert_eq!(canonical(input), None, "{input}");
        }
    }
}
