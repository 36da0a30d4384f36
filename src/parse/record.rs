//! A wheel's RECORD (PEP 376/627): one CSV row per installed file, `path,hash,size`, where the
//! hash is `algorithm=urlsafe-base64-digest` without padding, and hash and size may be empty.
//!
//! CSV quoting is the `csv` crate's (Python's `csv` module writes RECORD: a path with a comma
//! or a quote is quoted, an inner quote doubled), so a path such as `a "b",c.py` reads back
//! exactly; a hand-written split would not.

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
/// One `csv_core` reader is built per RECORD and reset for each line: building a reader
/// compiles its state machine, and doing that per line was 83% of `facts` on a fleet.
pub fn rows(text: &str) -> impl Iterator<Item = Row> + '_ {
    let mut line_reader = LineReader::default();
    text.lines().filter_map(move |line| line_reader.row(line))
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
        let path = field(0).filter(|p| !p.is_empty())?.to_owned();
        let hash = field(1)
            .and_then(|h| h.split_once('='))
            .filter(|(a, d)| !a.is_empty() && !d.is_empty())
            .map(|(a, d)| (a.to_owned(), d.to_owned()));
        let size = field(2).and_then(|n| n.trim().parse::<u64>().ok());
        Some(Row { path, hash, size, well_formed: nfields == 3 })
    }
}

/// The paths RECORD lists, in order.
pub fn paths(text: &str) -> impl Iterator<Item = String> + '_ {
    rows(text).map(|r| r.path)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn hostile_text_never_panics() {
        for t in ["\"", "\"\"\"", ",,,,", "\"a\nb\",x,1", "\u{0}\u{feff},=,-1", "a,=,99999999999999999999999"] {
            let _ = rows(t).count();
        }
        // An unterminated quote spoils its own line only.
        let rows: Vec<Row> = rows("\"unterminated,quote\nok.py,sha256=x,1\n").collect();
        assert_eq!(rows.last().map(|r| r.path.as_str()), Some("ok.py"), "{rows:?}");
    }
}
