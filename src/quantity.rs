//! The text of a Kubernetes resource quantity (`500m`, `1Gi`, `1e3`) read
//! into sign, digits, scale and suffix, once for both readers: drift
//! detection compares amounts, the simulated cluster writes canonical text.

/// The API server's name for how a quantity was written, which decides how
/// it writes the amount back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// No suffix or `n` … `E`: the power of ten is already in the scale.
    DecimalSi,
    /// `Ki` … `Ei`: the amount is further multiplied by `1024^power`.
    BinarySi { power: u32 },
    /// `e3`, `E-2`: the power of ten is already in the scale.
    DecimalExponent,
}

/// A quantity's amount, `digits × 10^-scale` (times `1024^power` for a
/// binary suffix), as it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub negative: bool,
    /// The significant digits, at most [`MAX_DIGITS`] of them.
    pub digits: u128,
    /// An `i64`, so that no exponent an `i32` can hold overflows it.
    pub scale: i64,
    pub format: Format,
}

/// Significant digits kept, so that a mantissa with two more digits (what
/// making its exponent a multiple of three takes) stays in a `u128` and
/// `i128`.
pub const MAX_DIGITS: usize = 36;

/// Reads `<sign><digits>[.<digits>]<suffix>`, where the suffix is a binary
/// (`Ki`…`Ei`) or decimal (`n`…`E`) multiplier or an exponent (`e3`);
/// `None` when the text is not a quantity.
pub fn parse(text: &str) -> Option<Parsed> {
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let (digits, fraction_places) = parse_digits(number)?;
    let (format, exponent) = match suffix {
        "Ki" => (Format::BinarySi { power: 1 }, 0),
        "Mi" => (Format::BinarySi { power: 2 }, 0),
        "Gi" => (Format::BinarySi { power: 3 }, 0),
        "Ti" => (Format::BinarySi { power: 4 }, 0),
        "Pi" => (Format::BinarySi { power: 5 }, 0),
        "Ei" => (Format::BinarySi { power: 6 }, 0),
        "n" => (Format::DecimalSi, -9),
        "u" => (Format::DecimalSi, -6),
        "m" => (Format::DecimalSi, -3),
        "" => (Format::DecimalSi, 0),
        "k" => (Format::DecimalSi, 3),
        "M" => (Format::DecimalSi, 6),
        "G" => (Format::DecimalSi, 9),
        "T" => (Format::DecimalSi, 12),
        "P" => (Format::DecimalSi, 15),
        "E" => (Format::DecimalSi, 18),
        _ => {
            // The API server reads the exponent as an int32.
            let exponent: i32 = suffix.strip_prefix(['e', 'E'])?.parse().ok()?;
            (Format::DecimalExponent, i64::from(exponent))
        }
    };
    Some(Parsed {
        negative,
        digits,
        scale: fraction_places - exponent,
        format,
    })
}

/// The significant digits of `123.45` and how many of them follow the point.
fn parse_digits(number: &str) -> Option<(u128, i64)> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let combined = format!("{whole}{fraction}");
    let significant = combined.trim_start_matches('0');
    if significant.len() > MAX_DIGITS {
        return None;
    }
    let digits = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    Some((digits, i64::try_from(fraction.len()).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (bool, u128, i64, Format) {
        let p = parse(text).unwrap();
        (p.negative, p.digits, p.scale, p.format)
    }

    #[test]
    fn the_suffix_becomes_scale_or_binary_power() {
        assert_eq!(parsed("250m"), (false, 250, 3, Format::DecimalSi));
        assert_eq!(parsed("-1.5k"), (true, 15, -2, Format::DecimalSi));
        assert_eq!(
            parsed("+0.5Gi"),
            (false, 5, 1, Format::BinarySi { power: 3 })
        );
        assert_eq!(parsed("12E-3"), (false, 12, 3, Format::DecimalExponent));
        assert_eq!(parsed(" 007 "), (false, 7, 0, Format::DecimalSi));
        assert_eq!(parsed(".5"), (false, 5, 1, Format::DecimalSi));
    }

    #[test]
    fn exponents_at_the_ends_of_i32_fit_the_scale() {
        assert_eq!(
            parsed("0.1e-2147483648").2,
            1 + 2_147_483_648,
            "scale of 0.1e-2147483648"
        );
        assert_eq!(parsed("1e2147483647").2, -2_147_483_647);
    }

    #[test]
    fn text_that_is_not_a_quantity_is_none() {
        let too_many_digits = "1".repeat(MAX_DIGITS + 1);
        for text in [
            "",
            "-",
            ".",
            "abc",
            "1.2.3",
            "1Xi",
            "Mi",
            "1e",
            "1ee3",
            "+-1",
            "1 Ki",
            "1Ki2",
            "1e2147483648",
            &too_many_digits,
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        let leading_zeros_do_not_count = format!("000{}", "1".repeat(MAX_DIGITS));
        assert!(parse(&leading_zeros_do_not_count).is_some());
    }
}
