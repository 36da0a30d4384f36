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
pub fn rows(text: &str) -> impl Iterator<Item = Row> + '_ {
    text.lines().filter_map(row)
}

/// One line of RECORD, `None` when it names no path.
fn row(line: &str) -> Option<Row> {
    let r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        // One line: the default 8 KiB buffer per row would be most of the work.
        .buffer_capacity(line.len().clamp(64, 8192))
        .from_reader(line.as_bytes())
        .into_records()
        .next()?
        .ok()?;
    let path = r.get(0).filter(|p| !p.is_empty())?.to_owned();
    let hash = r
        .get(1)
        .and_then(|h| h.split_once('='))
        .filter(|(a, d)| !a.is_empty() && !d.is_empty())
        .map(|(a, d)| (a.to_owned(), d.to_owned()));
    let size = r.get(2).and_then(|n| n.trim().parse::<u64>().ok());
    Some(Row { path, hash, size, well_formed: r.len() == 3 })
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
