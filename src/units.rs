//! Sizes and durations as people write them (`16GiB`, `512MB`, `15min`) and as
//! PostgreSQL writes them in postgresql.conf (`16GB`, `15min`).
//!
//! PostgreSQL's memory units are powers of 1024 even though it spells them
//! `kB`, `MB`, `GB`, `TB`; we follow it, so `16GB` and `16GiB` mean the same here.

use anyhow::{bail, Result};

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;
pub const TIB: u64 = 1024 * GIB;

/// Parses a memory size such as `16GiB`, `16GB`, `16g`, `512MB`, `1.5TiB` or a bare byte count.
pub fn parse_bytes(text: &str) -> Result<u64> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let unit = unit.trim();
    let multiplier = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => KIB,
        "m" | "mb" | "mib" => MIB,
        "g" | "gb" | "gib" => GIB,
        "t" | "tb" | "tib" => TIB,
        _ => bail!("'{text}' is not a size: use a number with a unit such as 512MiB, 16GiB or 1TiB"),
    };
    let value: f64 =
        number.parse().map_err(|_| anyhow::anyhow!("'{text}' is not a size: use a number with a unit such as 512MiB, 16GiB or 1TiB"))?;
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 / 2.0 {
        bail!("'{text}' is out of range for a size");
    }
    Ok(bytes as u64)
}

/// Formats bytes in the largest PostgreSQL unit that divides them exactly (`16GB`, `59MB`, `64kB`).
pub fn format_pg_bytes(bytes: u64) -> String {
    for (unit, size) in [("TB", TIB), ("GB", GIB), ("MB", MIB), ("kB", KIB)] {
        if bytes >= size && bytes % size == 0 {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{}kB", bytes.div_ceil(KIB))
}

/// Formats bytes for people, with one decimal where it helps (`15.6 GiB`).
pub fn format_human_bytes(bytes: u64) -> String {
    for (unit, size) in [("TiB", TIB), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)] {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if (value - value.round()).abs() < 0.05 { format!("{} {unit}", value.round()) } else { format!("{value:.1} {unit}") };
        }
    }
    format!("{bytes} B")
}

/// Parses a duration in PostgreSQL's units (`15min`, `30s`, `1h`, `500ms`) into whole seconds.
pub fn parse_seconds(text: &str) -> Result<u64> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| anyhow::anyhow!("'{text}' is not a duration: use a number with a unit such as 30s, 15min or 1h"))?;
    let multiplier = match unit.trim() {
        "" | "s" => 1,
        "min" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("'{text}' is not a duration: use a number with a unit such as 30s, 15min or 1h"),
    };
    // PostgreSQL's time settings are 32-bit counts; anything longer is a typo, not a setting.
    match number.checked_mul(multiplier) {
        Some(seconds) if seconds <= i32::MAX as u64 => Ok(seconds),
        _ => bail!("'{text}' is out of range for a duration (at most {}d)", i32::MAX as u64 / 86400),
    }
}

/// Formats seconds in the largest unit PostgreSQL accepts that divides them exactly.
pub fn format_pg_seconds(seconds: u64) -> String {
    for (unit, size) in [("d", 86400), ("h", 3600), ("min", 60)] {
        if seconds >= size && seconds % size == 0 {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

/// `bytes` rounded up to a step of a quarter of its power of two in MiB (128MB,
/// 160MB, 192MB, 224MB, 256MB, 320MB, ...): a size derived from the data moves
/// in steps, so a few MB of new data do not make a new recommendation.
pub fn step_up(bytes: u64) -> u64 {
    let mib = bytes.div_ceil(MIB).max(1);
    let power = 1u64 << (63 - mib.leading_zeros());
    let step = (power / 4).max(1);
    mib.div_ceil(step) * step * MIB
}

/// Rounds down to a readable step: whole MiB below 1GiB, 64MiB steps above,
/// so recommendations read `6016MB` rather than `6025MB` and diffs stay stable.
pub fn floor_mib(bytes: u64) -> u64 {
    let step = if bytes >= GIB { 64 * MIB } else { MIB };
    bytes / step * step
}

/// A row or block count for people: `1,234,567`; fractions (PostgreSQL 18) keep one decimal below 10.
pub fn format_count(value: f64) -> String {
    if value.fract() != 0.0 && value < 10.0 {
        return format!("{value:.1}");
    }
    if value.is_nan() || value.abs() >= 9.0e15 {
        return group_thousands(&format!("{:.0}", value.round()));
    }
    // Whole numbers in i64's range, as counts are, written digit by digit into one
    // string: a 10,000-node plan's tree formats over a hundred thousand of them.
    let whole = value.round() as i64;
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = whole.unsigned_abs();
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(1 + len + len / 3);
    if whole < 0 {
        out.push('-');
    }
    for i in (0..len).rev() {
        out.push(char::from(digits[i]));
        if i > 0 && i % 3 == 0 {
            out.push(',');
        }
    }
    out
}

/// `digits` (an optional `-`, then digits) with a comma between each group of three.
fn group_thousands(digits: &str) -> String {
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds for people: `0.042 ms`, `12.3 ms`, `1,234 ms`, `12.5 s`.
pub fn format_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{} ms", format_count(ms))
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// The smallest power-of-two MiB amount that holds `kib` kilobytes, for a work_mem suggestion.
pub fn round_up_mib(kib: f64) -> u64 {
    let mib = (kib / 1024.0).ceil().max(1.0) as u64;
    mib.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_sizes_move_in_quarter_power_steps() {
        let mib = |n: u64| n * MIB;
        assert_eq!(step_up(mib(460)), mib(512));
        assert_eq!(step_up(mib(467)), mib(512), "3 MB more data, the same advice");
        assert_eq!(step_up(mib(130)), mib(160));
        assert_eq!(step_up(mib(128)), mib(128));
        assert_eq!(step_up(mib(5000)), mib(5120));
        assert_eq!(step_up(1), mib(1));
    }

    #[test]
    fn parses_sizes_in_binary_units() {
        assert_eq!(parse_bytes("16GiB").unwrap(), 16 * GIB);
        assert_eq!(parse_bytes("16GB").unwrap(), 16 * GIB);
        assert_eq!(parse_bytes("16g").unwrap(), 16 * GIB);
        assert_eq!(parse_bytes("512 MB").unwrap(), 512 * MIB);
        assert_eq!(parse_bytes("1.5TiB").unwrap(), 3 * TIB / 2);
        assert_eq!(parse_bytes("4096").unwrap(), 4096);
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        for bad in ["banana", "", "GB", "12 parsecs", "-4GB", "0", "1e400GB"] {
            let err = parse_bytes(bad).unwrap_err().to_string();
            assert!(!err.contains('\n'), "{err}");
            assert!(err.contains("size"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format_pg_bytes(16 * GIB), "16GB");
        assert_eq!(format_pg_bytes(1536 * MIB), "1536MB");
        assert_eq!(format_pg_bytes(64 * KIB), "64kB");
        assert_eq!(format_pg_bytes(2 * TIB), "2TB");
        assert_eq!(format_human_bytes(3 * GIB / 2), "1.5 GiB");
        assert_eq!(format_human_bytes(64 * GIB), "64 GiB");
        assert_eq!(floor_mib(6025 * MIB + 5), 6016 * MIB);
        assert_eq!(floor_mib(401 * MIB + 5), 401 * MIB);
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_seconds("15min").unwrap(), 900);
        assert_eq!(parse_seconds("1h").unwrap(), 3600);
        assert_eq!(format_pg_seconds(900), "15min");
        assert_eq!(format_pg_seconds(90), "90s");
        assert_eq!(format_pg_seconds(3600), "1h");
        assert!(parse_seconds("soon").is_err());
        // Used to wrap silently into a small number.
        let err = parse_seconds("99999999999999999d").unwrap_err().to_string();
        assert!(err.contains("out of range"), "{err}");
        assert!(parse_seconds("24856d").is_err());
        assert_eq!(parse_seconds("24855d").unwrap(), 24855 * 86400);
    }

    #[test]
    fn formats_counts_and_times() {
        assert_eq!(format_count(1234567.0), "1,234,567");
        assert_eq!(format_count(999.0), "999");
        assert_eq!(format_count(2.5), "2.5");
        assert_eq!(format_ms(0.0421), "0.042 ms");
        assert_eq!(format_ms(123.45), "123.5 ms");
        assert_eq!(format_ms(3565.6), "3,566 ms");
        assert_eq!(format_ms(12500.0), "12.5 s");
        assert_eq!(round_up_mib(5000.0), 8);
    }

    #[test]
    fn counts_are_grouped_by_thousands_whatever_their_size_or_sign() {
        for (value, text) in [
            (0.0, "0"),
            (-0.4, "-0.4"),
            (10.4, "10"),
            (1000.0, "1,000"),
            (-1000.0, "-1,000"),
            (-999999.0, "-999,999"),
            (1e15, "1,000,000,000,000,000"),
            (1e20, "100,000,000,000,000,000,000"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_count(value), text, "{value}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Digit by digit, the same text as the general grouping of Rust's own digits.
        #[test]
        fn whole_counts_read_as_their_digits_grouped(value in -9_000_000_000_000_000i64..9_000_000_000_000_000) {
            let text = format_count(value as f64);
            proptest::prop_assert_eq!(&text, &group_thousands(&((value as f64).round() as i64).to_string()));
            proptest::prop_assert_eq!(text.replace(',', "").parse::<i64>().unwrap(), (value as f64).round() as i64);
        }
    }
}
