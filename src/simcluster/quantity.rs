//! Resource quantities in the canonical form the API server stores them in:
//! `1000m` becomes `1`, `0.5` becomes `500m`, `1024Mi` becomes `1Gi`. What
//! was written in Git and what the cluster returns then differ in text but
//! not in amount, one of the reasons drift detection compares by meaning.

/// The regular expression the API server quotes when a quantity is invalid.
pub const QUANTITY_PATTERN: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// The canonical text of a quantity, or `None` when it is not one.
pub fn canonical(text: &str) -> Option<String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (mut unscaled, mut scale) = parse_decimal(digits)?;
    let format = match suffix {
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let power = match suffix {
                "Ki" => 1,
                "Mi" => 2,
                "Gi" => 3,
                "Ti" => 4,
                "Pi" => 5,
                _ => 6,
            };
            unscaled = unscaled.checked_mul(1024i128.checked_pow(power)?)?;
            Format::BinarySi
        }
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => {
            let exponent: i32 = match suffix {
                "n" => -9,
                "u" => -6,
                "m" => -3,
                "k" => 3,
                "M" => 6,
                "G" => 9,
                "T" => 12,
                "P" => 15,
                "E" => 18,
                _ => 0,
            };
            scale -= exponent;
            Format::DecimalSi
        }
        _ => {
            let exponent_text = suffix.strip_prefix(['e', 'E'])?;
            let exponent: i32 = exponent_text.parse().ok()?;
            scale = scale.checked_sub(exponent)?;
            Format::DecimalExponent
        }
    };
    // Below a nano the API server rounds up.
    while scale > 9 {
        let rounded_up = unscaled % 10 != 0;
        unscaled = unscaled / 10 + i128::from(rounded_up);
        scale -= 1;
    }
    while scale < 0 {
        unscaled = unscaled.checked_mul(10)?;
        scale += 1;
    }
    while scale > 0 && unscaled % 10 == 0 {
        unscaled /= 10;
        scale -= 1;
    }
    if unscaled == 0 {
        return Some("0".into());
    }
    let sign = if negative { "-" } else { "" };
    if format == Format::BinarySi && scale == 0 && unscaled >= 1024 {
        let mut amount = unscaled;
        let mut power = 0;
        while power < 6 && amount % 1024 == 0 {
            amount /= 1024;
            power += 1;
        }
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
        return Some(format!("{sign}{amount}{suffix}"));
    }
    let (mantissa, exponent) = decimal_canonical(unscaled, -scale);
    let suffix = if format == Format::DecimalExponent {
        if exponent == 0 {
            String::new()
        } else {
            format!("e{exponent}")
        }
    } else {
        match exponent {
            -9 => "n".into(),
            -6 => "u".into(),
            -3 => "m".into(),
            0 => String::new(),
            3 => "k".into(),
            6 => "M".into(),
            9 => "G".into(),
            12 => "T".into(),
            15 => "P".into(),
            18 => "E".into(),
            other => format!("e{other}"),
        }
    };
    Some(format!("{sign}{mantissa}{suffix}"))
}

fn parse_decimal(digits: &str) -> Option<(i128, i32)> {
    if digits.is_empty() || digits == "." {
        return None;
    }
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if !whole
        .chars()
        .chain(fraction.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let combined = format!("{whole}{fraction}");
    let unscaled: i128 = combined.trim_start_matches('0').parse().unwrap_or(0);
    if combined.trim_start_matches('0').len() > 36 {
        return None;
    }
    Some((unscaled, i32::try_from(fraction.len()).ok()?))
}

/// Mantissa and an exponent that is a multiple of three, with no trailing
/// zeros left in the mantissa that a larger exponent could absorb.
fn decimal_canonical(mut mantissa: i128, mut exponent: i32) -> (i128, i32) {
    while mantissa % 10 == 0 {
        mantissa /= 10;
        exponent += 1;
    }
    while exponent.rem_euclid(3) != 0 {
        mantissa *= 10;
        exponent -= 1;
    }
    (mantissa, exponent)
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
            ("1.5k", "1500"),
            ("2000", "2k"),
            ("1G", "1G"),
            ("1e3", "1e3"),
            ("0", "0"),
            ("100", "100"),
            ("128974848", "128974848"),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical(input).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn text_that_is_not_a_quantity_is_rejected() {
        for input in ["abc", "1.2.3", "10Xi", "", "1e"] {
            assert_eq!(canonical(input), None, "{input}");
        }
    }
}
