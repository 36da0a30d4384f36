//! A wheel's RECORD (PEP 376/627): one CSV row per installed file, `path,hash,size`, where the
//! hash is `algorithm=urlsafe-base64-digest` without padding, and hash and size may be empty.
//!
//! CSV quoting is the `csv` crate's (Python's `csv` module writes RECORD: a path with a comma
//! or a quote is quoted, an inner quote doubled), so a path such as `a "b",c.py` reads back
//! exactly; a hand-written split would not.

use std::borrow::Cow;

/// One row of RECORD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The path as written, relative to the directory holding the `.dist-info` (may start
    /// with `../` for files installed outside site-packages, e.g. `bin/`).
    pub path: String,
    /// `(algorithm, digest)` when the row states a hash.
    pub hash: Option<(String, String)>,
    /// Size in bytes when the row states one.
    pub size: Option<u64>,
    /// Whether the row has exactly the three fields installers write; others are malformed.
    pub well_formed: bool,
}

/// Every row of a RECORD text, malformed ones included (`well_formed` says which). Each line
/// is one row: a hostile line with an unterminated quote spoils that line only, never the
/// rows after it (installers never write a newline inside a path).
///
/// Lines without quotes (nearly all of them) are split on commas, which is what a CSV reader
/// does with them; the others go through one `csv_core` reader, built when the first such
/// line comes and reset for each (building one compiles its state machine, and doing that
/// per line was 83% of `facts` on a fleet).
pub fn rows(text: &str) -> impl Iterator<Item = Row> + '_ {
    let mut quoted: Option<LineReader> = None;
    Lines(text).filter_map(move |line| match plain_fields(line) {
        Some(fields) => row_of(fields.0, fields.1, fields.2, fields.3),
        None => quoted.get_or_insert_with(LineReader::default).row(line),
    })
}

/// The paths RECORD lists, in order: borrowed from `text` for lines without quotes.
pub fn paths(text: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
    let mut quoted: Option<LineReader> = None;
    Lines(text).filter_map(move |line| match plain_path(line) {
        Some(path) => (!path.is_empty()).then_some(Cow::Borrowed(path)),
        None => quoted.get_or_insert_with(LineReader::default).row(line).map(|r| Cow::Owned(r.path)),
    })
}

/// A line with neither quotes nor a carriage return (which a CSV reader takes as a record
/// end), split on commas: the first three fields and the number of fields.
fn plain_fields(line: &str) -> Option<(&str, Option<&str>, Option<&str>, usize)> {
    if memchr::memchr2(b'"', b'\r', line.as_bytes()).is_some() {
        return None;
    }
    let mut fields = line.split(',');
    let path = fields.next().unwrap_or("");
    let hash = fields.next();
    let size = fields.next();
    let nfields = 1 + usize::from(hash.is_some()) + usize::from(size.is_some()) + fields.count();
    Some((path, hash, size, nfields))
}

/// The path of a line with neither quotes nor a carriage return: up to the first comma.
fn plain_path(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    if memchr::memchr2(b'"', b'\r', bytes).is_some() {
        return None;
    }
    Some(memchr::memchr(b',', bytes).map_or(line, |i| &line[..i]))
}

/// The lines of a text exactly as [`str::lines`] splits them (on `\n`, dropping the `\r` of
/// a `\r\n`), found with `memchr`: the char searcher `lines` uses was a fifth of the
/// extensions family's time on a fleet of large RECORDs.
struct Lines<'a>(&'a str);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.0.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.0.as_bytes()) {
            // '\n' is ASCII, so both sides are on char boundaries.
            Some(i) => {
                let line = &self.0[..i];
                (line.strip_suffix('\r').unwrap_or(line), &self.0[i + 1..])
            }
            None => (self.0, ""),
        };
        self.0 = rest;
        Some(line)
    }
}

/// A row from its first three fields and the number of fields (`None` without a path).
fn row_of(path: &str, hash: Option<&str>, size: Option<&str>, nfields: usize) -> Option<Row> {
    if path.is_empty() {
        return None;
    }
    let hash = hash
        .and_then(|h| h.split_once('='))
        .filter(|(a, d)| !a.is_empty() && !d.is_empty())
        .map(|(a, d)| (a.to_owned(), d.to_owned()));
    let size = size.and_then(|n| n.trim().parse::<u64>().ok());
    Some(Row { path: path.to_owned(), hash, size, well_formed: nfields == 3 })
}

/// A CSV reader and its buffers, reused for every line of one RECORD.
struct LineReader {
    reader: csv_core::Reader,
    input: Vec<u8>,
    output: Vec<u8>,
    ends: Vec<usize>,
}

impl Default for LineReader {
    fn default() -> Self {
        // `csv_core::Reader::new()`: Python's csv dialect (comma, double quote, doubled
        // quotes, any line terminator).
        LineReader { reader: csv_core::Reader::new(), input: Vec::new(), output: Vec::new(), ends: Vec::new() }
    }
}

impl LineReader {
    /// One line of RECORD, `None` when it names no path or its quoting is unterminated.
    fn row(&mut self, line: &str) -> Option<Row> {
        self.reader.reset();
        // The line with its terminator: a record is complete when the reader reaches it
        // outside quotes, so one call reads the whole line.
        self.input.clear();
        self.input.extend_from_slice(line.as_bytes());
        self.input.push(b'\n');
        // Unquoting only shrinks a line, and a line of n bytes has at most n + 1 fields.
        self.output.clear();
        self.output.resize(self.input.len(), 0);
        self.ends.clear();
        self.ends.resize(self.input.len() + 1, 0);
        let (result, _, _, nfields) = self.reader.read_record(&self.input, &mut self.output, &mut self.ends);
        if result != csv_core::ReadRecordResult::Record {
            return None;
        }
        let field = |i: usize| -> Option<&str> {
            let end = *self.ends[..nfields].get(i)?;
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            std::str::from_utf8(&self.output[start..end]).ok()
        };
        row_of(field(0)?, field(1), field(2), nfields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_as_str_lines() {
        for text in ["", "a", "a\n", "a\r\nb", "a\n\nb\r\n", "\r\n", "a\rb\n", "tail\r", "\n\n", "é\nü\r\n"] {
            assert_eq!(Lines(text).collect::<Vec<_>>(), text.lines().collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn rows_as_pythons_csv_writes_them() {
        let text = "pkg/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\n\
                    \"a,b/c.py\",sha256=x,12\n\
                    \"q\"\"uote\".py,,\n\
                    pkg-1.0.dist-info/RECORD,,\n\
                    too,many,fields,here\n\
                    \n\
                    ,sha256=x,1\n";
        let rows: Vec<Row> = rows(text).collect();
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert_eq!(rows[0].path, "pkg/__init__.py");
        assert_eq!(rows[0].hash, Some(("sha256".into(), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU".into())));
        assert_eq!(rows[0].size, Some(0));
        assert_eq!(rows[1].path, "a,b/c.py");
        assert_eq!(rows[1].size, Some(12));
        // A doubled quote inside a quoted field is one quote.
        assert_eq!(rows[2].path, "q\"uote.py");
        assert_eq!((rows[2].hash.clone(), rows[2].size), (None, None));
        assert!(rows[3].well_formed);
        assert!(!rows[4].well_formed);
    }

    #[test]
    fn plain_lines_read_as_the_csv_reader_reads_them() {
        let lines = [
            "a.py,sha256=x,1",
            "a.py,,",
            "a.py",
            "a.py,h",
            "a.py,sha256=x,1,extra",
            "a.py,sha256=x,1,,",
            ",x,1",
            "",
            ",,",
            "a b/c.py , sha256=y , 7 ",
            "a.py,=,",
        ];
        for line in lines {
            let plain = plain_fields(line).and_then(|(p, h, s, n)| row_of(p, h, s, n));
            let csv = LineReader::default().row(line);
            assert_eq!(plain, csv, "{line:?}");
            assert_eq!(
                paths(line).map(Cow::into_owned).collect::<Vec<_>>(),
                rows(line).map(|r| r.path).collect::<Vec<_>>()
            );
        }
        // The plain path was taken for these lines, the reader's for quoted ones.
        assert!(plain_fields("a.py,sha256=x,1").is_some());
        assert!(plain_fields("\"a,b\",x,1").is_none());
    }

    #[test]
    fn hostile_text_never_panics() {
        for t in ["\"", "\"\"\"", ",,,,", "\"a\nb\",x,1", "\u{0}\u{feff},=,-1", "a,=,99999999999999999999999"] {
            let _ = rows(t).count();
        }
        // An unterminated quote spoils its own line only.
        let rows: Vec<Row> = rows("\"unterminated,quote\nok.py,sha256=x,1\n").collect();
        assert_eq!(rows.last().map(|r| r.path.as_str()), Some("ok.py"), "{rows:?}");
    }
}
