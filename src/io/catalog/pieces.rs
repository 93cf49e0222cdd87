//! Where CSV text can be cut into pieces that read the same apart as in one pass.
//!
//! A cut is safe right after a line feed that ends a record: the csv reader is then at the start
//! of a record, exactly as a fresh reader on the rest would be. A line feed inside a quoted field
//! (a ComCat `place` may hold one) is not such a place. Which line feeds are quoted follows from
//! the csv reader's rules for double quotes, replayed here from one quote to the next:
//!
//! - outside a quoted field, a quote opens one only at the start of a field (at the start of the
//!   text, or after a comma, CR or LF); anywhere else it is an ordinary character;
//! - inside, a doubled quote `""` is one literal quote, and a single quote closes the field.

use std::ops::Range;

/// Cuts `body`, CSV text that starts at a record, into consecutive pieces of at least `size`
/// bytes (the last may be shorter), each ending just after a line feed outside any quoted field.
/// Without such a line feed after `size` bytes, the rest is one piece.
///
/// The pieces come one by one, so that reading the first can start while the rest are cut.
pub(super) fn cut(body: &[u8], size: usize) -> Cuts<'_> {
    Cuts {
        quotes: Quotes {
            body,
            at: 0,
            quoted: false,
            next_quote: None,
        },
        size,
        start: Some(0),
    }
}

/// The pieces of [`cut`].
pub(super) struct Cuts<'a> {
    quotes: Quotes<'a>,
    size: usize,
    /// Where the next piece starts; `None` once the last has been given.
    start: Option<usize>,
}

impl Iterator for Cuts<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let start = self.start?;
        let len = self.quotes.body.len();
        let end = if len - start > self.size {
            self.quotes
                .record_end_from(start + self.size)
                .filter(|&end| end < len)
        } else {
            None
        };
        self.start = end;
        Some(start..end.unwrap_or(len))
    }
}

/// The csv reader's quoting state, followed through `body`.
struct Quotes<'a> {
    body: &'a [u8],
    /// Every quote before this offset has been replayed.
    at: usize,
    /// Whether offset `at` lies inside a quoted field.
    quoted: bool,
    /// The first quote at or after `at`, once searched for (`Some(None)`: there is none), so
    /// that a text with no quotes left is searched once, not once per piece.
    next_quote: Option<Option<usize>>,
}

impl Quotes<'_> {
    /// The offset just after the first line feed at or after `from` that ends a record, or
    /// `None` if there is none. Offsets asked for must grow.
    fn record_end_from(&mut self, from: usize) -> Option<usize> {
        let mut newline: Option<usize> = None;
        loop {
            let next_quote = self.next_quote();
            if self.quoted {
                // A quoted field that never closes runs to the end: no record end after it.
                self.replay(next_quote?);
                continue;
            }
            let search = self.at.max(from);
            let line_feed = match newline {
                Some(n) if n >= search => n,
                _ => {
                    let n = search + memchr::memchr(b'\n', &self.body[search..])?;
                    newline = Some(n);
                    n
                }
            };
            match next_quote {
                Some(q) if q < line_feed => self.replay(q),
                _ => {
                    self.at = line_feed + 1;
                    return Some(line_feed + 1);
                }
            }
        }
    }

    /// The offset of the first quote at or after `at`.
    fn next_quote(&mut self) -> Option<usize> {
        match self.next_quote {
            Some(known) if known.is_none_or(|q| q >= self.at) => known,
            _ => {
                let found = memchr::memchr(b'"', &self.body[self.at..]).map(|i| self.at + i);
                self.next_quote = Some(found);
                found
            }
        }
    }

    /// Applies the quote at offset `q`, the first at or after `at`.
    fn replay(&mut self, q: usize) {
        if self.quoted {
            if self.body.get(q + 1) == Some(&b'"') {
                self.at = q + 2;
            } else {
                self.quoted = false;
                self.at = q + 1;
            }
        } else {
            self.quoted = q == 0 || matches!(self.body[q - 1], b',' | b'\n' | b'\r');
            self.at = q + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `text` as the csv crate reads them, with the pieces read one by one.
    fn records(text: &[u8], pieces: &[Range<usize>]) -> Vec<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for piece in pieces {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&text[piece.clone()]);
            for record in reader.byte_records() {
                out.push(record.unwrap().iter().map(<[u8]>::to_vec).collect());
            }
        }
        out
    }

    #[test]
    fn every_cut_falls_between_records() {
        // Quoted commas and line feeds, doubled quotes, a quote inside an unquoted field (an
        // ordinary character), a field that goes on after its closing quote, CR LF and blank
        // lines, and a quoted field opened after a CR.
        let text = b"a,\"x, y\",1\n\
                     b,\"two\nlines\",2\r\n\
                     \r\n\
                     c,5\"7,\"say \"\"hi\"\"\n\",3\n\
                     d,\"q\"tail\n,\"z\n\
                     \n\"e\",\"\",4\r\"f\n\",5\n\
                     g,x\"\"y,6\n\
                     h,\"no end\n";
        let whole = records(text, std::slice::from_ref(&(0..text.len())));
        assert_eq!(whole.len(), 8, "{whole:?}");
        for size in 0..text.len() + 2 {
            let pieces: Vec<_> = cut(text, size).collect();
            assert_eq!(pieces.first().map(|p| p.start), Some(0));
            assert_eq!(pieces.last().map(|p| p.end), Some(text.len()));
            for pair in pieces.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert!(pair[0].len() > size, "{size}: {pieces:?}");
            }
            assert_eq!(records(text, &pieces), whole, "size {size}: {pieces:?}");
        }
    }

    #[test]
    fn text_without_quotes_is_cut_at_the_first_line_feed_past_each_size() {
        let text = b"1,2\n3,4\n5,6\n7,8";
        assert_eq!(cut(text, 5).collect::<Vec<_>>(), vec![0..8, 8..15]);
        assert_eq!(
            cut(text, 3).collect::<Vec<_>>(),
            vec![0..4, 4..8, 8..12, 12..15]
        );
        assert_eq!(cut(text, 100).collect::<Vec<_>>(), vec![0..15]);
    }
}
