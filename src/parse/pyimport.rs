//! The import statements of a Python source file, found by a small tokenizer, never by
//! running it: which modules the file imports, on which line, and whether the import runs
//! unconditionally when the file is imported or only under a guard.
//!
//! The tokenizer knows what Python's does about where code is not: strings of every kind
//! (prefixes, triple quotes, escapes, f-strings with nested quotes), comments, line
//! continuations by backslash and inside brackets, and indentation. So `"import x"` in a
//! docstring or `# from . import y` is no import. Above it, a statement parser tracks the
//! block each line is in by indentation: `def` bodies (run only when called), `try` bodies
//! whose handlers catch `ImportError` (the author handles the failure), `if TYPE_CHECKING:`
//! (never run) and `if __name__ == "__main__":` (run only as a script).
//!
//! Seen: `import a.b`, `from a import b`, relative `from . import x` / `from .x import y`,
//! `with contextlib.suppress(ImportError):`, and `importlib.import_module("a.b")` or
//! `__import__("a.b")` with a literal name. Not seen: names computed at run time.

/// When an import runs, as the enclosing blocks decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum When {
    /// At module level (class bodies and `if` blocks included): whenever the file is imported.
    Always,
    /// Inside a function, or under `if __name__ == "__main__":`: only when that code runs.
    Lazy,
    /// Inside `try:` with a handler for `ImportError` (or a parent of it), or under
    /// `contextlib.suppress(ImportError)`, and the handler does not re-raise: the author
    /// handles its failure.
    Guarded,
    /// Under `if TYPE_CHECKING:`: never at run time.
    TypeChecking,
}

impl When {
    /// Lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            When::Always => "always",
            When::Lazy => "lazy",
            When::Guarded => "guarded",
            When::TypeChecking => "type-checking",
        }
    }
}

/// One imported module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// 1-based line of the statement.
    pub line: u32,
    /// Leading dots of a relative import (0: absolute).
    pub level: u32,
    /// The dotted module after `import` or `from` (empty for `from . import x`).
    pub module: String,
    /// Names after `from M import`: each may be a submodule of `M`. Empty for `import M`
    /// and for `from M import *`.
    pub names: Vec<String>,
    /// When the import runs.
    pub when: When,
}

/// Why a file could not be tokenized: its imports are unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct Unparseable {
    /// 1-based line where tokenizing stopped.
    pub line: u32,
    /// What was wrong.
    pub what: &'static str,
}

/// How deep f-string replacement fields may nest inside one another (Python's own limit is
/// about 150 with PEP 701; real code uses 2 or 3). Bounds the tokenizer's recursion.
const MAX_FSTRING_NESTING: u32 = 32;

/// A token of a logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Name(&'a str),
    /// A one- or two-byte operator (`:=`, `->`, `**` are kept whole so `:` stays the header colon).
    Op(&'a str),
    /// A string literal; its text when it is a plain literal without escapes (for
    /// `import_module("a.b")`).
    Str(Option<&'a str>),
    /// A number or anything else that is neither name, operator nor string.
    Other,
}

struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    line: u32,
}

/// Bytes that may continue an identifier: ASCII letters, digits, `_`, and every non-ASCII
/// byte (a UTF-8 sequence of a letter; the tokenizer needs only the keywords right).
const IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        i += 1;
    }
    t
};

fn is_ident_start(b: u8) -> bool {
    IDENT[b as usize] && !b.is_ascii_digit()
}

fn is_ident(b: u8) -> bool {
    IDENT[b as usize]
}

/// The length of the run of identifier bytes at the start of `s`.
fn ident_len(s: &[u8]) -> usize {
    s.iter().position(|&b| !IDENT[b as usize]).unwrap_or(s.len())
}

impl<'a> Lexer<'a> {
    fn err(&self, what: &'static str) -> Unparseable {
        Unparseable { line: self.line, what }
    }

    fn peek(&self, off: usize) -> u8 {
        self.src.get(self.pos + off).copied().unwrap_or(0)
    }

    /// The length of a string prefix (`rb`, `f`, `u`, ...) at the cursor when a quote follows it.
    fn string_prefix(&self) -> Option<usize> {
        let mut n = 0;
        while n < 3 && matches!(self.peek(n).to_ascii_lowercase(), b'r' | b'b' | b'u' | b'f' | b't') {
            n += 1;
        }
        matches!(self.peek(n), b'\'' | b'"').then_some(n)
    }

    /// Scan a string literal whose prefix starts at the cursor. Returns its token.
    fn string(&mut self, prefix_len: usize, depth: u32) -> Result<Tok<'a>, Unparseable> {
        let prefix = &self.src[self.pos..self.pos + prefix_len];
        let raw = prefix.iter().any(|b| b.eq_ignore_ascii_case(&b'r'));
        let fmt = prefix.iter().any(|b| matches!(b.to_ascii_lowercase(), b'f' | b't'));
        let plain = prefix.iter().all(|b| matches!(b.to_ascii_lowercase(), b'u' | b'r'));
        self.pos += prefix_len;
        let q = self.peek(0);
        let triple = self.peek(1) == q && self.peek(2) == q;
        let qlen = if triple { 3 } else { 1 };
        self.pos += qlen;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Docstrings are most of the bytes of a source file: jump to the next byte that
            // matters (f-strings, short, go byte by byte for their `{`).
            if !fmt {
                let rest = &self.src[self.pos.min(self.src.len())..];
                self.pos += memchr::memchr3(q, b'\\', b'\n', rest).unwrap_or(rest.len());
            }
            let Some(&b) = self.src.get(self.pos) else {
                return Err(self.err(if triple { "unterminated triple-quoted string" } else { "unterminated string" }));
            };
            if b == b'\\' {
                // Even in a raw string a backslash keeps the next quote (or newline) in it.
                escaped = true;
                if self.peek(1) == b'\n' {
                    self.line += 1;
                }
                self.pos += 2;
                continue;
            }
            if b == b'\n' {
                if !triple {
                    return Err(self.err("unterminated string"));
                }
                self.line += 1;
            }
            if fmt && b == b'{' {
                if self.peek(1) == b'{' {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                self.replacement_field(depth + 1)?;
                continue;
            }
            if b == q && (!triple || (self.peek(1) == q && self.peek(2) == q)) {
                let body = &self.text[start..self.pos];
                self.pos += qlen;
                let literal = (plain && (raw || !escaped)).then_some(body);
                return Ok(Tok::Str(literal));
            }
            self.pos += 1;
        }
    }

    /// Skip an f-string replacement field (the cursor is after its `{`): code with brackets
    /// and strings of its own, up to the matching `}`.
    fn replacement_field(&mut self, depth: u32) -> Result<(), Unparseable> {
        if depth > MAX_FSTRING_NESTING {
            return Err(self.err("f-strings nested too deeply"));
        }
        let mut brackets = 0u32;
        loop {
            let Some(&b) = self.src.get(self.pos) else { return Err(self.err("unterminated f-string")) };
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b'(' | b'[' | b'{' => {
                    brackets += 1;
                    self.pos += 1;
                }
                b')' | b']' => {
                    brackets = brackets.saturating_sub(1);
                    self.pos += 1;
                }
                b'}' => {
                    self.pos += 1;
                    if brackets == 0 {
                        return Ok(());
                    }
                    brackets -= 1;
                }
                b'#' => {
                    while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'\'' | b'"' => {
                    self.string(0, depth)?;
                }
                _ if is_ident_start(b) => {
                    if let Some(n) = self.string_prefix() {
                        self.string(n, depth)?;
                    } else {
                        while is_ident(self.peek(0)) {
                            self.pos += 1;
                        }
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Every logical line of the file, handed to `each` as (indentation column, first physical
    /// line, tokens) as soon as it ends: one token buffer for the whole file.
    fn lines(mut self, mut each: impl FnMut(u32, u32, &[Tok<'a>])) -> Result<(), Unparseable> {
        let mut toks: Vec<Tok<'a>> = Vec::new();
        let mut first_line = 0;
        let mut brackets = 0u32;
        let mut at_line_start = true;
        let mut indent = 0u32;
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            if at_line_start {
                // Indentation of a new physical line that may start a logical line.
                indent = 0;
                while let Some(&c) = self.src.get(self.pos) {
                    match c {
                        b' ' => indent += 1,
                        b'\t' => indent = (indent / 8 + 1) * 8,
                        b'\x0c' => indent = 0,
                        _ => break,
                    }
                    self.pos += 1;
                }
                at_line_start = false;
                continue;
            }
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    if brackets == 0 {
                        if !toks.is_empty() {
                            each(indent_of_line(&toks, indent), first_line, &toks);
                            toks.clear();
                        }
                        at_line_start = true;
                    }
                }
                b'\r' | b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'#' => {
                    self.pos = memchr::memchr(b'\n', &self.src[self.pos..]).map_or(self.src.len(), |i| self.pos + i);
                }
                b'\\' if matches!(self.peek(1), b'\n') || (self.peek(1) == b'\r' && self.peek(2) == b'\n') => {
                    self.pos += if self.peek(1) == b'\r' { 3 } else { 2 };
                    self.line += 1;
                }
                0 => return Err(self.err("NUL byte: not Python source")),
                _ => {
                    if toks.is_empty() {
                        first_line = self.line;
                    }
                    let prefix = if b == b'\'' || b == b'"' || is_ident_start(b) { self.string_prefix() } else { None };
                    let tok = if let Some(n) = prefix {
                        self.string(n, 0)?
                    } else if is_ident_start(b) {
                        let start = self.pos;
                        self.pos += ident_len(&self.src[start..]);
                        // Both ends are at ASCII bytes or the end: char boundaries.
                        self.text.get(start..self.pos).map_or(Tok::Other, Tok::Name)
                    } else if b.is_ascii_digit() || (b == b'.' && self.peek(1).is_ascii_digit()) {
                        while is_ident(self.peek(0)) || self.peek(0) == b'.' {
                            self.pos += 1;
                        }
                        Tok::Other
                    } else {
                        let two = [b, self.peek(1)];
                        let n = if matches!(&two, b":=" | b"->" | b"**" | b"//" | b"==" | b"!=" | b"<=" | b">=") {
                            2
                        } else {
                            1
                        };
                        match b {
                            b'(' | b'[' | b'{' => brackets += 1,
                            b')' | b']' | b'}' => brackets = brackets.saturating_sub(1),
                            _ => {}
                        }
                        let s = self.text.get(self.pos..self.pos + n).unwrap_or("?");
                        self.pos += n;
                        Tok::Op(s)
                    };
                    toks.push(tok);
                }
            }
        }
        if !toks.is_empty() {
            each(indent_of_line(&toks, indent), first_line, &toks);
        }
        Ok(())
    }
}

/// The indentation a logical line is judged by: the column of its first physical line.
fn indent_of_line(_toks: &[Tok], indent: u32) -> u32 {
    indent
}

/// The kind of block a line is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Function,
    /// The body of the `try` with this index into the parser's list of tries.
    Try(usize),
    /// The first handler of that `try` that catches import errors.
    Handler(usize),
    Suppress,
    TypeChecking,
    Main,
    Other,
}

/// The imports of a Python source file, in order. Bytes that are not UTF-8 inside names make
/// those names unusable, not the file: only the structure matters.
pub fn imports(src: &[u8]) -> Result<Vec<Import>, Unparseable> {
    // A file that is not UTF-8 is tokenized on its bytes with non-UTF-8 stretches replaced.
    let owned;
    let text = match std::str::from_utf8(src) {
        Ok(t) => t,
        Err(_) => {
            owned = String::from_utf8_lossy(src).into_owned();
            owned.as_str()
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Open blocks with the indentation of their header; a line at or left of a header's
    // column is outside that block.
    let mut stack: Vec<(u32, Block)> = Vec::new();
    // For each try: `None` until a handler catching ImportError is seen, then whether that
    // handler handles it (`false` when it re-raises: Pillow's `except ImportError: … raise`).
    let mut tries: Vec<Option<bool>> = Vec::new();
    // The last `try` header at each indentation still open to handlers.
    let mut open_tries: Vec<(u32, usize)> = Vec::new();
    let mut found: Vec<(Import, Vec<Block>)> = Vec::new();
    let lexer = Lexer { src: text.as_bytes(), text, pos: 0, line: 1 };
    lexer.lines(|indent, line, all: &[Tok]| {
        while stack.last().is_some_and(|(col, _)| *col >= indent) {
            stack.pop();
        }
        // A handler, `else` or `finally` at a try's column keeps that try open to more
        // handlers; anything else at or left of that column closes it.
        let continues_try = matches!(all.first(), Some(Tok::Name("except" | "else" | "finally")));
        open_tries.retain(|(col, _)| *col < indent || (*col == indent && continues_try));
        let mut toks: &[Tok] = all;
        // A compound header may carry its body, simple statements only, on the same line
        // (`try: import x`).
        let mut pushed = false;
        if let Some((kind, rest)) = header(toks, indent, &mut tries, &mut open_tries) {
            stack.push((indent, kind));
            pushed = true;
            toks = rest;
        }
        for stmt in toks.split(|t| *t == Tok::Op(";")) {
            if stmt.first() == Some(&Tok::Name("raise")) {
                // A raise in the handler's own code (not in a function it defines) means the
                // import error escapes: no guard.
                for (_, b) in stack.iter().rev() {
                    match b {
                        Block::Function => break,
                        Block::Handler(id) => {
                            tries[*id] = Some(false);
                            break;
                        }
                        _ => {}
                    }
                }
            }
            for imp in statement(stmt, line) {
                found.push((imp, stack.iter().map(|(_, b)| *b).collect()));
            }
        }
        // A one-line compound statement's block ends with the line.
        if pushed && !toks.is_empty() {
            stack.pop();
        }
    })?;
    Ok(found
        .into_iter()
        .map(|(mut imp, blocks)| {
            imp.when = when(&blocks, &tries);
            imp
        })
        .collect())
}

/// When an import inside these blocks runs.
fn when(blocks: &[Block], tries: &[Option<bool>]) -> When {
    if blocks.contains(&Block::TypeChecking) {
        return When::TypeChecking;
    }
    let guarded = blocks.iter().any(|b| match b {
        Block::Try(i) => tries.get(*i).copied().flatten().unwrap_or(false),
        Block::Suppress => true,
        _ => false,
    });
    if guarded {
        When::Guarded
    } else if blocks.iter().any(|b| matches!(b, Block::Function | Block::Main)) {
        When::Lazy
    } else {
        When::Always
    }
}

/// Exceptions whose handler catches a module that is there but fails to load: `dlopen`'s
/// failure is a plain `ImportError`, which `except ModuleNotFoundError` (the module is absent)
/// does not catch.
const IMPORT_ERRORS: &[&str] = &["ImportError", "Exception", "BaseException"];

/// The header colon of a compound statement: the first `:` outside brackets that does not
/// end a `lambda`'s parameters.
fn header_colon(toks: &[Tok]) -> Option<usize> {
    let mut depth = 0i32;
    let mut lambdas = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => depth -= 1,
            Tok::Name("lambda") if depth == 0 => lambdas += 1,
            Tok::Op(":") if depth == 0 => {
                if lambdas > 0 {
                    lambdas -= 1;
                } else {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// If `toks` starts with a compound statement header, the block it opens and the tokens
/// after its colon (its body when on the same line).
fn header<'t, 'a>(
    toks: &'t [Tok<'a>],
    indent: u32,
    tries: &mut Vec<Option<bool>>,
    open_tries: &mut Vec<(u32, usize)>,
) -> Option<(Block, &'t [Tok<'a>])> {
    let first = match toks.first()? {
        Tok::Name(n) => *n,
        _ => return None,
    };
    let first = if first == "async" {
        match toks.get(1)? {
            Tok::Name(n @ ("def" | "with" | "for")) => *n,
            _ => return None,
        }
    } else {
        first
    };
    if !matches!(
        first,
        "def"
            | "class"
            | "if"
            | "elif"
            | "else"
            | "try"
            | "except"
            | "finally"
            | "with"
            | "for"
            | "while"
            | "match"
            | "case"
    ) {
        return None;
    }
    let colon = header_colon(toks)?;
    // `match`/`case` are soft keywords: `match = 1` or `case(x)` is no header; a header has
    // its colon last or a body after it.
    let head = &toks[..colon];
    let rest = &toks[colon + 1..];
    let kind = match first {
        "def" => Block::Function,
        "try" => {
            tries.push(None);
            let id = tries.len() - 1;
            open_tries.retain(|(col, _)| *col != indent);
            open_tries.push((indent, id));
            Block::Try(id)
        }
        "except" => {
            // A bare `except:` catches everything; `except*` groups too.
            let catches = head.len() == 1 || catches_import(&head[1..]);
            // The first handler that catches the import error is the one that runs.
            match open_tries.iter().rev().find(|(col, _)| *col == indent) {
                Some(&(_, id)) if catches && tries[id].is_none() => {
                    tries[id] = Some(true);
                    Block::Handler(id)
                }
                _ => Block::Other,
            }
        }
        "if" => {
            if is_type_checking(&head[1..]) {
                Block::TypeChecking
            } else if is_main_guard(&head[1..]) {
                Block::Main
            } else {
                Block::Other
            }
        }
        "with" if head.contains(&Tok::Name("suppress")) && catches_import(head) => Block::Suppress,
        _ => Block::Other,
    };
    Some((kind, rest))
}

/// Whether an exception expression (after `except`, up to `as`) names an import error.
fn catches_import(expr: &[Tok]) -> bool {
    expr.iter().take_while(|t| **t != Tok::Name("as")).any(|t| matches!(t, Tok::Name(n) if IMPORT_ERRORS.contains(n)))
}

fn is_type_checking(cond: &[Tok]) -> bool {
    matches!(cond, [Tok::Name("TYPE_CHECKING")] | [Tok::Name(_), Tok::Op("."), Tok::Name("TYPE_CHECKING")])
}

fn is_main_guard(cond: &[Tok]) -> bool {
    matches!(
        cond,
        [Tok::Name("__name__"), Tok::Op("=="), Tok::Str(Some("__main__"))]
            | [Tok::Str(Some("__main__")), Tok::Op("=="), Tok::Name("__name__")]
    )
}

/// A dotted name at the start of `toks`, and how many tokens it took.
fn dotted(toks: &[Tok]) -> (String, usize) {
    let mut name = String::new();
    let mut i = 0;
    while let Some(Tok::Name(n)) = toks.get(i) {
        name.push_str(n);
        i += 1;
        if toks.get(i) == Some(&Tok::Op(".")) && matches!(toks.get(i + 1), Some(Tok::Name(_))) {
            name.push('.');
            i += 1;
        } else {
            break;
        }
    }
    (name, i)
}

/// The imports of one simple statement.
fn statement(toks: &[Tok], line: u32) -> Vec<Import> {
    let mk = |level, module: String, names| Import { line, level, module, names, when: When::Always };
    match toks.first() {
        Some(Tok::Name("import")) => {
            let mut out = Vec::new();
            for part in toks[1..].split(|t| *t == Tok::Op(",")) {
                let part: &[Tok] = match part {
                    [Tok::Op("("), inner @ .., Tok::Op(")")] => inner,
                    p => p,
                };
                let (name, _) = dotted(part);
                if !name.is_empty() {
                    out.push(mk(0, name, Vec::new()));
                }
            }
            out
        }
        Some(Tok::Name("from")) => {
            let mut i = 1;
            let mut level = 0;
            while toks.get(i) == Some(&Tok::Op(".")) {
                level += 1;
                i += 1;
            }
            // `from . import x`: the keyword is not a module name.
            let (module, n) =
                if toks.get(i) == Some(&Tok::Name("import")) { (String::new(), 0) } else { dotted(&toks[i..]) };
            i += n;
            if toks.get(i) != Some(&Tok::Name("import")) || (level == 0 && module.is_empty()) {
                return Vec::new();
            }
            let mut names = Vec::new();
            let mut expect_name = true;
            for t in &toks[i + 1..] {
                match t {
                    Tok::Name("as") => expect_name = false,
                    Tok::Op(",") => expect_name = true,
                    Tok::Name(n) if expect_name => {
                        names.push((*n).to_owned());
                        expect_name = false;
                    }
                    _ => {}
                }
            }
            vec![mk(level, module, names)]
        }
        _ => {
            // `importlib.import_module("a.b")`, `import_module(".x", __package__)`, `__import__("a")`.
            let mut out = Vec::new();
            for (i, t) in toks.iter().enumerate() {
                if matches!(t, Tok::Name("import_module" | "__import__"))
                    && toks.get(i + 1) == Some(&Tok::Op("("))
                    && let Some(Tok::Str(Some(s))) = toks.get(i + 2)
                    && matches!(toks.get(i + 3), Some(Tok::Op(")" | ",")))
                {
                    let level = s.bytes().take_while(|&b| b == b'.').count();
                    let name = &s[level..];
                    if (level > 0 || !name.is_empty()) && name.split('.').all(is_identifier) {
                        out.push(mk(level as u32, name.to_owned(), Vec::new()));
                    }
                }
            }
            out
        }
    }
}

/// Whether `s` is a Python identifier (ASCII letters, digits, `_`, or any non-ASCII
/// character, not starting with a digit) or empty.
pub fn is_identifier(s: &str) -> bool {
    s.is_empty() || (s.bytes().next().is_some_and(is_ident_start) && s.bytes().all(is_ident))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imps(src: &str) -> Vec<(String, Vec<String>, u32, When, u32)> {
        imports(src.as_bytes())
            .unwrap()
            .into_iter()
            .map(|i| (format!("{}{}", ".".repeat(i.level as usize), i.module), i.names, i.line, i.when, i.level))
            .collect()
    }

    fn names(src: &str) -> Vec<(String, When)> {
        imps(src)
            .into_iter()
            .map(|(m, n, _, w, _)| (if n.is_empty() { m } else { format!("{m}:{}", n.join(",")) }, w))
            .collect()
    }

    #[test]
    fn plain_imports() {
        let got = names(
            "import os, a.b as c\nfrom x.y import (p,\n    q as r)\nfrom . import _core\nfrom ..pkg.m import *\nfrom .x import y\n",
        );
        assert_eq!(
            got,
            [
                ("os".to_owned(), When::Always),
                ("a.b".to_owned(), When::Always),
                ("x.y:p,q".to_owned(), When::Always),
                (".:_core".to_owned(), When::Always),
                ("..pkg.m".to_owned(), When::Always),
                (".x:y".to_owned(), When::Always),
            ]
        );
        let lines: Vec<u32> = imps("\n\nimport a\nfrom b import (\n c)\nimport d\n").iter().map(|x| x.2).collect();
        assert_eq!(lines, [3, 4, 6]);
    }

    #[test]
    fn strings_comments_and_continuations_do_not_fool_it() {
        let src = r#""""Docstring.
import fake_in_docstring
"""
# import fake_in_comment
s = 'import fake_in_string'
t = "from x import \"fake\" "
u = r'\' import fake_raw'
v = f"{x['import fake_f']!r} {'{'} import fake" + f'''{
    "a"
}'''
w = b"\
import fake_continued"
x = 1 + \
    2; import real_after_semicolon
y = (1,
import_fake)
from real \
    import thing
"#;
        assert_eq!(
            names(src),
            [("real_after_semicolon".to_owned(), When::Always), ("real:thing".to_owned(), When::Always)]
        );
    }

    #[test]
    fn nested_fstring_quotes() {
        // PEP 701 (3.12): the same quote inside a replacement field.
        let src = "x = f\"{d[\"k\"]} {f'{y:{w}}'}\"\nimport after\n";
        assert_eq!(names(src), [("after".to_owned(), When::Always)]);
    }

    #[test]
    fn guards_functions_and_type_checking() {
        let src = "\
try:
    from . import _opt
except ImportError:
    _opt = None
try:
    import _notguarded
except OSError:
    pass
try:
    import _tuple
except (OSError, ImportError) as e:
    pass
try:
    import _bare
except:
    pass
else:
    import _in_else
finally:
    import _in_finally
def f():
    import _lazy
    try:
        from . import tbbpool
    except ImportError:
        pass
class C:
    import _in_class
if TYPE_CHECKING:
    import _typing_only
else:
    import _runtime
if typing.TYPE_CHECKING: import _t2
if sys.version_info >= (3, 8):
    import _conditional
if __name__ == '__main__':
    import _main
with contextlib.suppress(ImportError):
    import _suppressed
try: import _oneline
except ImportError: pass
import _after
async def g():
    import _async_lazy
";
        let got = names(src);
        let want = [
            (".:_opt", When::Guarded),
            ("_notguarded", When::Always),
            ("_tuple", When::Guarded),
            ("_bare", When::Guarded),
            ("_in_else", When::Always),
            ("_in_finally", When::Always),
            ("_lazy", When::Lazy),
            (".:tbbpool", When::Guarded),
            ("_in_class", When::Always),
            ("_typing_only", When::TypeChecking),
            ("_runtime", When::Always),
            ("_t2", When::TypeChecking),
            ("_conditional", When::Always),
            ("_main", When::Lazy),
            ("_suppressed", When::Guarded),
            ("_oneline", When::Guarded),
            ("_after", When::Always),
            ("_async_lazy", When::Lazy),
        ];
        let want: Vec<(String, When)> = want.iter().map(|(m, w)| ((*m).to_owned(), *w)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_handler_that_reraises_is_no_guard() {
        // Pillow's PIL/Image.py: the handler warns, then raises.
        let src = "\
try:
    from . import _imaging as core
except ImportError as v:
    if str(v).startswith('x'):
        warnings.warn(str(v))
    raise
try:
    import a
except ImportError as e:
    raise RuntimeError('need a') from e
try:
    import b
except ImportError: raise
try:
    import c
except ImportError:
    def later():
        raise
    c = None
try:
    import d
except ModuleNotFoundError:
    d = None
except ImportError:
    raise
try:
    import e
except ModuleNotFoundError:
    e = None
";
        assert_eq!(
            names(src),
            [
                (".:_imaging".to_owned(), When::Always),
                ("a".to_owned(), When::Always),
                ("b".to_owned(), When::Always),
                ("c".to_owned(), When::Guarded),
                // A library that fails to load raises ImportError, not ModuleNotFoundError.
                ("d".to_owned(), When::Always),
                ("e".to_owned(), When::Always),
            ]
        );
    }

    #[test]
    fn nested_try_handlers_are_matched_by_column() {
        let src = "\
try:
    try:
        import inner
    except OSError:
        pass
    import outer_body
except ImportError:
    pass
";
        assert_eq!(names(src), [("inner".to_owned(), When::Guarded), ("outer_body".to_owned(), When::Guarded)]);
        let src = "try:\n    import a\nexcept OSError:\n    pass\ntry:\n    import b\nexcept ImportError:\n    pass\n";
        assert_eq!(names(src), [("a".to_owned(), When::Always), ("b".to_owned(), When::Guarded)]);
    }

    #[test]
    fn literal_dynamic_imports() {
        let src = "m = importlib.import_module('pkg._ext')\nn = import_module('.sub', __package__)\n__import__(\"x\")\nimportlib.import_module(name)\n";
        assert_eq!(
            names(src),
            [("pkg._ext".to_owned(), When::Always), (".sub".to_owned(), When::Always), ("x".to_owned(), When::Always)]
        );
    }

    #[test]
    fn tabs_crlf_and_bom() {
        let src = "\u{feff}if x:\r\n\tdef f():\r\n\t\timport lazy\r\n\timport eager\r\n";
        assert_eq!(names(src), [("lazy".to_owned(), When::Lazy), ("eager".to_owned(), When::Always)]);
    }

    #[test]
    fn broken_files_are_errors_not_guesses() {
        assert!(imports(b"x = '''never closed\nimport a\n").is_err());
        assert!(imports(b"x = 'open\nimport a\n").is_err());
        assert!(imports(b"import a\0\n").is_err());
        let deep = format!("f\"{}\"", "{f'".repeat(200));
        assert!(imports(deep.as_bytes()).is_err());
        // Non-UTF-8 bytes (a latin-1 file) do not hide the imports.
        assert_eq!(imports(b"# coding: latin-1\ns = '\xe9'\nimport a\n").unwrap().len(), 1);
    }

    #[test]
    fn soft_keywords_and_names_like_keywords() {
        let src = "match = 1\nimport_thing = 2\nfrom_ = 3\nmatch x:\n    case 1:\n        import in_case\n";
        assert_eq!(names(src), [("in_case".to_owned(), When::Always)]);
    }
}
