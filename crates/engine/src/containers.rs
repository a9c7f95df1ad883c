//! Container operations on one daemon: find, create (image, files, start), replace, update,
//! change run state, remove. Each is idempotent where Docker allows it and leaves nothing
//! half-made behind when it fails.

use std::time::Duration;

use api::container::{DesiredState, PullPolicy};
use bollard::auth::DockerCredentials;
use bollard::models::{
    ContainerInspectResponse, ContainerUpdateBody, MountType, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, InspectContainerOptions,
    RemoveContainerOptionsBuilder, StartContainerOptions, StopContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::pool::Daemon;
use crate::translate::container::{DesiredContainer, FileContent};

/// The container named or identified by `name`, if it exists.
pub async fn inspect(daemon: &Daemon, name: &str) -> Result<Option<ContainerInspectResponse>> {
    let result = daemon
        .call(
            "inspect_container",
            "container",
            name,
            daemon.timeout(),
            |d| async move {
                d.inspect_container(name, None::<InspectContainerOptions>)
                    .await
            },
        )
        .await;
    match result {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Splits an image reference into what Docker's pull takes: repository and tag (or digest).
fn pull_parts(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, digest);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], &image[last_slash + i + 1..]),
        None => (image, "latest"),
    }
}

/// Makes sure the image is on the daemon as the pull policy asks; returns its ID.
pub async fn ensure_image(
    daemon: &Daemon,
    image: &str,
    policy: PullPolicy,
    credentials: Option<DockerCredentials>,
) -> Result<String> {
    let local = image_id(daemon, image).await?;
    match (policy, local) {
        (PullPolicy::Never, Some(id)) | (PullPolicy::IfNotPresent, Some(id)) => return Ok(id),
        (PullPolicy::Never, None) => {
            return Err(Error::ImageMissingNoPull {
                daemon: daemon.name().into(),
                image: image.into(),
            });
        }
        _ => {}
    }
    pull(daemon, image, credentials).await?;
    image_id(daemon, image)
        .await?
        .ok_or_else(|| Error::ImageUnavailable {
            daemon: daemon.name().into(),
            image: image.into(),
            detail: "the pull finished but the image is not there".into(),
        })
}

async fn image_id(daemon: &Daemon, image: &str) -> Result<Option<String>> {
    let result = daemon
        .call(
            "inspect_image",
            "image",
            image,
            daemon.timeout(),
            |d| async move { d.inspect_image(image).await },
        )
        .await;
    match result {
        Ok(i) => Ok(i.id),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

async fn pull(daemon: &Daemon, image: &str, credentials: Option<DockerCredentials>) -> Result<()> {
    let (repo, tag) = pull_parts(image);
    let options = CreateImageOptionsBuilder::new()
        .from_image(repo)
        .tag(tag)
        .build();
    // Pulls move real data: give them ten times the call timeout.
    let timeout = daemon.timeout() * 10;
    let unavailable = |detail: String| Error::ImageUnavailable {
        daemon: daemon.name().into(),
        image: image.into(),
        detail,
    };
    let had_credentials = credentials.is_some();
    let result = daemon
        .call("pull_image", "image", image, timeout, |d| async move {
            let mut stream = d.create_image(Some(options), None, credentials);
            while let Some(item) = stream.next().await {
                let info = item?;
                if let Some(detail) = info.error_detail {
                    return Err(bollard::errors::Error::DockerStreamError {
                        error: detail.message.unwrap_or_default(),
                    });
                }
            }
            Ok(())
        })
        .await;
    match result {
        Ok(()) => Ok(()),
        Err(
            Error::Rejected { message, .. }
            | Error::Server { message, .. }
            | Error::Unreachable {
                detail: message, ..
            },
        ) if is_auth_refusal(&message) => Err(Error::RegistryAuth {
            daemon: daemon.name().into(),
            image: image.into(),
            registry: crate::registry::registry_of(image),
            detail: message,
            had_credentials,
        }),
        Err(Error::NotFound { .. }) => Err(unavailable("the registry has no such image".into())),
        Err(Error::Unreachable { detail, .. })
        | Err(Error::Rejected {
            message: detail, ..
        })
        | Err(Error::Server {
            message: detail, ..
        }) => Err(unavailable(detail)),
        Err(e) => Err(e),
    }
}

/// Whether a pull failed for want of (valid) registry credentials.
fn is_auth_refusal(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "unauthorized",
        "authentication required",
        "no basic auth credentials",
        "access denied",
        "denied: ",
        "incorrect username or password",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// Creates the container: pulls the image as the policy asks, creates, writes the files,
/// and brings it to the desired run state. On any failure after create, the new container
/// is removed again, so a failed create leaves nothing behind. Returns the container ID.
pub async fn create(
    daemon: &Daemon,
    desired: &DesiredContainer,
    credentials: Option<DockerCredentials>,
) -> Result<String> {
    ensure_image(daemon, &desired.image, desired.pull_policy, credentials).await?;
    claim_volumes(daemon, desired).await?;
    let name = desired.name.as_str();
    let body = desired.body.clone();
    let created = own(
        daemon,
        name,
        "create",
        daemon.call(
            "create_container",
            "container",
            name,
            daemon.timeout(),
            |d| async move {
                let options = CreateContainerOptionsBuilder::new().name(name).build();
                d.create_container(Some(options), body).await
            },
        ),
    )
    .await?;
    let id = created.id;
    let finish = async {
        for (network, endpoint) in desired.networks.iter().skip(1) {
            crate::networks::connect(daemon, network, &id, endpoint.clone()).await?;
        }
        upload_files(daemon, &id, &desired.files).await?;
        match desired.state {
            DesiredState::Running => start(daemon, &id).await,
            DesiredState::Paused => {
                start(daemon, &id).await?;
                pause(daemon, &id).await
            }
            DesiredState::Stopped => Ok(()),
        }
    };
    if let Err(e) = finish.await {
        // Best effort: the error that made us give up is the one to report.
        let _ = remove(daemon, &id, Some(0)).await;
        return Err(e);
    }
    Ok(id)
}

/// Makes each named volume the container mounts that does not exist yet, labelled for the
/// container's namespace, where Docker would make it unlabelled: the tenancy policy then
/// knows whose it is when the container is made again (see `policy::sharing_violations`).
/// No resource owns such a volume, so provider-docker never removes it, as Docker never
/// removes the volumes it makes for mounts.
async fn claim_volumes(daemon: &Daemon, desired: &DesiredContainer) -> Result<()> {
    let namespace = desired
        .body
        .labels
        .as_ref()
        .and_then(|l| l.get(crate::labels::NAMESPACE));
    let mounts = desired
        .body
        .host_config
        .as_ref()
        .and_then(|h| h.mounts.as_ref());
    let (Some(namespace), Some(mounts)) = (namespace, mounts) else {
        return Ok(());
    };
    let named = mounts
        .iter()
        .filter(|m| m.typ == Some(MountType::VOLUME))
        .filter_map(|m| m.source.as_deref().filter(|s| !s.is_empty()));
    for name in named {
        if crate::volumes::inspect(daemon, name).await?.is_some() {
            continue;
        }
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(crate::labels::claim(namespace)),
            ..Default::default()
        };
        daemon
            .call(
                "create_volume",
                "volume",
                name,
                daemon.timeout(),
                |d| async move { d.create_volume(request).await },
            )
            .await?;
    }
    Ok(())
}

/// Replaces a container: removes the old one, then creates the desired one under the same
/// name. Kept as one step so an update strategy (start-first, rollback) can wrap it.
pub async fn replace(
    daemon: &Daemon,
    old_id: &str,
    desired: &DesiredContainer,
    credentials: Option<DockerCredentials>,
) -> Result<String> {
    // Pull first, so a bad image never takes down the running container.
    ensure_image(
        daemon,
        &desired.image,
        desired.pull_policy,
        credentials.clone(),
    )
    .await?;
    remove(daemon, old_id, desired.stop_timeout).await?;
    create(daemon, desired, credentials).await
}

fn tar_of(files: &[FileContent]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for f in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(f.content.len() as u64);
        header.set_mode(f.mode);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        let path = f.path.trim_start_matches('/');
        builder
            .append_data(&mut header, path, f.content.as_slice())
            .map_err(|e| Error::Invalid(format!("files: cannot pack {}: {e}", f.path)))?;
    }
    builder
        .into_inner()
        .map_err(|e| Error::Invalid(format!("files: cannot pack: {e}")))
}

async fn upload_files(daemon: &Daemon, id: &str, files: &[FileContent]) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let archive = bytes::Bytes::from(tar_of(files)?);
    daemon
        .call(
            "upload_to_container",
            "container",
            id,
            daemon.timeout(),
            |d| async move {
                let options = UploadToContainerOptionsBuilder::new().path("/").build();
                d.upload_to_container(id, Some(options), bollard::body_full(archive))
                    .await
            },
        )
        .await
}

/// Runs `call`, which causes `action` on the container `who`: its event is marked as ours
/// (see `own_events`), unless the call fails.
async fn own<T>(
    daemon: &Daemon,
    who: &str,
    action: &'static str,
    call: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    daemon.own_events.expect(who, action);
    let result = call.await;
    if result.is_err() {
        daemon.own_events.unexpect(who, action);
    }
    result
}

pub async fn start(daemon: &Daemon, id: &str) -> Result<()> {
    let call = daemon.call(
        "start_container",
        "container",
        id,
        daemon.timeout(),
        |d| async move { d.start_container(id, None::<StartContainerOptions>).await },
    );
    own(daemon, id, "start", call).await
}

/// Stops the container, giving it `grace` seconds (Docker's default when None).
pub async fn stop(daemon: &Daemon, id: &str, grace: Option<i64>) -> Result<()> {
    let timeout = daemon.timeout() + Duration::from_secs(grace.unwrap_or(10).max(0) as u64);
    daemon
        .call("stop_container", "container", id, timeout, |d| async move {
            let mut options = StopContainerOptionsBuilder::new();
            if let Some(g) = grace {
                options = options.t(g.clamp(0, i64::from(i32::MAX)) as i32);
            }
            d.stop_container(id, Some(options.build())).await
        })
        .await
}

pub async fn pause(daemon: &Daemon, id: &str) -> Result<()> {
    let call = daemon.call(
        "pause_container",
        "container",
        id,
        daemon.timeout(),
        |d| async move { d.pause_container(id).await },
    );
    own(daemon, id, "pause", call).await
}

pub async fn unpause(daemon: &Daemon, id: &str) -> Result<()> {
    daemon
        .call(
            "unpause_container",
            "container",
            id,
            daemon.timeout(),
            |d| async move { d.unpause_container(id).await },
        )
        .await
}

pub async fn update(daemon: &Daemon, id: &str, body: ContainerUpdateBody) -> Result<()> {
    daemon
        .call(
            "update_container",
            "container",
            id,
            daemon.timeout(),
            |d| async move { d.update_container(id, body).await },
        )
        .await
}

/// Removes the container (stopping it with `grace` seconds first). Gone already is fine.
/// Anonymous volumes go with it; named volumes are never touched.
pub async fn remove(daemon: &Daemon, id: &str, grace: Option<i64>) -> Result<()> {
    if grace.is_some_and(|g| g > 0) {
        match stop(daemon, id, grace).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            // Already stopped, or stopping fails: force removal below kills it.
            Err(_) => {}
        }
    }
    let result = daemon
        .call(
            "remove_container",
            "container",
            id,
            daemon.timeout(),
            |d| async move {
                let options = RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build();
                d.remove_container(id, Some(options)).await
            },
        )
        .await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        // 409: removal already in progress; the next observe sees the outcome.
        Err(Error::Conflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_parts_split_repository_from_tag_or_digest() {
        assert_eq!(pull_parts("busybox"), ("busybox", "latest"));
        assert_eq!(pull_parts("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(
            pull_parts("localhost:5000/team/app"),
            ("localhost:5000/team/app", "latest")
        );
        assert_eq!(
            pull_parts("localhost:5000/team/app:v2"),
            ("localhost:5000/team/app", "v2")
        );
        assert_eq!(pull_parts("app@sha256:abc"), ("app", "sha256:abc"));
    }

    #[test]
    fn files_are_packed_with_their_mode_under_their_absolute_path() {
        let archive = tar_of(&[FileContent {
            path: "/etc/app/config".into(),
            mode: 0o600,
            content: b"x=1".to_vec(),
        }])
        .unwrap();
        let mut reader = tar::Archive::new(archive.as_slice());
        let entry = reader.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some("etc/app/config"));
        assert_eq!(entry.header().mode().unwrap(), 0o600);
    }
}
