//! The host keys an SSH daemon host may present, in OpenSSH's known_hosts format, held in
//! memory: plain and hashed names, `[host]:port`, wildcards and negations.

use base64::{Engine, engine::general_purpose::STANDARD};
use russh::keys::PublicKey;

use super::TransportError;

/// Parsed known_hosts content.
#[derive(Clone, Debug)]
pub struct KnownHosts {
    text: String,
    entries: Vec<Entry>,
}

impl PartialEq for KnownHosts {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for KnownHosts {}

#[derive(Clone, Debug)]
struct Entry {
    revoked: bool,
    patterns: Vec<String>,
    key: PublicKey,
}

/// What known_hosts says of a host key.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    /// The host is listed, but with other keys: possibly a man in the middle.
    Mismatch,
    /// The host is not listed.
    Unknown,
    /// The key is marked `@revoked`.
    Revoked,
}

impl KnownHosts {
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let mut first = fields.next().unwrap_or_default();
            let mut revoked = false;
            match first {
                "@revoked" => {
                    revoked = true;
                    first = fields.next().unwrap_or_default();
                }
                // Host certificates are not supported: such a line trusts nothing here.
                "@cert-authority" => continue,
                _ => {}
            }
            let (Some(_algorithm), Some(key)) = (fields.next(), fields.next()) else {
                return Err(TransportError(format!(
                    "spec.ssh.secretRef: known_hosts line {} is not `host key-type base64-key`",
                    n + 1
                )));
            };
            let key = russh::keys::parse_public_key_base64(key).map_err(|e| {
                TransportError(format!(
                    "spec.ssh.secretRef: known_hosts line {} has an unreadable key: {e}",
                    n + 1
                ))
            })?;
            entries.push(Entry {
                revoked,
                patterns: first.split(',').map(str::to_string).collect(),
                key,
            });
        }
        if entries.is_empty() {
            return Err(TransportError(
                "spec.ssh.secretRef: known_hosts lists no host key; add the daemon host's key (ssh-keyscan -p PORT HOST)".into(),
            ));
        }
        Ok(Self {
            text: text.to_string(),
            entries,
        })
    }

    /// Whether `key` is the known key of `host` on `port`.
    pub fn verdict(&self, host: &str, port: u16, key: &PublicKey) -> Verdict {
        let name = if port == 22 {
            host.to_string()
        } else {
            format!("[{host}]:{port}")
        };
        let mut listed = false;
        for entry in self.entries.iter().filter(|e| matches(&e.patterns, &name)) {
            let same = entry.key.key_data() == key.key_data();
            if entry.revoked {
                if same {
                    return Verdict::Revoked;
                }
                continue;
            }
            listed = true;
            if same {
                return Verdict::Trusted;
            }
        }
        if listed {
            Verdict::Mismatch
        } else {
            Verdict::Unknown
        }
    }
}

/// OpenSSH's rule: some pattern matches and no negated pattern does.
fn matches(patterns: &[String], name: &str) -> bool {
    let mut hit = false;
    for pattern in patterns {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob(negated, name) {
                return false;
            }
        } else if pattern.starts_with("|1|") {
            hit |= hashed(pattern, name);
        } else {
            hit |= glob(pattern, name);
        }
    }
    hit
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
fn hashed(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('|').skip(2);
    let (Some(Ok(salt)), Some(Ok(hash))) = (
        parts.next().map(|p| STANDARD.decode(p)),
        parts.next().map(|p| STANDARD.decode(p)),
    ) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
    ring::hmac::verify(&key, name.as_bytes(), &hash).is_ok()
}

/// `*` and `?` wildcards, case-insensitive as host names are.
fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let n: Vec<char> = name.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use russh::keys::ssh_key::public::{Ed25519PublicKey, KeyData};

    use super::*;

    /// A host key and its `key-type base64` text.
    fn key(seed: u8) -> (PublicKey, String) {
        let key = PublicKey::from(KeyData::Ed25519(Ed25519PublicKey([seed; 32])));
        let text = key.to_openssh().unwrap();
        (key, text)
    }

    #[test]
    fn a_listed_host_with_its_key_is_trusted_on_its_port_only() {
        let ((a, a_text), (b, _)) = (key(1), key(2));
        let hosts = KnownHosts::parse(&format!("[127.0.0.1]:22022 {a_text}\n")).unwrap();
        assert_eq!(hosts.verdict("127.0.0.1", 22022, &a), Verdict::Trusted);
        assert_eq!(hosts.verdict("127.0.0.1", 22, &a), Verdict::Unknown);
        assert_eq!(hosts.verdict("127.0.0.1", 22022, &b), Verdict::Mismatch);
    }

    #[test]
    fn hashed_names_wildcards_negations_and_revocations_follow_openssh() {
        let ((a, a_text), (b, b_text)) = (key(1), key(2));
        // What `ssh-keygen -H` writes for "nas.local", with a fixed salt.
        let salt = [7u8; 20];
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt),
            b"nas.local",
        );
        let hashed = format!(
            "|1|{}|{}",
            STANDARD.encode(salt),
            STANDARD.encode(tag.as_ref())
        );
        let hosts = KnownHosts::parse(&format!(
            "# comment\n{hashed} {a_text}\n*.lan,!bad.lan {b_text}\n@revoked old.lan {a_text}\n"
        ))
        .unwrap();
        assert_eq!(hosts.verdict("nas.local", 22, &a), Verdict::Trusted);
        assert_eq!(hosts.verdict("other.local", 22, &a), Verdict::Unknown);
        assert_eq!(hosts.verdict("edge.lan", 22, &b), Verdict::Trusted);
        assert_eq!(hosts.verdict("bad.lan", 22, &b), Verdict::Unknown);
        assert_eq!(hosts.verdict("old.lan", 22, &a), Verdict::Revoked);
    }

    #[test]
    fn unreadable_or_empty_known_hosts_say_how_to_fix_them() {
        let empty = KnownHosts::parse("# nothing\n").unwrap_err().to_string();
        assert!(empty.contains("ssh-keyscan"), "{empty}");
        let bad = KnownHosts::parse("host ssh-ed25519\n")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("line 1"), "{bad}");
    }
}
