//! Reads `.env` and `env_file:` contents the way compose does: `KEY=VALUE` lines, comments,
//! `export`, single/double quotes (multi-line), and interpolation of earlier variables.

use crate::interpolate::interpolate;

/// A problem in an env file, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    /// The line the problem starts on.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// How the file's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DotenvFormat {
    /// Compose's rules: quotes, escapes, inline comments and interpolation.
    #[default]
    Compose,
    /// `format: raw`: everything after the first `=` is the value, verbatim.
    Raw,
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Parses env-file contents into ordered `(key, value)` pairs. A line with only `KEY`
/// takes the value from `lookup` and is left out when that has none. Values may refer to
/// variables defined earlier in the file or known to `lookup`.
pub fn parse(
    content: &str,
    format: DotenvFormat,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, DotenvError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let lines: Vec<&str> = content.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let err = |message: String| DotenvError {
            line: line_no,
            message,
        };
        let line = lines[i].trim_start_matches('\u{feff}').trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let Some((key, raw)) = line.split_once('=') else {
            if !valid_key(line) {
                return Err(err(format!("{line:?} is not KEY=VALUE")));
            }
            let known = out
                .iter()
                .rev()
                .find(|(k, _)| k == line)
                .map(|(_, v)| v.clone());
            if let Some(value) = known.or_else(|| lookup(line)) {
                out.push((line.to_owned(), value));
            }
            continue;
        };
        let key = key.trim();
        if !valid_key(key) {
            return Err(err(format!("{key:?} is not a valid variable name")));
        }
        let value = match format {
            DotenvFormat::Raw => raw.to_owned(),
            DotenvFormat::Compose => {
                let raw = raw.trim_start();
                let (text, interpolated) = match raw.chars().next() {
                    Some(q @ ('\'' | '"')) => {
                        let mut text = raw[1..].to_owned();
                        // A quoted value may continue over the following lines.
                        loop {
                            if let Some(end) = closing_quote(&text, q) {
                                let trailing = text[end + 1..].trim();
                                if !(trailing.is_empty() || trailing.starts_with('#')) {
                                    return Err(err(format!(
                                        "unexpected text after the closing quote of {key}"
                                    )));
                                }
                                text.truncate(end);
                                break;
                            }
                            let Some(next) = lines.get(i) else {
                                return Err(err(format!(
                                    "the quote opened for {key} is never closed"
                                )));
                            };
                            text.push('\n');
                            text.push_str(next);
                            i += 1;
                        }
                        if q == '"' {
                            (unescape(&text), true)
                        } else {
                            (text, false)
                        }
                    }
                    _ => {
                        let text = match raw.find(" #") {
                            Some(pos) => &raw[..pos],
                            None => raw,
                        };
                        (text.trim_end().to_owned(), true)
                    }
                };
                if interpolated {
                    let earlier = |name: &str| {
                        out.iter()
                            .rev()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                            .or_else(|| lookup(name))
                    };
                    interpolate(&text, &earlier)
                        .map_err(|e| err(format!("{key}: {e}")))?
                        .value
                } else {
                    text
                }
            }
        };
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if quote == '"' && c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if c == quote && !escaped {
            return Some(i);
        }
        escaped = false;
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            // Keep `\$` escaped so that interpolation sees a literal dollar.
            Some('$') => out.push_str("$$"),
            Some(c) => out.push(c),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(content: &str) -> Vec<(String, String)> {
        parse(content, DotenvFormat::Compose, &|name| {
            (name == "HOME").then(|| "/root".to_owned())
        })
        .unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_plain_lines_comments_and_export() {
        let got = env("# comment\n\nA=1\nexport B = two words # note\nC=\n");
        assert_eq!(got, pairs(&[("A", "1"), ("B", "two words"), ("C", "")]));
    }

    #[test]
    fn quotes_keep_text_and_may_span_lines() {
        let got = env("A='$HOME # x'\nB=\"line1\nline2\"\nC=\"tab\\there\"\n");
        assert_eq!(
            got,
            pairs(&[
                ("A", "$HOME # x"),
                ("B", "line1\nline2"),
                ("C", "tab\there")
            ])
        );
    }

    #[test]
    fn interpolates_earlier_variables_and_the_environment() {
        let got = env("A=x\nB=${A}-$HOME\nC=\"\\$A\"\n");
        assert_eq!(got, pairs(&[("A", "x"), ("B", "x-/root"), ("C", "$A")]));
    }

    #[test]
    fn bare_key_takes_the_environment_or_is_skipped() {
        assert_eq!(env("HOME\nNOPE\n"), pairs(&[("HOME", "/root")]));
    }

    #[test]
    fn raw_format_is_verbatim() {
        let got = parse("A='${X}' # y", DotenvFormat::Raw, &|_| None).unwrap();
        assert_eq!(got, pairs(&[("A", "'${X}' # y")]));
    }

    #[test]
    fn errors_carry_the_line_number() {
        let err = parse("A=1\n1BAD=2", DotenvFormat::Compose, &|_| None).unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("A=\"open", DotenvFormat::Compose, &|_| None).unwrap_err();
        assert!(err.message.contains("never closed"));
    }
}
