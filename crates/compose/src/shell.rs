//! Splits a command written as one string into words, as compose does for `command:` and
//! `entrypoint:` (POSIX quoting, no expansion: the container's shell is not involved).

/// Why a command string could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellSplitError {
    /// A quote was opened and never closed.
    #[error("unterminated {quote} quote in {input:?}")]
    UnterminatedQuote {
        /// `single` or `double`.
        quote: &'static str,
        /// The whole command.
        input: String,
    },
    /// The command ends with a lone backslash.
    #[error("trailing backslash in {input:?}")]
    TrailingBackslash {
        /// The whole command.
        input: String,
    },
}

/// Splits `input` into words: whitespace separates, `'…'` is literal, `"…"` allows `\"`,
/// `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next character.
/// Shell operators such as `|` or `&&` are ordinary characters: to use them, write
/// `["sh", "-c", "…"]`.
pub fn split(input: &str) -> Result<Vec<String>, ShellSplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => {
                            return Err(ShellSplitError::UnterminatedQuote {
                                quote: "single",
                                input: input.to_owned(),
                            });
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => {
                                return Err(ShellSplitError::UnterminatedQuote {
                                    quote: "double",
                                    input: input.to_owned(),
                                });
                            }
                        },
                        Some(c) => word.push(c),
                        None => {
                            return Err(ShellSplitError::UnterminatedQuote {
                                quote: "double",
                                input: input.to_owned(),
                            });
                        }
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => {
                    return Err(ShellSplitError::TrailingBackslash {
                        input: input.to_owned(),
                    });
                }
            },
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        split(s).unwrap()
    }

    #[test]
    fn splits_on_whitespace() {
        assert_eq!(words("  sleep   infinity "), ["sleep", "infinity"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn honours_quotes_and_escapes() {
        assert_eq!(
            words(r#"sh -c 'echo "hi there"' "a \"b\" \$c" d\ e"#),
            ["sh", "-c", "echo \"hi there\"", "a \"b\" $c", "d e"]
        );
        assert_eq!(words(r#"a "" ''"#), ["a", "", ""]);
        assert_eq!(words(r#""a\nb""#), ["a\\nb"]);
    }

    #[test]
    fn rejects_unterminated_quotes() {
        assert!(matches!(
            split("echo 'oops"),
            Err(ShellSplitError::UnterminatedQuote {
                quote: "single",
                ..
            })
        ));
        assert!(split("echo \"oops").is_err());
        assert!(split("echo \\").is_err());
    }
}
