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
}

impl<'a> Records<'a> {
    /// The records of `text`, which starts at a record.
    pub(super) fn new(text: &'a [u8]) -> Self {
        Records { text, at: 0 }
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
                let end = field_end(text, i);
                record.spans.push(Span::Text(i..end));
                end
            };
            // `i` is now at the comma or line end after the field, or at the end of the text.
            match text.get(i) {
                Some(b',') if may_skip && record.spans.len() >= fields => {
                    // The record ends at the first line end, unless a quote comes first: the
                    // quote might open a field that holds one, so the fields are read on.
                    match text[i..].iter().position(|&b| b == b'"' || is_line_end(b)) {
                        Some(n) if text[i + n] == b'"' => {
                            may_skip = false;
                            i += 1;
                        }
                        Some(n) => {
                            i += n + 1;
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
    fn quoted_field(&self, from: usize, record: &mut Record) -> usize {
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
                    let end = field_end(text, i);
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

/// The offset of the first comma or line end at or after `from`, or the end of the text.
///
/// Catalog fields are short (many are empty), too short for a vector search to pay off.
fn field_end(text: &[u8], from: usize) -> usize {
    text[from..]
        .iter()
        .position(|&b| b == b',' || is_line_end(b))
        .map_or(text.len(), |n| from + n)
}

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
