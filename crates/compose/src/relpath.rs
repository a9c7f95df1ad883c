//! File paths without a filesystem: normalizing, joining relative to a file's directory,
//! telling remote references apart, and rebasing a file's paths onto the project.

use serde_yaml_ng::{Mapping, Value};

/// True for `/abs`, `~`, `~/x`, `C:\x`, `C:/x` and `\\server\share`.
pub(crate) fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with('/')
        || p == "~"
        || p.starts_with("~/")
        || p.starts_with("\\\\")
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b[2] == b'\\' || b[2] == b'/'))
}

/// True for references compose fetches over the network: URLs (`https://…`, `oci://…`),
/// `git@host:repo` and any other `scheme:` prefix of two or more letters. A Windows
/// drive letter (`C:\…`) is one letter and stays local.
pub(crate) fn is_remote(p: &str) -> bool {
    if p.starts_with("git@") {
        return true;
    }
    match p.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() >= 2
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Removes `.` segments, folds `dir/..`, and drops duplicate slashes; leading `..` of a
/// relative path are kept. `""` stands for the directory itself.
pub fn normalize(p: &str) -> String {
    if is_absolute(p) && !p.starts_with('/') {
        return p.to_owned();
    }
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `path` relative to directory `dir` (itself relative to the project), normalized.
pub(crate) fn join(dir: &str, path: &str) -> String {
    if is_absolute(path) || dir.is_empty() {
        normalize(path)
    } else {
        normalize(&format!("{dir}/{path}"))
    }
}

/// The directory part of a normalized path; `""` for a bare file name.
pub(crate) fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) => "/".to_owned(),
        Some((dir, _)) => dir.to_owned(),
        None => String::new(),
    }
}

/// A rebased path that still reads as a path in short syntaxes: `./x`, `../x`, `/x`.
fn as_local(dir: &str, path: &str) -> String {
    let joined = join(dir, path);
    if is_absolute(&joined) || joined.starts_with("../") || joined == ".." {
        joined
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        format!("./{joined}")
    }
}

fn rebase_str(v: &mut Value, dir: &str, short_mount: bool) {
    if let Value::String(s) = v {
        if short_mount {
            // Only the source part of `SRC:DST[:MODE]`, and only when it is a path.
            let is_path = s.starts_with('.') || s.starts_with("~");
            if !is_path {
                return;
            }
            let (src, rest) = match s.find(':') {
                Some(i) => (&s[..i], &s[i..]),
                None => return,
            };
            *s = format!("{}{}", as_local(dir, src), rest);
        } else if !is_absolute(s) && !is_remote(s) {
            *s = as_local(dir, s);
        }
    }
}

fn rebase_list(v: &mut Value, dir: &str, key: Option<&str>) {
    match v {
        Value::Sequence(items) => {
            for item in items {
                match (item, key) {
                    (Value::Mapping(m), Some(key)) => {
                        if let Some(p) = m.get_mut(key) {
                            rebase_str(p, dir, false);
                        }
                    }
                    (item, _) => rebase_str(item, dir, false),
                }
            }
        }
        other => rebase_str(other, dir, false),
    }
}

/// Rewrites the relative paths of one file, written relative to `dir`, so that they are
/// relative to the project directory: build contexts, `env_file`, `label_file`, bind
/// sources, `extends.file`, and the `file:` of secrets and configs.
pub(crate) fn rebase_file(doc: &mut Mapping, dir: &str) {
    if let Some(Value::Mapping(services)) = doc.get_mut("services") {
        for (_, service) in services.iter_mut() {
            let Value::Mapping(svc) = service else {
                continue;
            };
            match svc.get_mut("build") {
                Some(Value::Mapping(b)) => {
                    if let Some(ctx) = b.get_mut("context") {
                        rebase_str(ctx, dir, false);
                    }
                }
                Some(b) => rebase_str(b, dir, false),
                None => {}
            }
            if let Some(v) = svc.get_mut("env_file") {
                rebase_list(v, dir, Some("path"));
            }
            if let Some(v) = svc.get_mut("label_file") {
                rebase_list(v, dir, None);
            }
            if let Some(Value::Mapping(ext)) = svc.get_mut("extends")
                && let Some(f) = ext.get_mut("file")
            {
                rebase_str(f, dir, false);
            }
            if let Some(Value::Sequence(vols)) = svc.get_mut("volumes") {
                for vol in vols {
                    match vol {
                        Value::Mapping(m) => {
                            let bind = m.get("type").and_then(Value::as_str) == Some("bind");
                            if let (true, Some(src)) = (bind, m.get_mut("source")) {
                                rebase_str(src, dir, false);
                            }
                        }
                        other => rebase_str(other, dir, true),
                    }
                }
            }
        }
    }
    for section in ["secrets", "configs"] {
        if let Some(Value::Mapping(defs)) = doc.get_mut(section) {
            for (_, def) in defs.iter_mut() {
                if let Some(f) = def.get_mut("file") {
                    rebase_str(f, dir, false);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_joins() {
        assert_eq!(normalize("./a/../b//c/."), "b/c");
        assert_eq!(normalize("../x"), "../x");
        assert_eq!(normalize("/a/../../b"), "/b");
        assert_eq!(join("subdir", "./extra.env"), "subdir/extra.env");
        assert_eq!(join("include", "../subdir"), "subdir");
        assert_eq!(join("a", "/abs"), "/abs");
        assert_eq!(parent("a/b/c.yaml"), "a/b");
        assert_eq!(parent("c.yaml"), "");
    }

    #[test]
    fn tells_remote_from_local() {
        for remote in [
            "https://x/y.yaml",
            "git@github.com:a/b.git",
            "oci://r/x",
            "remote:cycle/compose.yaml",
        ] {
            assert!(is_remote(remote), "{remote}");
        }
        for local in ["./a.yaml", "C:\\x\\y", "a/b.yaml", "c:/x"] {
            assert!(!is_remote(local), "{local}");
        }
    }

    #[test]
    fn rebases_a_files_paths_onto_the_project() {
        let mut doc: Mapping = serde_yaml_ng::from_str(
            "services:\n  s:\n    build: .\n    env_file: [./extra.env, {path: b.env}]\n    volumes: ['./data:/data', 'named:/x', {type: bind, source: rel, target: /r}]\nsecrets:\n  k: {file: ./key}\n",
        )
        .unwrap();
        rebase_file(&mut doc, "subdir");
        let s = &doc["services"]["s"];
        assert_eq!(s["build"], Value::from("./subdir"));
        assert_eq!(s["env_file"][0], Value::from("./subdir/extra.env"));
        assert_eq!(s["env_file"][1]["path"], Value::from("./subdir/b.env"));
        assert_eq!(s["volumes"][0], Value::from("./subdir/data:/data"));
        assert_eq!(s["volumes"][1], Value::from("named:/x"));
        assert_eq!(s["volumes"][2]["source"], Value::from("./subdir/rel"));
        assert_eq!(doc["secrets"]["k"]["file"], Value::from("./subdir/key"));
    }
}
