//! The Compose Specification as provider-docker understands it: parsing, interpolation,
//! merging and validation of compose files into a typed [`Project`]. Pure logic, no I/O.
//!
//! ```
//! use provider_docker_compose::{load, LoadInput};
//!
//! let input = LoadInput::new("compose.yaml", "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n");
//! let loaded = load(&input).unwrap();
//! assert_eq!(loaded.project.services["web"].ports[0].target, 80);
//! ```

#![warn(missing_docs)]

mod bytes;
pub mod dotenv;
mod duration;
mod error;
mod graph;
pub mod interpolate;
mod load;
mod merge;
pub mod model;
mod parse;
mod relpath;
pub mod shell;
mod validate;
mod yaml;

pub use bytes::{ByteSizeError, parse_bytes};
pub use duration::{DurationError, format_duration, parse_duration};
pub use error::{Error, Errors, Unsupported};
pub use load::{FileReader, LoadInput, Loaded, NoFiles, SourceFile, load};
pub use model::*;
pub use relpath::normalize as normalize_path;

/// Entry points for fuzzing: feed arbitrary bytes, never panic. Used by the cargo-fuzz
/// targets in `fuzz/` and by the property tests that run the same inputs in CI.
#[doc(hidden)]
pub mod fuzzing {
    use std::collections::BTreeMap;

    /// Loads `data` as a compose file (with a reader that serves it back for any path).
    pub fn parse(data: &[u8]) {
        let text = String::from_utf8_lossy(data).into_owned();
        let echo = |_: &str| Some(text.clone());
        let env: BTreeMap<String, String> = [("A".to_owned(), "1".to_owned())].into();
        let input = crate::LoadInput::new("compose.yaml", text.clone())
            .with_reader(&echo)
            .with_environment(env);
        if let Ok(loaded) = crate::load(&input) {
            let _ = loaded.project.start_order();
            let _ = loaded.project.validate();
        }
    }

    /// `data` as one short-syntax entry: a port mapping, then a service's `ports`,
    /// `expose`, `volumes`, `tmpfs`, `devices` and `extra_hosts` entry in a compose file.
    pub fn short_syntax(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let _ = crate::parse_port_mappings(&text);
        // A double-quoted YAML scalar that holds the text as written.
        let mut entry = String::from('"');
        for c in text.chars() {
            match c {
                '\\' => entry.push_str("\\\\"),
                '"' => entry.push_str("\\\""),
                c if c.is_control() || c == '\u{feff}' => {
                    entry.push_str(&format!("\\u{:04x}", u32::from(c)))
                }
                c => entry.push(c),
            }
        }
        entry.push('"');
        for field in [
            "ports",
            "expose",
            "volumes",
            "tmpfs",
            "devices",
            "extra_hosts",
        ] {
            let doc = format!(
                "services:\n  s:\n    image: x\n    {field}: [{entry}]\nvolumes: {{v: {{}}}}\n"
            );
            if let Ok(loaded) = crate::load(&crate::LoadInput::new("compose.yaml", doc)) {
                let _ = loaded.project.validate();
            }
        }
    }

    /// Interpolates `data` with a small environment.
    pub fn interpolate(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let _ = crate::interpolate::interpolate(&text, &|name| {
            (name.len() % 2 == 0).then(|| name.to_owned())
        });
        let _ = crate::dotenv::parse(&text, crate::dotenv::DotenvFormat::Compose, &|_| None);
        let _ = crate::shell::split(&text);
    }
}
