//! Variable interpolation in compose values: `$VAR`, `${VAR}`, the `:-`, `-`, `:?`, `?`,
//! `:+`, `+` forms with nested defaults, and `$$` for a literal dollar.

/// Deepest nesting of `${…}` inside defaults that is expanded before giving up.
const MAX_DEPTH: usize = 32;

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// The text is not a valid template.
    #[error("invalid interpolation in {template:?}: {reason}; write $$ for a literal $")]
    Invalid {
        /// The whole text being interpolated.
        template: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `${VAR:?message}` or `${VAR?message}` with the variable missing.
    #[error("required variable {name} is missing a value{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Required {
        /// The variable.
        name: String,
        /// The message written after `?`.
        message: String,
    },
}

/// The result of interpolating one string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interpolated {
    /// The text with every variable substituted.
    pub value: String,
    /// Variables that were referenced without a default and are not set; each became "".
    pub missing: Vec<String>,
}

/// Interpolates `template`, looking variables up with `lookup`.
pub fn interpolate(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, InterpolationError> {
    let mut out = Interpolated::default();
    out.value = expand(template, template, lookup, &mut out.missing, 0)?;
    Ok(out)
}

fn invalid(template: &str, reason: impl Into<String>) -> InterpolationError {
    InterpolationError::Invalid {
        template: template.to_owned(),
        reason: reason.into(),
    }
}

fn name_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Finds the `}` closing a `${` whose body starts at `body`, skipping nested `${…}` and `$$`.
fn closing_brace(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 2,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 2;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn expand(
    template: &str,
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
    depth: usize,
) -> Result<String, InterpolationError> {
    if depth > MAX_DEPTH {
        return Err(invalid(template, "defaults are nested too deeply"));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(next) = after.strip_prefix('$') {
            out.push('$');
            rest = next;
        } else if let Some(body_and_rest) = after.strip_prefix('{') {
            let end = closing_brace(body_and_rest)
                .ok_or_else(|| invalid(template, "a ${ is never closed with }"))?;
            let body = &body_and_rest[..end];
            out.push_str(&braced(template, body, lookup, missing, depth)?);
            rest = &body_and_rest[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                let shown: String = after.chars().take(1).collect();
                let reason = if shown.is_empty() {
                    "a $ ends the text".to_owned()
                } else {
                    format!("$ is followed by {shown:?}, not a variable name")
                };
                return Err(invalid(template, reason));
            }
            let name = &after[..len];
            out.push_str(&plain(name, lookup, missing));
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn plain(name: &str, lookup: &dyn Fn(&str) -> Option<String>, missing: &mut Vec<String>) -> String {
    lookup(name).unwrap_or_else(|| {
        if !missing.iter().any(|m| m == name) {
            missing.push(name.to_owned());
        }
        String::new()
    })
}

fn braced(
    template: &str,
    body: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
    depth: usize,
) -> Result<String, InterpolationError> {
    let len = name_len(body);
    if len == 0 {
        return Err(invalid(
            template,
            format!("${{{body}}} does not start with a variable name"),
        ));
    }
    let (name, op) = body.split_at(len);
    if op.is_empty() {
        return Ok(plain(name, lookup, missing));
    }
    let value = lookup(name);
    let (colon, op) = match op.strip_prefix(':') {
        Some(op) => (true, op),
        None => (false, op),
    };
    let mut op_chars = op.chars();
    let kind = op_chars.next();
    let arg = op_chars.as_str();
    // With a colon, an empty value counts as unset.
    let set = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    let mut arg_value = || expand(template, arg, lookup, missing, depth + 1);
    match kind {
        Some('-') => match value {
            Some(v) if set => Ok(v),
            _ => arg_value(),
        },
        Some('+') => {
            if set {
                arg_value()
            } else {
                Ok(String::new())
            }
        }
        Some('?') => match value {
            Some(v) if set => Ok(v),
            _ => Err(InterpolationError::Required {
                name: name.to_owned(),
                message: arg_value()?,
            }),
        },
        _ => Err(invalid(
            template,
            format!("${{{body}}}: after the name use }}, :-, -, :?, ?, :+ or +"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run(template: &str) -> Result<Interpolated, InterpolationError> {
        let env: BTreeMap<&str, &str> = [("SET", "value"), ("EMPTY", ""), ("PORT", "8080")]
            .into_iter()
            .collect();
        interpolate(template, &|name| env.get(name).map(|v| (*v).to_owned()))
    }

    fn value(template: &str) -> String {
        run(template).unwrap().value
    }

    #[test]
    fn plain_and_braced_variables() {
        assert_eq!(value("$SET"), "value");
        assert_eq!(value("${SET}"), "value");
        assert_eq!(value("${PORT}:80"), "8080:80");
        assert_eq!(value("a${SET}b$SET.c"), "avalueb".to_owned() + "value.c");
    }

    #[test]
    fn missing_variables_become_empty_and_are_reported() {
        let out = run("x${NOPE}y$NOPE2").unwrap();
        assert_eq!(out.value, "xy");
        assert_eq!(out.missing, ["NOPE", "NOPE2"]);
    }

    #[test]
    fn colon_dash_uses_default_when_unset_or_empty() {
        assert_eq!(value("${NOPE:-d}"), "d");
        assert_eq!(value("${EMPTY:-d}"), "d");
        assert_eq!(value("${SET:-d}"), "value");
    }

    #[test]
    fn dash_uses_default_only_when_unset() {
        assert_eq!(value("${NOPE-d}"), "d");
        assert_eq!(value("${EMPTY-d}"), "");
        assert_eq!(value("${SET-d}"), "value");
    }

    #[test]
    fn colon_question_fails_when_unset_or_empty() {
        let err = run("${EMPTY:?must be set}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "required variable EMPTY is missing a value: must be set"
        );
        assert!(run("${NOPE:?x}").is_err());
        assert_eq!(value("${SET:?x}"), "value");
    }

    #[test]
    fn question_fails_only_when_unset() {
        assert!(run("${NOPE?x}").is_err());
        assert_eq!(value("${EMPTY?x}"), "");
    }

    #[test]
    fn colon_plus_uses_alternative_when_set_and_non_empty() {
        assert_eq!(value("${SET:+alt}"), "alt");
        assert_eq!(value("${EMPTY:+alt}"), "");
        assert_eq!(value("${NOPE:+alt}"), "");
    }

    #[test]
    fn plus_uses_alternative_when_set() {
        assert_eq!(value("${SET+alt}"), "alt");
        assert_eq!(value("${EMPTY+alt}"), "alt");
        assert_eq!(value("${NOPE+alt}"), "");
    }

    #[test]
    fn defaults_nest() {
        assert_eq!(value("${NOPE:-${ALSO_NOPE:-${PORT}}}"), "8080");
        assert_eq!(value("${NOPE:-a-${SET}-b}"), "a-value-b");
        assert!(run("${SET:-${NOPE}}").unwrap().missing.is_empty());
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(value("$$"), "$");
        assert_eq!(value("$${SET}"), "${SET}");
        assert_eq!(value("echo $$$SET"), "echo $value");
        assert_eq!(value("${NOPE:-$$}"), "$");
    }

    #[test]
    fn invalid_templates_are_errors() {
        for bad in [
            "$", "a $1", "${", "${SET", "${}", "${1A}", "${SET!x}", "${SET:x}",
        ] {
            let err = run(bad).unwrap_err();
            assert!(
                matches!(err, InterpolationError::Invalid { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "${A:-".repeat(1000) + &"}".repeat(1000);
        assert!(run(&deep).is_err());
    }
}
