//! Fast paths for the shapes of numbers and times that catalogs and tenv3 files nearly always
//! use. Each one answers exactly what the general parser would, or declines (`None`) and leaves
//! the text to the general parser, so a fast path can never change a result or an error.

use jiff::Timestamp;

/// The powers of ten an `f64` holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The most digits [`plain_decimal`] reads: below 10^15 every integer is exact in an `f64`.
const MAX_DIGITS: usize = 15;

/// `text` as an `f64`, as `str::parse::<f64>` reads it.
///
/// A plain decimal (`-?D+(.D+)?` with at most 15 digits) is the quotient of two exact `f64`s, an
/// integer and a power of ten, which IEEE division rounds correctly: the same value, to the bit,
/// as the standard parser's own exact path. Anything else goes to the standard parser.
pub(crate) fn parse_f64(text: &str) -> std::result::Result<f64, std::num::ParseFloatError> {
    match plain_decimal(text.as_bytes()) {
        Some(value) => Ok(value),
        None => text.parse(),
    }
}

/// Whether `text` reads as a finite number: whether [`parse_f64`] gives a finite value, without
/// computing it for a plain decimal (a checked column that is not kept needs no value).
pub(crate) fn is_finite_number(text: &str) -> bool {
    is_plain_decimal(text.as_bytes()) || text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Whether [`plain_decimal`] reads `bytes`: the same rules, without the arithmetic.
fn is_plain_decimal(bytes: &[u8]) -> bool {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let mut count = 0;
    let mut point = None;
    for &b in digits {
        if b.is_ascii_digit() {
            count += 1;
        } else if b == b'.' && point.is_none() {
            point = Some(count);
        } else {
            return false;
        }
    }
    count <= MAX_DIGITS
        && match point {
            None => count > 0,
            Some(whole) => whole > 0 && whole < count,
        }
}

/// `bytes` as a plain decimal (`-?D+(.D+)?` with at most 15 digits), `None` for anything else.
pub(super) fn plain_decimal(bytes: &[u8]) -> Option<f64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0;
    // The number of digits before the point, once there is one.
    let mut point = None;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit < 10 {
            if count == MAX_DIGITS {
                return None;
            }
            mantissa = mantissa * 10 + u64::from(digit);
            count += 1;
        } else if b == b'.' && point.is_none() {
            point = Some(count);
        } else {
            return None;
        }
    }
    let scale = match point {
        None if count > 0 => 0,
        // Digits on both sides of the point.
        Some(whole) if whole > 0 && whole < count => count - whole,
        _ => return None,
    };
    // Below 10^15, so exact as an f64.
    let value = mantissa as f64 / EXACT_POWERS_OF_TEN[scale];
    Some(if negative { -value } else { value })
}

/// Years the fast time path reads; others go to the general parser (jiff's timestamps end in
/// the year 9999, before the civil calendar does).
const FAST_YEARS: std::ops::RangeInclusive<i64> = 1000..=9000;

/// A time in ComCat's one layout, `2010-01-01T12:45:28.445Z` (24 characters, UTC), or `None`
/// for any other text, including an impossible date or time of day, which the general parser
/// then refuses with its own message.
pub(crate) fn comcat_time(b: &[u8]) -> Option<Timestamp> {
    let layout = b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z';
    if !layout {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let year = number(0, 4)?;
    let month = number(5, 7)?;
    let day = number(8, 10)?;
    let hour = number(11, 13)?;
    let minute = number(14, 16)?;
    let second = number(17, 19)?;
    let millis = number(20, 23)?;
    let valid = FAST_YEARS.contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 59;
    if !valid {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let nanos = i32::try_from(millis * 1_000_000).ok()?;
    Timestamp::new(seconds, nanos).ok()
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date `year-month-day` (month 1 to 12), by
/// counting whole 400-year eras from a year that begins in March.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` that is `days` after 1970-01-01; the inverse
/// of [`days_from_civil`]. `days` must lie within ±10^9 days.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_read_to_the_bit_as_the_standard_parser_does() {
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.000",
            "3.2",
            "142.373",
            "-234.5558020471",
            "0.1",
            "0.3",
            "43.7906870848",
            "999999999999999",
            "99999999999999.9",
            "1234567890.12345",
            "0.000000000000001",
            "007",
            "-",
            ".5",
            "5.",
            "1e3",
            "+1",
            "1.2.3",
            "",
            "NaN",
            "inf",
            "1_0",
            " 1",
            "1234567890123456",
            "0.1234567890123456",
            "1e400",
            "-1e309",
            "-inf",
            "1.7976931348623157e308",
            "12.3.4",
            "1..2",
            ".",
            "-.",
            "--1",
            "1-2",
            "12a4",
            "1 2",
            "1:2",
            "1/2",
            "0.5\u{0660}",
            "\u{0661}.5",
            "123456789012345.",
            ".123456789012345",
            "00000000000000.1",
            "-99999999999999.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A spread of values with 1 to 15 significant digits and every scale.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = 1 + (x % 15) as usize;
            let mantissa = (x >> 8) % 10u64.pow(digits as u32);
            let scale = ((x >> 4) % (digits as u64 + 1)) as usize;
            let text = format!("{mantissa:0digits$}");
            let (whole, fraction) = text.split_at(digits - scale);
            let whole = if whole.is_empty() { "0" } else { whole };
            let sign = if x & 1 == 1 { "-" } else { "" };
            let text = if fraction.is_empty() {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{fraction}")
            };
            // The fast path itself reads every plain decimal of at most 15 digits.
            if whole.len() + fraction.len() <= MAX_DIGITS {
                let standard = text.parse::<f64>().map(f64::to_bits).ok();
                let fast = plain_decimal(text.as_bytes()).map(f64::to_bits);
                assert_eq!(fast, standard, "{text}");
            }
            texts.push(text);
        }
        for text in &texts {
            let fast = parse_f64(text).map(f64::to_bits).ok();
            let standard = text.parse::<f64>().map(f64::to_bits).ok();
            assert_eq!(fast, standard, "{text}");
            assert_eq!(
                is_plain_decimal(text.as_bytes()),
                plain_decimal(text.as_bytes()).is_some(),
                "{text}"
            );
            let finite = text.parse::<f64>().is_ok_and(f64::is_finite);
            assert_eq!(is_finite_number(text), finite, "{text}");
        }
    }

    #[test]
    fn comcat_times_read_as_jiff_reads_them_and_impossible_ones_are_declined() {
        let mut checked = 0;
        for year in [1000, 1899, 1900, 1970, 2000, 2011, 2024, 2100, 2400, 9000] {
            for month in 1..=12 {
                for day in [1, 28, 29, 30, 31] {
                    let text = format!("{year:04}-{month:02}-{day:02}T23:59:58.123Z");
                    let by_jiff = text.parse::<Timestamp>().ok();
                    assert_eq!(comcat_time(text.as_bytes()), by_jiff, "{text}");
                    checked += usize::from(by_jiff.is_some());
                }
            }
        }
        // Per year: the 1st and 28th of 12 months, the 30th of 11, the 31st of 7, and the 29th
        // of 12 in a leap year (2000, 2024, 2400 of these ten) or 11 otherwise.
        assert_eq!(checked, 10 * (24 + 11 + 7) + 3 * 12 + 7 * 11);
        assert_eq!(
            comcat_time(b"2011-03-11T05:46:24.120Z"),
            Some("2011-03-11T05:46:24.12Z".parse().unwrap())
        );
        for declined in [
            "2011-03-11T24:00:00.000Z",
            "2011-03-11T05:60:24.120Z",
            "2011-03-11T05:46:60.120Z",
            "2011-03-11 05:46:24.120Z",
            "2011-03-11T05:46:24.120z",
            "2011-03-11T05:46:24.12Z",
            "2011-3-11T05:46:24.120ZZ",
            "0999-03-11T05:46:24.120Z",
            "2011-00-11T05:46:24.120Z",
            "2011-03-00T05:46:24.120Z",
            "2011-03-1xT05:46:24.120Z",
        ] {
            assert_eq!(comcat_time(declined.as_bytes()), None, "{declined}");
        }
    }

    #[test]
    fn civil_days_count_from_1970_both_ways() {
        // Known day numbers: the Unix epoch, the MJD epoch (1858-11-17 is MJD 0, and the Unix
        // epoch is MJD 40587), 2000-03-01 (after a leap day of a 400-year), and year 1.
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1858, 11, 17), -40_587);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        for days in (-2_900_000..2_900_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let date = jiff::civil::Date::new(y as i16, m as i8, d as i8).unwrap();
            let epoch = jiff::civil::date(1970, 1, 1);
            assert_eq!(i64::from((date - epoch).get_days()), days);
        }
    }
}
