//! Equality by meaning: numbers by value (`1` equals `1.0`), quantities by
//! amount where the schema says quantity, everything else exactly.

use serde_json::{Number, Value};

use super::quantity::Quantity;

/// Whether two scalars mean the same; `quantity` says the field holds a
/// Kubernetes quantity, so `"1000m"`, `"1"` and `1` are one amount.
pub(crate) fn scalars_equal(a: &Value, b: &Value, quantity: bool) -> bool {
    if quantity && let (Some(x), Some(y)) = (Quantity::from_value(a), Quantity::from_value(b)) {
        return x == y;
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        _ => a == b,
    }
}

/// Deep equality with numbers compared by value.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| values_equal(v, w))
        }
        _ => scalars_equal(a, b, false),
    }
}

/// Null, `""`, `{}` and `[]` all mean "not set" to the API server.
pub(crate) fn is_empty_like(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn numbers_equal(a: &Number, b: &Number) -> bool {
    let exact = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_equals_one_point_zero() {
        assert!(scalars_equal(&json!(1), &json!(1.0), false));
        assert!(!scalars_equal(&json!(1), &json!(1.5), false));
        assert!(scalars_equal(&json!(u64::MAX), &json!(u64::MAX), false));
    }

    #[test]
    fn int_or_string_compares_as_written() {
        assert!(!scalars_equal(&json!(8080), &json!("8080"), false));
        assert!(!scalars_equal(&json!("25%"), &json!("25"), false));
    }

    #[test]
    fn quantities_compare_only_where_the_schema_says_so() {
        assert!(scalars_equal(&json!("1000m"), &json!(1), true));
        assert!(!scalars_equal(&json!("1000m"), &json!("1"), false));
        assert!(scalars_equal(&json!("abc"), &json!("abc"), true));
    }

    #[test]
    fn deep_equality_uses_number_meaning() {
        assert!(values_equal(
            &json!({"a": [1, {"b": 2.0}]}),
            &json!({"a": [1.0, {"b": 2}]})
        ));
        assert!(!values_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn quantities_past_i32_exponents_compare_as_text() {
        assert!(!scalars_equal(
            &json!("10e2147483647"),
            &json!("100e2147483646"),
            true
        ));
        assert!(scalars_equal(
            &json!("10e2147483647"),
            &json!("10e2147483647"),
            true
        ));
    }
}
