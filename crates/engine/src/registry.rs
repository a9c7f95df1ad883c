//! Registry credentials from `kubernetes.io/dockerconfigjson` Secrets, and which of them
//! an image's pull uses.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD};
pub use bollard::auth::DockerCredentials;
use serde::Deserialize;

/// The registries and credentials of one dockerconfigjson document.
#[derive(Clone, Default)]
pub struct RegistryAuth {
    entries: Vec<(String, DockerCredentials)>,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(registry, _)| registry))
            .finish()
    }
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    auths: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    username: Option<String>,
    password: Option<String>,
    auth: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

impl RegistryAuth {
    /// Parses `.dockerconfigjson`; the error names what is wrong, never a value.
    pub fn parse(json: &[u8]) -> Result<Self, String> {
        let config: ConfigJson = serde_json::from_slice(json)
            .map_err(|_| "is not a Docker config JSON document ({\"auths\": {...}})".to_string())?;
        let mut entries = Vec::new();
        for (server, entry) in config.auths {
            let (mut username, mut password) = (entry.username, entry.password);
            if let Some(auth) = entry.auth.filter(|a| !a.is_empty()) {
                let decoded = STANDARD
                    .decode(auth.trim())
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .ok_or_else(|| format!("auths.{server}.auth is not base64 of user:password"))?;
                let (user, pass) = decoded
                    .split_once(':')
                    .ok_or_else(|| format!("auths.{server}.auth is not base64 of user:password"))?;
                username.get_or_insert_with(|| user.to_string());
                password.get_or_insert_with(|| pass.to_string());
            }
            let registry = normalize(&server);
            entries.push((
                registry.clone(),
                DockerCredentials {
                    username,
                    password,
                    serveraddress: Some(registry),
                    identitytoken: entry.identitytoken,
                    registrytoken: entry.registrytoken,
                    ..Default::default()
                },
            ));
        }
        if entries.is_empty() {
            return Err("lists no registry under auths".into());
        }
        Ok(Self { entries })
    }

    fn for_registry(&self, registry: &str) -> Option<&DockerCredentials> {
        self.entries
            .iter()
            .find(|(r, _)| r == registry)
            .map(|(_, c)| c)
    }
}

/// The registry an image is pulled from, as dockerconfigjson keys name it.
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => normalize(first),
        _ => "docker.io".into(),
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `https://reg:5000/` → `reg:5000`.
fn normalize(server: &str) -> String {
    let host = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        _ => host,
    }
}

/// The first credentials, in order, for the image's registry.
pub fn credentials_for(image: &str, auths: &[RegistryAuth]) -> Option<DockerCredentials> {
    let registry = registry_of(image);
    auths
        .iter()
        .find_map(|a| a.for_registry(&registry))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_name_their_registry_like_docker_does() {
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("library/busybox:1"), "docker.io");
        assert_eq!(
            registry_of("127.0.0.1:25000/team/app:v1"),
            "127.0.0.1:25000"
        );
        assert_eq!(registry_of("ghcr.io/org/app@sha256:abc"), "ghcr.io");
        assert_eq!(registry_of("localhost/app"), "localhost");
    }

    #[test]
    fn the_first_secret_naming_the_registry_wins_and_auth_is_decoded() {
        let mine = RegistryAuth::parse(
            br#"{"auths":{"https://127.0.0.1:25000/v2/":{"auth":"dXNlcjpzM2NyZXQ6eA=="}}}"#,
        )
        .unwrap();
        let hub = RegistryAuth::parse(
            br#"{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p"},"127.0.0.1:25000":{"username":"other","password":"o"}}}"#,
        )
        .unwrap();
        let auths = [mine, hub];
        let c = credentials_for("127.0.0.1:25000/app:v1", &auths).unwrap();
        assert_eq!(c.username.as_deref(), Some("user"));
        assert_eq!(c.password.as_deref(), Some("s3cret:x"));
        assert_eq!(
            credentials_for("busybox", &auths)
                .unwrap()
                .username
                .as_deref(),
            Some("u")
        );
        assert!(credentials_for("ghcr.io/x/y", &auths).is_none());
    }

    #[test]
    fn bad_documents_are_refused_without_echoing_them() {
        let err = RegistryAuth::parse(b"hunter2").unwrap_err();
        assert!(!err.contains("hunter2"));
        let err = RegistryAuth::parse(br#"{"auths":{"r":{"auth":"%%%"}}}"#).unwrap_err();
        assert!(err.contains("auths.r.auth"), "{err}");
        assert!(RegistryAuth::parse(br#"{"auths":{}}"#).is_err());
        let printed = format!(
            "{:?}",
            RegistryAuth::parse(br#"{"auths":{"r":{"username":"u","password":"hunter2"}}}"#)
                .unwrap()
        );
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
