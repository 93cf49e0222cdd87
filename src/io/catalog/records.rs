//! Splitting catalog text into records and fields, by the csv crate's rules for its default
//! reader (comma, double quote, `""` as a literal quote, CR, LF or CR LF ending a record), with
//! every row allowed its own number of fields.
//!
//! It reads exactly what `csv::Reader::read_byte_record` reads, with less work per byte: an
//! unquoted field ends at the next comma or line end, and a field is handed out as a slice of
//! the text itself unless its quotes must be undone. The rules:
//!
//! - line ends before a record are skipped, so blank lines give no record;
//! - a quote opens a quoted field only as a field's first byte; anywhere else in an unquoted
//!   field it is an ordinary byte;
//! - inside a quoted field, commas and line ends are ordinary bytes, `""` is one quote, and a
//!   single quote closes the quoted part; bytes after it, up to the next comma or line end,
//!   still belong to the field (`"ab"cd` reads `abcd`);
//! - a quoted field that never closes runs to the end of the text.
//!
//! Reading cannot fail: every byte sequence is some list of records.

use std::ops::Range;

/// Where one field's bytes are.
#[derive(Debug, Clone)]
enum Span {
    /// A slice of the text: the field had no quotes to undo.
    Text(Range<usize>),
    /// A slice of the record's own buffer, where the field's quotes were undone.
    Unquoted(Range<usize>),
}

/// One record: its fields and where it starts.
#[derive(Debug, Default)]
pub(super) struct Record {
    spans: Vec<Span>,
    unquoted: Vec<u8>,
    start: usize,
}

impl Record {
    /// The number of fields read: all of them when the record has no more than were asked for
    /// (see [`Records::read`]).
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The byte offset in the text of the record's first byte.
    pub(super) fn start(&self) -> usize {
        self.start
    }

    /// The bytes of field `i` of the record read from `text`, `None` past its last field.
    pub(super) fn get<'a>(&'a self, text: &'a [u8], i: usize) -> Option<&'a [u8]> {
        Some(match self.spans.get(i)? {
            Span::Text(range) => &text[range.clone()],
            Span::Unquoted(range) => &self.unquoted[range.clone()],
        })
    }

    fn clear(&mut self, start: usize) {
        self.spans.clear();
        self.unquoted.clear();
        self.start = start;
    }
}

/// The records of a text, read one after another.
pub(super) struct Records<'a> {
    text: &'a [u8],
    at: usize,
    window: Window,
}

impl<'a> Records<'a> {
    /// The records of `text`, which starts at a record.
    pub(super) fn new(text: &'a [u8]) -> Self {
        Records {
            text,
            at: 0,
            window: Window::default(),
        }
    }

    /// Reads the next record into `record`; `false` once the text has no more.
    ///
    /// Only the first `fields` fields are needed: the rest of the record may be skipped
    /// unread when no quote stands before its end.
    pub(super) fn read(&mut self, record: &mut Record, fields: usize) -> bool {
        let text = self.text;
        let mut i = self.at;
        while i < text.len() && is_line_end(text[i]) {
            i += 1;
        }
        if i == text.len() {
            self.at = i;
            return false;
        }
        record.clear(i);
        // Whether the rest may still be skipped: not once a quote has been seen ahead.
        let mut may_skip = true;
        loop {
            // `i` is at a field's first byte, or at the end of the text.
            i = if text.get(i) == Some(&b'"') {
                self.quoted_field(i + 1, record)
            } else {
                let end = self.window.find(text, i, Find::FieldEnd);
                record.spans.push(Span::Text(i..end));
                end
            };
            // `i` is now at the comma or line end after the field, or at the end of the text.
            match text.get(i) {
                Some(b',') if may_skip && record.spans.len() >= fields => {
                    // The record ends at the first line end, unless a quote comes first: the
                    // quote might open a field that holds one, so the fields are read on.
                    let stop = self.window.find(text, i, Find::QuoteOrLineEnd);
                    match text.get(stop) {
                        Some(b'"') => {
                            may_skip = false;
                            i += 1;
                        }
                        Some(_) => {
                            i = stop + 1;
                            break;
                        }
                        None => {
                            i = text.len();
                            break;
                        }
                    }
                }
                Some(b',') => i += 1,
                Some(_) => {
                    i += 1;
                    break;
                }
                None => break,
            }
        }
        self.at = i;
        true
    }

    /// Reads the quoted field whose opening quote ends just before `from` into `record`, and
    /// returns the offset just past it: its comma, its line end or the end of the text.
    fn quoted_field(&mut self, from: usize, record: &mut Record) -> usize {
        let text = self.text;
        let Some(close) = memchr::memchr(b'"', &text[from..]).map(|n| from + n) else {
            record.spans.push(Span::Text(from..text.len()));
            return text.len();
        };
        if text
            .get(close + 1)
            .is_none_or(|&b| b == b',' || is_line_end(b))
        {
            record.spans.push(Span::Text(from..close));
            return close + 1;
        }
        // Quotes to undo: copy the field into the record's buffer.
        let first = record.unquoted.len();
        record.unquoted.extend_from_slice(&text[from..close]);
        let mut i = close + 1;
        loop {
            // `i` is just past a quote that ended a quoted run.
            match text.get(i) {
                Some(b'"') => {
                    // A doubled quote: one literal quote, and the quoted run goes on.
                    record.unquoted.push(b'"');
                    let rest = i + 1;
                    match memchr::memchr(b'"', &text[rest..]) {
                        Some(n) => {
                            record.unquoted.extend_from_slice(&text[rest..rest + n]);
                            i = rest + n + 1;
                        }
                        None => {
                            record.unquoted.extend_from_slice(&text[rest..]);
                            i = text.len();
                            break;
                        }
                    }
                }
                Some(&b) if b != b',' && !is_line_end(b) => {
                    // Bytes after the closing quote belong to the field, quotes included.
                    let end = self.window.find(text, i, Find::FieldEnd);
                    record.unquoted.extend_from_slice(&text[i..end]);
                    i = end;
                    break;
                }
                _ => break,
            }
        }
        record
            .spans
            .push(Span::Unquoted(first..record.unquoted.len()));
        i
    }
}

/// What [`Window::find`] looks for.
#[derive(Debug, Clone, Copy)]
enum Find {
    /// A comma or a line end: the end of an unquoted field.
    FieldEnd,
    /// A quote or a line end: where skipping the rest of a record must stop.
    QuoteOrLineEnd,
}

/// The bytes that end a field and those that stop a skip, in a 64-byte stretch of the text,
/// as bit masks (byte `start + i`, bit `i`). Catalog fields are short and many are empty, so a
/// record's fields are found from the masks of one or two stretches rather than byte by byte.
/// A new window has empty masks: its first search loads it.
#[derive(Debug, Default)]
struct Window {
    start: usize,
    /// The commas and line ends.
    field_ends: u64,
    /// The quotes and line ends.
    stops: u64,
}

/// The bytes a [`Window`] covers.
const WINDOW: usize = 64;

impl Window {
    /// The offset of the first byte at or after `from` that `find` looks for, or the end of the
    /// text. Searches need not grow, but the window only pays off when they mostly do.
    #[inline]
    fn find(&mut self, text: &[u8], from: usize, find: Find) -> usize {
        let offset = from.wrapping_sub(self.start);
        if offset < WINDOW {
            let ahead = self.mask(find) >> offset;
            if ahead != 0 {
                return from + ahead.trailing_zeros() as usize;
            }
        }
        self.find_in_new_windows(text, from, find)
    }

    /// [`Window::find`] from a window loaded at `from`, and at the windows after it.
    #[inline(never)]
    fn find_in_new_windows(&mut self, text: &[u8], mut from: usize, find: Find) -> usize {
        loop {
            self.load(text, from);
            let ahead = self.mask(find);
            if ahead != 0 {
                return from + ahead.trailing_zeros() as usize;
            }
            if from + WINDOW >= text.len() {
                return text.len();
            }
            from += WINDOW;
        }
    }

    fn mask(&self, find: Find) -> u64 {
        match find {
            Find::FieldEnd => self.field_ends,
            Find::QuoteOrLineEnd => self.stops,
        }
    }

    /// Points the window at `text[start..]`; past the text's end, the stretch is padded with a
    /// byte that is none of those looked for.
    fn load(&mut self, text: &[u8], start: usize) {
        (self.field_ends, self.stops) = match text.get(start..start + WINDOW) {
            Some(block) => masks(block.try_into().expect("a slice of WINDOW bytes")),
            None => {
                let rest = &text[start.min(text.len())..];
                let mut padded = [b'a'; WINDOW];
                padded[..rest.len()].copy_from_slice(rest);
                masks(&padded)
            }
        };
        self.start = start;
    }
}

/// The masks of a [`Window`]'s 64 bytes: commas or line ends, and quotes or line ends.
#[cfg(target_arch = "x86_64")]
fn masks(block: &[u8; WINDOW]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let (mut field_ends, mut stops) = (0, 0);
    for (k, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86-64 baseline, and the load reads the 16 bytes of
        // `lane`, unaligned.
        let (ends, quotes) = unsafe {
            let bytes = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let is = |byte: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8));
            let line_ends = _mm_or_si128(is(b'\n'), is(b'\r'));
            (
                _mm_movemask_epi8(_mm_or_si128(line_ends, is(b','))),
                _mm_movemask_epi8(_mm_or_si128(line_ends, is(b'"'))),
            )
        };
        // Each mask has 16 bits, one per byte of the lane.
        field_ends |= u64::from(ends as u16) << (16 * k);
        stops |= u64::from(quotes as u16) << (16 * k);
    }
    (field_ends, stops)
}

/// The masks of a [`Window`]'s 64 bytes, byte by byte.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn masks_bytewise(block: &[u8; WINDOW]) -> (u64, u64) {
    block
        .iter()
        .enumerate()
        .fold((0, 0), |(field_ends, stops), (i, &b)| {
            let line_end = u64::from(is_line_end(b));
            (
                field_ends | (line_end | u64::from(b == b',')) << i,
                stops | (line_end | u64::from(b == b'"')) << i,
            )
        })
}

#[cfg(not(target_arch = "x86_64"))]
use masks_bytewise as masks;

fn is_line_end(byte: u8) -> bool {
    byte == b'\n' || byte == b'\r'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `text` and their starts, as this module reads them.
    fn ours(text: &[u8]) -> Vec<(usize, Vec<Vec<u8>>)> {
        ours_up_to(text, usize::MAX)
    }

    /// The records of `text` and their starts, as this module reads them when only their first
    /// `fields` fields are needed.
    fn ours_up_to(text: &[u8], fields: usize) -> Vec<(usize, Vec<Vec<u8>>)> {
        let mut records = Records::new(text);
        let mut record = Record::default();
        let mut out = Vec::new();
        while records.read(&mut record, fields) {
            let fields = (0..record.len())
                .map(|i| record.get(text, i).unwrap().to_vec())
                .collect();
            out.push((record.start(), fields));
        }
        out
    }

    /// The records of `text` as the csv crate reads them, with the offset of each record's first
    /// byte that is not a line end (the crate's own position may point at skipped line ends).
    fn csv_crate(text: &[u8]) -> Vec<(usize, Vec<Vec<u8>>)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let mut start = record.position().unwrap().byte() as usize;
            while is_line_end(text[start]) {
                start += 1;
            }
            out.push((start, record.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    #[test]
    fn reads_the_rules_by_hand() {
        let text = b"a,\"x, y\",1\r\n\n\"say \"\"hi\"\"\",\"ab\"cd,e\"f\n,\r\"open\n";
        let expected: Vec<(usize, Vec<&[u8]>)> = vec![
            (0, vec![b"a", b"x, y", b"1"]),
            (13, vec![b"say \"hi\"", b"abcd", b"e\"f"]),
            (37, vec![b"", b""]),
            (39, vec![b"open\n"]),
        ];
        let expected: Vec<(usize, Vec<Vec<u8>>)> = expected
            .into_iter()
            .map(|(start, fields)| (start, fields.into_iter().map(<[u8]>::to_vec).collect()))
            .collect();
        assert_eq!(ours(text), expected);
        assert_eq!(csv_crate(text), expected);
    }

    #[test]
    fn the_rest_of_a_record_is_skipped_unless_a_quote_stands_before_its_end() {
        let text = b"a,b,c\nd,e,\"f\ng\",h\ni,j";
        assert_eq!(
            ours_up_to(text, 1),
            vec![
                (0, vec![b"a".to_vec()]),
                // The quote may open a field with a line feed: the record is read whole.
                (
                    6,
                    vec![
                        b"d".to_vec(),
                        b"e".to_vec(),
                        b"f\ng".to_vec(),
                        b"h".to_vec()
                    ]
                ),
                (18, vec![b"i".to_vec()]),
            ]
        );
    }

    #[test]
    fn a_comma_at_the_end_gives_one_more_empty_field() {
        assert_eq!(ours(b"a,"), vec![(0, vec![b"a".to_vec(), Vec::new()])]);
        assert_eq!(ours(b"\"a\","), vec![(0, vec![b"a".to_vec(), Vec::new()])]);
        assert_eq!(ours(b"\n\r\n"), Vec::new());
    }

    #[test]
    fn every_short_text_of_the_special_bytes_reads_as_the_csv_crate_does() {
        // All texts up to 7 bytes over an alphabet of the bytes the rules name, and one other.
        let alphabet = [b'a', b',', b'"', b'\n', b'\r'];
        let mut text = Vec::new();
        for length in 0..=7u32 {
            for mut code in 0..alphabet.len().pow(length) {
                text.clear();
                for _ in 0..length {
                    text.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                check_against_csv_crate(&text, &[0, 1, 2]);
            }
        }
    }

    /// Checks that `text` reads as the csv crate reads it, whole and for the first `fields` of
    /// each record.
    fn check_against_csv_crate(text: &[u8], fields: &[usize]) {
        let expected = csv_crate(text);
        assert_eq!(ours(text), expected, "{:?}", String::from_utf8_lossy(text));
        for &fields in fields {
            check_first_fields(&ours_up_to(text, fields), &expected, fields, text);
        }
    }

    /// Checks that `read`, the records of `text` read for their first `fields` fields, are the
    /// `expected` records, each cut to a first part of at least its first `fields` fields.
    fn check_first_fields(
        read: &[(usize, Vec<Vec<u8>>)],
        expected: &[(usize, Vec<Vec<u8>>)],
        fields: usize,
        text: &[u8],
    ) {
        let context = || format!("{fields} fields of {:?}", String::from_utf8_lossy(text));
        assert_eq!(read.len(), expected.len(), "{}", context());
        for ((start, got), (expected_start, all)) in read.iter().zip(expected) {
            assert_eq!(start, expected_start, "{}", context());
            assert!(got.len() >= all.len().min(fields), "{}", context());
            assert_eq!(got[..], all[..got.len()], "{}", context());
        }
    }

    #[test]
    fn window_masks_mark_the_bytes_the_bytewise_masks_mark() {
        use rand::Rng;
        let mut rng = crate::rng::stream(19, "window masks");
        let alphabet = b"a,\"\n\r\x80\xff\x0c";
        for _ in 0..2_000 {
            let block: [u8; WINDOW] =
                std::array::from_fn(|_| alphabet[rng.random_range(0..alphabet.len())]);
            assert_eq!(masks(&block), masks_bytewise(&block), "{block:?}");
        }
    }

    #[test]
    fn records_with_fields_longer_than_the_window_read_as_the_csv_crate_does() {
        use rand::Rng;
        let mut rng = crate::rng::stream(19, "long csv fields");
        for _ in 0..500 {
            // Mostly plain bytes, so that fields and skipped tails run across several windows.
            let len = rng.random_range(0..600);
            let text: Vec<u8> = (0..len)
                .map(|_| match rng.random_range(0..100) {
                    0..3 => b',',
                    3 => b'"',
                    4 => b'\n',
                    5 => b'\r',
                    _ => b'x',
                })
                .collect();
            check_against_csv_crate(&text, &[1, 3, 10]);
        }
    }

    #[test]
    fn long_random_texts_read_as_the_csv_crate_does() {
        use rand::Rng;
        let mut rng = crate::rng::stream(19, "csv records");
        let alphabet = b"ab1.,,,\"\"\n\r -";
        for _ in 0..2_000 {
            let len = rng.random_range(0..200);
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            check_against_csv_crate(&text, &[1, 3, 10]);
        }
    }
}
