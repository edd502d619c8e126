//! The rollout gem's text conventions, reproduced exactly: how Ruby reads a number
//! (`String#to_f`), how it splits a list (`String#split(",")`) and how it prints a float
//! (`Float#to_s`). The payload codec builds on these; they are public so that tools (and the
//! differential tests) can compare them with Ruby directly.
//!
//! Pure functions: no I/O, no allocation beyond the returned value.

/// Reads a number the way Ruby's `String#to_f` does: the longest leading decimal prefix, after
/// optional ASCII whitespace and a sign, with single `_` allowed between digits; anything else
/// is 0. `"12abc"` is 12, `".5"` is 0.5, `"1e1"` is 10, `"1_0"` is 10, `"1__0"` is 1, `"0x1A"`
/// is 0, and `"1e400"` is infinity, as in Ruby.
///
/// ```
/// use ramp_store_redis::gem_format::ruby_to_f;
/// assert_eq!(ruby_to_f(" 12.5%"), 12.5);
/// assert_eq!(ruby_to_f("1_000.5"), 1000.5);
/// assert_eq!(ruby_to_f("abc"), 0.0);
/// ```
pub fn ruby_to_f(text: &str) -> f64 {
    let bytes = text.as_bytes();
    let mut index = 0;
    // Ruby skips exactly these (not Unicode spaces such as U+00A0).
    while index < bytes.len() && matches!(bytes[index], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    {
        index += 1;
    }
    let mut cleaned = String::with_capacity(bytes.len().min(64));
    if index < bytes.len() && matches!(bytes[index], b'+' | b'-') {
        cleaned.push(char::from(bytes[index]));
        index += 1;
    }
    let integer_digits = digits(bytes, &mut index, &mut cleaned);
    let mut fraction_digits = 0;
    // A point counts only when a digit follows it: "5." is 5 and "1.e5" is 1.
    if bytes.get(index) == Some(&b'.') && bytes.get(index + 1).is_some_and(u8::is_ascii_digit) {
        cleaned.push('.');
        index += 1;
        fraction_digits = digits(bytes, &mut index, &mut cleaned);
    }
    if integer_digits + fraction_digits == 0 {
        return 0.0;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        let mut look = index + 1;
        let mut exponent = String::from("e");
        if let Some(sign @ (b'+' | b'-')) = bytes.get(look) {
            exponent.push(char::from(*sign));
            look += 1;
        }
        // "1e" and "1e+" are 1: the exponent needs a digit.
        if bytes.get(look).is_some_and(u8::is_ascii_digit) {
            digits(bytes, &mut look, &mut exponent);
            cleaned.push_str(&exponent);
        }
    }
    // Rust's parser rounds correctly and overflows to infinity, as Ruby's strtod does.
    cleaned.parse().unwrap_or(0.0)
}

/// Appends a run of digits (single `_` allowed between two digits) and returns how many.
fn digits(bytes: &[u8], index: &mut usize, out: &mut String) -> usize {
    let mut count = 0;
    while let Some(&byte) = bytes.get(*index) {
        if byte.is_ascii_digit() {
            out.push(char::from(byte));
            count += 1;
            *index += 1;
        } else if byte == b'_' && count > 0 && bytes.get(*index + 1).is_some_and(u8::is_ascii_digit)
        {
            *index += 1;
        } else {
            break;
        }
    }
    count
}

/// Splits like Ruby's `text.split(",")`: trailing empty pieces are dropped, leading and inner
/// ones are kept, and an empty text gives no piece at all.
///
/// ```
/// use ramp_store_redis::gem_format::ruby_split;
/// assert_eq!(ruby_split(",1,,2,,"), vec!["", "1", "", "2"]);
/// assert!(ruby_split("").is_empty());
/// ```
pub fn ruby_split(text: &str) -> Vec<&str> {
    ruby_pieces(text).collect()
}

/// [`ruby_split`] without collecting: dropping trailing empty pieces is dropping trailing
/// commas, so a million-id list is split in one pass with no intermediate vector.
pub fn ruby_pieces(text: &str) -> impl Iterator<Item = &str> + Clone {
    let trimmed = text.trim_end_matches(',');
    let pieces = if trimmed.is_empty() { 0 } else { usize::MAX };
    trimmed.split(',').take(pieces)
}

/// Prints a float as Ruby's `Float#to_s` does: the shortest digits that read back exactly, with
/// `.0` on whole numbers (`100.0`, `12.5`, `0.1`), and the exponent form outside 1e-4..1e15
/// (`1.0e-05`). The gem writes percentages this way whenever it re-saves a feature, so a
/// payload written by Ramp is re-saved by the gem byte for byte.
///
/// ```
/// use ramp_store_redis::gem_format::ruby_float_to_s;
/// assert_eq!(ruby_float_to_s(100.0), "100.0");
/// assert_eq!(ruby_float_to_s(0.1), "0.1");
/// assert_eq!(ruby_float_to_s(0.00001), "1.0e-05");
/// ```
pub fn ruby_float_to_s(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .into();
    }
    if (1e-4..1e15).contains(&value.abs()) {
        // `Display` gives the shortest round-trip digits and never an exponent.
        let text = value.to_string();
        return if text.contains('.') {
            text
        } else {
            text + ".0"
        };
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let (sign, exponent) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    let point = if mantissa.contains('.') { "" } else { ".0" };
    format!("{mantissa}{point}e{sign}{exponent:0>2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_f_matches_ruby_3_1() {
        // Each expectation was printed by `ruby -e 'p STRING.to_f'` (Ruby 3.1).
        let cases: &[(&str, f64)] = &[
            ("12abc", 12.0),
            ("1_0", 10.0),
            ("1__0", 1.0),
            ("_1", 0.0),
            ("1_", 1.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e1", 10.0),
            ("1e", 1.0),
            ("1e+", 1.0),
            ("1E2", 100.0),
            ("1.e5", 1.0),
            ("1.5e1_0", 15_000_000_000.0),
            ("1_000.5_5", 1000.55),
            ("0x1A", 0.0),
            ("Infinity", 0.0),
            ("1e400", f64::INFINITY),
            ("-1e400", f64::NEG_INFINITY),
            ("+5", 5.0),
            ("-5", -5.0),
            ("1.2.3", 1.2),
            ("--5", 0.0),
            ("+-5", 0.0),
            ("1e-400", 0.0),
            ("nan", 0.0),
            ("1_e5", 1.0),
            ("1e_5", 1.0),
            ("1.5_", 1.5),
            ("99.99999999999999999", 100.0),
            (" 20", 20.0),
            ("\t\n\x0b\x0c\r20", 20.0),
            ("\u{a0}20", 0.0),
            ("20 ", 20.0),
            ("", 0.0),
            ("+.5", 0.5),
            ("._5", 0.0),
            ("5._5", 5.0),
            ("1e5.5", 100_000.0),
            ("1e05", 100_000.0),
            ("- 5", 0.0),
            ("0_5", 5.0),
            ("1e+_5", 1.0),
            ("1e1__0", 10.0),
            ("12_.5", 12.0),
            ("1\u{0}5", 1.0),
        ];
        for (text, expected) in cases {
            assert_eq!(ruby_to_f(text), *expected, "{text:?}");
        }
        assert!(ruby_to_f("-0").is_sign_negative());
    }

    #[test]
    fn split_drops_only_trailing_empties() {
        assert_eq!(ruby_split(",1,,2,"), vec!["", "1", "", "2"]);
        assert!(ruby_split(",").is_empty());
        assert!(ruby_split(",,").is_empty());
        assert_eq!(ruby_split("a"), vec!["a"]);
    }

    #[test]
    fn floats_print_like_ruby() {
        // Printed by `ruby -e 'p X.to_s'` (Ruby 3.1).
        let cases: &[(f64, &str)] = &[
            (100.0, "100.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (12.5, "12.5"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (99.999_999_999_999_99, "99.99999999999999"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.000_099, "9.9e-05"),
            (0.000_01, "1.0e-05"),
            (2.5e-5, "2.5e-05"),
            (5e-324, "5.0e-324"),
            (1e14, "100000000000000.0"),
            (1e15, "1.0e+15"),
            (1.5e15, "1.5e+15"),
            (123_456_789_012_345.0, "123456789012345.0"),
            (9_999_999_999_999_998.0, "9.999999999999998e+15"),
        ];
        for (value, expected) in cases {
            assert_eq!(ruby_float_to_s(*value), *expected, "{value}");
        }
    }

    #[test]
    fn printed_floats_read_back_exactly() {
        for value in [
            0.1,
            12.5,
            33.333_333_333_333_33,
            1e-7,
            99.999_999_999_999_99,
        ] {
            assert_eq!(ruby_to_f(&ruby_float_to_s(value)), value);
        }
    }
}
