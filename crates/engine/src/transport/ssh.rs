//! Docker over SSH, as the docker CLI does it: one SSH session per daemon, and per HTTP
//! connection a channel running `docker system dial-stdio` on the remote host. The key and
//! known hosts stay in memory.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use bollard::{ClientVersion, Docker};
use http::Uri;
use hyper_util::{
    client::legacy::connect::{Connected, Connection},
    rt::TokioIo,
};
use russh::{
    client::{self, Handle, Msg},
    keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{SshMaterial, TransportError, known_hosts::Verdict};

pub(super) fn docker(
    material: &SshMaterial,
    timeout_secs: u64,
    version: &ClientVersion,
) -> Result<Docker, TransportError> {
    let text = std::str::from_utf8(material.private_key.bytes()).map_err(|_| {
        TransportError(
            "spec.ssh.secretRef: ssh-privatekey is not a text (PEM or OpenSSH) key".into(),
        )
    })?;
    let key = russh::keys::decode_secret_key(text, None).map_err(|e| {
        TransportError(format!(
            "spec.ssh.secretRef: ssh-privatekey is not a usable unencrypted private key: {e}"
        ))
    })?;
    let connector = Connector(Arc::new(Shared {
        material: material.clone(),
        key: Arc::new(key),
        session: tokio::sync::Mutex::new(None),
    }));
    // Requests only need a well-formed authority; the connector ignores it.
    super::over(connector, "http://docker.ssh".into(), timeout_secs, version)
}

struct Shared {
    material: SshMaterial,
    key: Arc<PrivateKey>,
    /// The one SSH session, opened on first use and again after it closes.
    session: tokio::sync::Mutex<Option<Handle<HostKeyCheck>>>,
}

#[derive(Clone)]
struct Connector(Arc<Shared>);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let shared = self.0.clone();
        Box::pin(async move { Ok(TokioIo::new(shared.dial().await?)) })
    }
}

impl Shared {
    /// A new channel to the remote daemon, on the session (opened if need be).
    async fn dial(&self) -> Result<Stream, BoxError> {
        let mut session = self.session.lock().await;
        let handle = match session.take() {
            Some(h) if !h.is_closed() => h,
            _ => self.open().await?,
        };
        // A failed channel leaves the session forgotten, so the next dial opens another.
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|e| format!("SSH channel to {} failed: {e}", self.target()))?;
        *session = Some(handle);
        drop(session);
        let command = match &self.material.remote_socket {
            Some(socket) => format!("docker --host unix://{socket} system dial-stdio"),
            None => "docker system dial-stdio".to_string(),
        };
        channel
            .exec(true, command)
            .await
            .map_err(|e| format!("SSH exec on {} failed: {e}", self.target()))?;
        Ok(Stream(channel.into_stream()))
    }

    fn target(&self) -> String {
        format!(
            "{}@{}:{}",
            self.material.user, self.material.host, self.material.port
        )
    }

    async fn open(&self) -> Result<Handle<HostKeyCheck>, BoxError> {
        let m = &self.material;
        let refusal = Arc::new(Mutex::new(None));
        let check = HostKeyCheck {
            material: m.clone(),
            refusal: refusal.clone(),
        };
        let config = Arc::new(client::Config {
            inactivity_timeout: None,
            keepalive_interval: Some(std::time::Duration::from_secs(15)),
            ..Default::default()
        });
        let mut handle = match client::connect(config, (m.host.as_str(), m.port), check).await {
            Ok(h) => h,
            Err(e) => {
                let why = refusal.lock().unwrap_or_else(|p| p.into_inner()).take();
                return Err(why
                    .unwrap_or_else(|| format!("SSH connection to {} failed: {e}", self.target()))
                    .into());
            }
        };
        let hash = match self.key.algorithm() {
            russh::keys::Algorithm::Rsa { .. } => handle
                .best_supported_rsa_hash()
                .await
                .ok()
                .flatten()
                .flatten()
                .or(Some(HashAlg::Sha256)),
            _ => None,
        };
        let auth = handle
            .authenticate_publickey(
                m.user.clone(),
                PrivateKeyWithHashAlg::new(self.key.clone(), hash),
            )
            .await
            .map_err(|e| format!("SSH login to {} failed: {e}", self.target()))?;
        if !auth.success() {
            return Err(format!(
                "SSH login to {} was refused: the host does not accept the key in spec.ssh.secretRef (ssh-privatekey) for user {}",
                self.target(),
                m.user
            )
            .into());
        }
        Ok(handle)
    }
}

/// Checks the host key against known_hosts and remembers why it refused.
struct HostKeyCheck {
    material: SshMaterial,
    refusal: Arc<Mutex<Option<String>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let m = &self.material;
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            self.refuse(format!(
                "SSH host {}:{} presented a host certificate; host certificates are not supported, list its host key in known_hosts",
                m.host, m.port
            ));
            return Ok(false);
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256);
        let why = match m.known_hosts.verdict(&m.host, m.port, key) {
            Verdict::Trusted => return Ok(true),
            Verdict::Mismatch => format!(
                "SSH host key of {}:{} ({} {fingerprint}) does not match the key known_hosts in spec.ssh.secretRef records for it: the host was reinstalled, or someone is in the middle; check the host and update known_hosts",
                m.host,
                m.port,
                key.algorithm()
            ),
            Verdict::Unknown => format!(
                "SSH host {}:{} is not in known_hosts of spec.ssh.secretRef (it presented {} {fingerprint}); add its key, e.g. from ssh-keyscan -p {} {}",
                m.host,
                m.port,
                key.algorithm(),
                m.port,
                m.host
            ),
            Verdict::Revoked => format!(
                "SSH host key of {}:{} ({fingerprint}) is marked @revoked in known_hosts",
                m.host, m.port
            ),
        };
        self.refuse(why);
        Ok(false)
    }
}

impl HostKeyCheck {
    fn refuse(&self, why: String) {
        *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }
}

/// One dial-stdio channel as a byte stream for hyper.
pub(super) struct Stream(russh::ChannelStream<Msg>);

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
