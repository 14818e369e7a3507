//! The SQL fragments the REST service passes to the database: `where`, `orderby` and `columns` (docs/kentico.md §3.4).
//!
//! Supported `where` grammar (what clients realistically send): comparisons `= <> != < <= > >=` between a column
//! and a literal (or two columns), `[NOT] IN (…)`, `[NOT] LIKE '…'`, `IS [NOT] NULL`, `BETWEEN … AND …`, `AND`,
//! `OR`, `NOT` and parentheses. Literals: integers, decimals, `'text'` (with `''` escapes), `N'text'`, `NULL`.
//! Column names may be `[bracketed]`. Literals are converted to the column's type as SQL Server would; a date
//! literal is a local time of the server.

use std::cmp::Ordering;

use rust_decimal::Decimal;
use time::UtcOffset;
use uuid::Uuid;

use super::class::{Class, Table};
use super::clock;
use super::value::{Kind, Value};

/// Why a query fragment was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// Looks like SQL injection (comments, `;`, statements): Kentico answers 403.
    Unsafe(String),
    /// Does not parse or names an unknown column: the database rejects it.
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Number(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

/// Statement keywords Kentico's SQL-injection check refuses in a `where`/`orderby`/`columns` fragment.
// guess: the exact word list of Kentico's SqlSecurityHelper is not in the reference.
const UNSAFE_WORDS: &[&str] = &[
    "select",
    "insert",
    "update",
    "delete",
    "drop",
    "exec",
    "execute",
    "declare",
    "alter",
    "create",
    "truncate",
    "merge",
    "union",
    "shutdown",
    "xp_cmdshell",
    "waitfor",
];

fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            ';' => return Err(QueryError::Unsafe("';' is not allowed".into())),
            '-' if chars.get(i + 1) == Some(&'-') => {
                return Err(QueryError::Unsafe("comments are not allowed".into()));
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                return Err(QueryError::Unsafe("comments are not allowed".into()));
            }
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let (s, next) = string_literal(&chars, i + 1)?;
                tokens.push(Token::Str(s));
                i = next;
            }
            'N' | 'n' if chars.get(i + 1) == Some(&'\'') => {
                let (s, next) = string_literal(&chars, i + 2)?;
                tokens.push(Token::Str(s));
                i = next;
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|c| *c == ']')
                    .ok_or_else(|| QueryError::Invalid("unclosed [".into()))?;
                tokens.push(Token::Ident(chars[i + 1..i + end].iter().collect()));
                i += end + 1;
            }
            '=' => {
                tokens.push(Token::Op("="));
                i += 1;
            }
            '<' | '>' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let (op, len) = match two.as_str() {
                    "<=" => ("<=", 2),
                    ">=" => (">=", 2),
                    "<>" | "!=" => ("<>", 2),
                    _ if c == '<' => ("<", 1),
                    _ if c == '>' => (">", 1),
                    _ => return Err(QueryError::Invalid(format!("unexpected {c:?}"))),
                };
                i += len;
                tokens.push(Token::Op(op));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                tokens.push(Token::Number(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' || c == '@' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || chars[i] == '_'
                        || chars[i] == '.'
                        || chars[i] == '@')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if UNSAFE_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
                    return Err(QueryError::Unsafe(format!("{word} is not allowed")));
                }
                tokens.push(Token::Ident(word));
            }
            other => return Err(QueryError::Invalid(format!("unexpected {other:?}"))),
        }
    }
    Ok(tokens)
}

fn string_literal(chars: &[char], mut i: usize) -> Result<(String, usize), QueryError> {
    let mut s = String::new();
    loop {
        match chars.get(i) {
            None => return Err(QueryError::Invalid("unclosed string literal".into())),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(c) => {
                s.push(*c);
                i += 1;
            }
        }
    }
}

/// A literal before it is converted to a column's type.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Number(String),
    Str(String),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Column(usize),
    Literal(Lit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A bound `where` condition over one class.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    /// Always true (no `where`).
    True,
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(usize, Op, Value),
    Columns(usize, Op, usize),
    Constant(bool),
    In(usize, Vec<Value>),
    Like(usize, String),
    IsNull(usize),
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    class: &'a Class,
    offset: UtcOffset,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: Token) -> Result<(), QueryError> {
        match self.next() {
            Some(t) if t == token => Ok(()),
            other => Err(QueryError::Invalid(format!(
                "expected {token:?}, found {other:?}"
            ))),
        }
    }

    fn or(&mut self) -> Result<Condition, QueryError> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, QueryError> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            left = Condition::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition, QueryError> {
        if self.keyword("NOT") {
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, QueryError> {
        if self.peek() == Some(&Token::LParen) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Token::RParen)?;
            return Ok(inner);
        }
        let left = self.operand()?;
        if self.keyword("IS") {
            let negated = self.keyword("NOT");
            if !self.keyword("NULL") {
                return Err(QueryError::Invalid("expected NULL after IS".into()));
            }
            let col = self.column_of(&left)?;
            let c = Condition::IsNull(col);
            return Ok(if negated {
                Condition::Not(Box::new(c))
            } else {
                c
            });
        }
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            let col = self.column_of(&left)?;
            self.expect(Token::LParen)?;
            let mut values = Vec::new();
            loop {
                let lit = self.literal()?;
                values.push(self.convert(col, &lit)?);
                match self.next() {
                    Some(Token::Comma) => continue,
                    Some(Token::RParen) => break,
                    other => {
                        return Err(QueryError::Invalid(format!(
                            "expected , or ) in IN list, found {other:?}"
                        )));
                    }
                }
            }
            let c = Condition::In(col, values);
            return Ok(if negated {
                Condition::Not(Box::new(c))
            } else {
                c
            });
        }
        if self.keyword("LIKE") {
            let col = self.column_of(&left)?;
            let Lit::Str(pattern) = self.literal()? else {
                return Err(QueryError::Invalid("LIKE needs a string pattern".into()));
            };
            let c = Condition::Like(col, pattern);
            return Ok(if negated {
                Condition::Not(Box::new(c))
            } else {
                c
            });
        }
        if self.keyword("BETWEEN") {
            let col = self.column_of(&left)?;
            let low = self.literal()?;
            if !self.keyword("AND") {
                return Err(QueryError::Invalid("expected AND in BETWEEN".into()));
            }
            let high = self.literal()?;
            let c = Condition::And(
                Box::new(Condition::Compare(col, Op::Ge, self.convert(col, &low)?)),
                Box::new(Condition::Compare(col, Op::Le, self.convert(col, &high)?)),
            );
            return Ok(if negated {
                Condition::Not(Box::new(c))
            } else {
                c
            });
        }
        if negated {
            return Err(QueryError::Invalid(
                "NOT must precede IN, LIKE or BETWEEN".into(),
            ));
        }
        let op = match self.next() {
            Some(Token::Op(o)) => match o {
                "=" => Op::Eq,
                "<>" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                _ => Op::Ge,
            },
            other => {
                return Err(QueryError::Invalid(format!(
                    "expected a comparison, found {other:?}"
                )));
            }
        };
        let right = self.operand()?;
        match (left, right) {
            (Operand::Column(a), Operand::Column(b)) => Ok(Condition::Columns(a, op, b)),
            (Operand::Column(a), Operand::Literal(l)) => {
                Ok(Condition::Compare(a, op, self.convert(a, &l)?))
            }
            (Operand::Literal(l), Operand::Column(b)) => {
                Ok(Condition::Compare(b, flip(op), self.convert(b, &l)?))
            }
            (Operand::Literal(a), Operand::Literal(b)) => {
                Ok(Condition::Constant(literals(&a, op, &b)))
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, QueryError> {
        match self.peek() {
            Some(Token::Ident(w)) if !w.eq_ignore_ascii_case("NULL") => {
                let w = w.clone();
                self.pos += 1;
                let col = self
                    .class
                    .column(&w)
                    .ok_or_else(|| QueryError::Invalid(format!("Invalid column name '{w}'.")))?;
                Ok(Operand::Column(col))
            }
            _ => Ok(Operand::Literal(self.literal()?)),
        }
    }

    fn literal(&mut self) -> Result<Lit, QueryError> {
        match self.next() {
            Some(Token::Number(n)) => Ok(Lit::Number(n)),
            Some(Token::Str(s)) => Ok(Lit::Str(s)),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("NULL") => Ok(Lit::Null),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("true") => Ok(Lit::Number("1".into())),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("false") => Ok(Lit::Number("0".into())),
            other => Err(QueryError::Invalid(format!(
                "expected a literal, found {other:?}"
            ))),
        }
    }

    fn column_of(&self, operand: &Operand) -> Result<usize, QueryError> {
        match operand {
            Operand::Column(c) => Ok(*c),
            Operand::Literal(_) => Err(QueryError::Invalid("expected a column".into())),
        }
    }

    /// Converts a literal to the column's type, as SQL Server's implicit conversion does.
    fn convert(&self, col: usize, lit: &Lit) -> Result<Value, QueryError> {
        let (name, kind) = self.class.columns[col];
        let text = match lit {
            Lit::Null => return Ok(Value::Null),
            Lit::Number(n) | Lit::Str(n) => n.trim(),
        };
        let fail = || {
            QueryError::Invalid(format!(
                "Conversion failed when converting '{text}' for column {name}."
            ))
        };
        Ok(match kind {
            Kind::Int => match text.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Money(text.parse::<Decimal>().map_err(|_| fail())?),
            },
            Kind::Money => Value::Money(text.parse::<Decimal>().map_err(|_| fail())?),
            Kind::Float => Value::Float(text.parse::<f64>().map_err(|_| fail())?),
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "1" | "true" => Value::Bool(true),
                "0" | "false" => Value::Bool(false),
                _ => return Err(fail()),
            },
            Kind::Text => Value::Text(text.to_owned()),
            Kind::Guid => Value::Guid(Uuid::parse_str(text).map_err(|_| fail())?),
            Kind::Date => Value::Date(clock::parse_sql(text, self.offset).ok_or_else(fail)?),
        })
    }
}

fn flip(op: Op) -> Op {
    match op {
        Op::Lt => Op::Gt,
        Op::Le => Op::Ge,
        Op::Gt => Op::Lt,
        Op::Ge => Op::Le,
        other => other,
    }
}

fn literals(a: &Lit, op: Op, b: &Lit) -> bool {
    let ord = match (a, b) {
        (Lit::Null, _) | (_, Lit::Null) => return false,
        (Lit::Number(x), Lit::Number(y)) => match (x.parse::<Decimal>(), y.parse::<Decimal>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        },
        (Lit::Number(x) | Lit::Str(x), Lit::Number(y) | Lit::Str(y)) => {
            x.to_lowercase().cmp(&y.to_lowercase())
        }
    };
    holds(op, ord)
}

fn holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

/// Parses and binds a `where` fragment for `class`.
pub(crate) fn parse_where(
    text: &str,
    class: &Class,
    offset: UtcOffset,
) -> Result<Condition, QueryError> {
    if text.trim().is_empty() {
        return Ok(Condition::True);
    }
    let mut p = Parser {
        tokens: tokenize(text)?,
        pos: 0,
        class,
        offset,
    };
    let c = p.or()?;
    if p.pos < p.tokens.len() {
        return Err(QueryError::Invalid(format!(
            "unexpected {:?}",
            p.tokens[p.pos]
        )));
    }
    Ok(c)
}

/// `Column [ASC|DESC], …` → `(column index, descending)`.
pub(crate) fn parse_order_by(text: &str, class: &Class) -> Result<Vec<(usize, bool)>, QueryError> {
    let tokens = tokenize(text)?;
    let mut out = Vec::new();
    for part in tokens.split(|t| *t == Token::Comma) {
        match part {
            [] => {}
            [Token::Ident(c), rest @ ..] => {
                let col = class
                    .column(c)
                    .ok_or_else(|| QueryError::Invalid(format!("Invalid column name '{c}'.")))?;
                let desc = match rest {
                    [] => false,
                    [Token::Ident(d)] if d.eq_ignore_ascii_case("DESC") => true,
                    [Token::Ident(d)] if d.eq_ignore_ascii_case("ASC") => false,
                    other => {
                        return Err(QueryError::Invalid(format!(
                            "unexpected {other:?} in orderby"
                        )));
                    }
                };
                out.push((col, desc));
            }
            other => {
                return Err(QueryError::Invalid(format!(
                    "unexpected {other:?} in orderby"
                )));
            }
        }
    }
    Ok(out)
}

/// `A,B,C` → column indexes, in the order asked.
pub(crate) fn parse_columns(text: &str, class: &Class) -> Result<Vec<usize>, QueryError> {
    let tokens = tokenize(text)?;
    let mut out = Vec::new();
    for part in tokens.split(|t| *t == Token::Comma) {
        match part {
            [] => {}
            [Token::Ident(c)] => {
                let col = class
                    .column(c)
                    .ok_or_else(|| QueryError::Invalid(format!("Invalid column name '{c}'.")))?;
                if !out.contains(&col) {
                    out.push(col);
                }
            }
            other => {
                return Err(QueryError::Invalid(format!(
                    "unexpected {other:?} in columns"
                )));
            }
        }
    }
    Ok(out)
}

impl Condition {
    /// Whether row `i` of `table` satisfies the condition (SQL three-valued logic, unknown = false).
    pub(crate) fn matches(&self, table: &dyn Table, i: usize) -> bool {
        self.eval(table, i).unwrap_or(false)
    }

    fn eval(&self, table: &dyn Table, i: usize) -> Option<bool> {
        match self {
            Self::True => Some(true),
            Self::Constant(b) => Some(*b),
            Self::And(a, b) => match (a.eval(table, i), b.eval(table, i)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Self::Or(a, b) => match (a.eval(table, i), b.eval(table, i)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Self::Not(a) => a.eval(table, i).map(|b| !b),
            Self::IsNull(col) => Some(table.value(i, *col) == Value::Null),
            Self::Compare(col, op, lit) => {
                let v = table.value(i, *col);
                if v == Value::Null || *lit == Value::Null {
                    return None;
                }
                Some(holds(*op, v.sql_cmp(lit)))
            }
            Self::Columns(a, op, b) => {
                let (x, y) = (table.value(i, *a), table.value(i, *b));
                if x == Value::Null || y == Value::Null {
                    return None;
                }
                Some(holds(*op, x.sql_cmp(&y)))
            }
            Self::In(col, values) => {
                let v = table.value(i, *col);
                if v == Value::Null {
                    return None;
                }
                Some(values.iter().any(|x| v.sql_cmp(x) == Ordering::Equal))
            }
            Self::Like(col, pattern) => match table.value(i, *col) {
                Value::Null => None,
                v => Some(like(
                    &v.xml_text().map(|t| unescape_xml(&t)).unwrap_or_default(),
                    pattern,
                )),
            },
        }
    }
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// SQL `LIKE` with `%` and `_`, case-insensitive.
fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let (mut ti, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests;
