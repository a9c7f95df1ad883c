//! Mutual TLS to a daemon's TCP socket, from certificates held in memory.

use std::sync::Arc;

use bollard::{ClientVersion, Docker};
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime, pem::PemObject},
};

use super::{TlsMaterial, TransportError};

pub(super) fn docker(
    address: &str,
    material: &TlsMaterial,
    timeout_secs: u64,
    version: &ClientVersion,
) -> Result<Docker, TransportError> {
    let config = client_config(material)?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only();
    let connector = match &material.server_name {
        Some(name) => {
            let name = ServerName::try_from(name.clone()).map_err(|_| {
                TransportError(format!(
                    "spec.tls.serverName {name:?} is not a valid DNS name or IP address"
                ))
            })?;
            connector.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => connector,
    }
    .enable_http1()
    .build();
    super::over(
        connector,
        format!("https://{address}"),
        timeout_secs,
        version,
    )
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(material: &TlsMaterial) -> Result<ClientConfig, TransportError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError(format!("TLS setup failed: {e}")))?;
    let builder = if !material.verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
    } else {
        let mut roots = RootCertStore::empty();
        match &material.ca {
            Some(ca) => {
                let certs = certificates(ca.bytes(), "the CA certificate (ca.crt or ca.pem)")?;
                for cert in certs {
                    roots.add(cert).map_err(|e| {
                        TransportError(format!(
                            "spec.tls.secretRef: the CA certificate (ca.crt or ca.pem) is not usable: {e}"
                        ))
                    })?;
                }
            }
            None => {
                let native = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
            }
        }
        builder.with_root_certificates(roots)
    };
    match &material.client {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = certificates(cert.bytes(), "the client certificate (tls.crt or cert.pem)")?;
            let key = PrivateKeyDer::from_pem_slice(key.bytes()).map_err(|_| {
                TransportError(
                    "spec.tls.secretRef: the client key (tls.key or key.pem) is not a PEM private key"
                        .into(),
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                TransportError(format!(
                    "spec.tls.secretRef: the client certificate and key do not go together: {e}"
                ))
            })
        }
    }
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TransportError(format!("spec.tls.secretRef: {what} is not PEM")))?;
    if certs.is_empty() {
        return Err(TransportError(format!(
            "spec.tls.secretRef: {what} holds no certificate"
        )));
    }
    Ok(certs)
}

/// `insecureSkipVerify`: accepts any daemon certificate, still checking the handshake's
/// signatures so the session keys are the daemon's.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
