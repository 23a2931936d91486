//! HTTPS: the certificate chain and key of `LEDGERD_TLS_CERT`/`LEDGERD_TLS_KEY`, served through
//! rustls (ring provider, as etctl uses), and re-read on SIGHUP. A new pair that cannot be used is
//! logged and the one in use kept, so a botched renewal never takes the ledger down.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// Where the certificate chain and its private key are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first (`LEDGERD_TLS_CERT`).
    pub cert: PathBuf,
    /// PEM private key: PKCS#8, PKCS#1 or SEC1 (`LEDGERD_TLS_KEY`).
    pub key: PathBuf,
}

/// A certificate pair that cannot be used; the message names the file, the variable and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks the pair `files` names.
pub fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let read = |path: &Path, var: &str| {
        std::fs::read(path).map_err(|e| {
            TlsError(format!(
                "cannot read {} ({var}): {e}; check the path and that this user may read it",
                path.display()
            ))
        })
    };
    let cert_pem = read(&files.cert, "LEDGERD_TLS_CERT")?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&cert_pem).collect::<Result<_, _>>().map_err(|e| {
            TlsError(format!(
                "{} (LEDGERD_TLS_CERT) is not a PEM certificate chain: {e}; give the chain, leaf first",
                files.cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "{} (LEDGERD_TLS_CERT) holds no certificate; give the PEM certificate chain, leaf first",
            files.cert.display()
        )));
    }
    let key_pem = read(&files.key, "LEDGERD_TLS_KEY")?;
    // The parser's message could quote nothing secret, but a key file gets no echo at all.
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
        TlsError(format!("{} (LEDGERD_TLS_KEY) holds no PEM private key (PKCS#8, PKCS#1 or SEC1)", files.key.display()))
    })?;
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| {
        TlsError(format!(
            "the key {} (LEDGERD_TLS_KEY) cannot serve the certificate {} (LEDGERD_TLS_CERT): {e}; give the key \
             the certificate was issued for",
            files.key.display(),
            files.cert.display()
        ))
    })?;
    Ok(Arc::new(certified))
}

/// The pair in use, swapped whole by [`Certificates::reload`]; every handshake reads it.
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates").field("files", &self.files).finish_non_exhaustive()
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(PoisonError::into_inner).clone())
    }
}

impl Certificates {
    /// Loads the pair `files` names.
    pub fn open(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let current = RwLock::new(load(&files)?);
        Ok(Arc::new(Certificates { files, current }))
    }

    /// Re-reads the files; on failure the pair in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load(&self.files)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// The acceptor of every connection: TLS 1.2 and 1.3, HTTP/1.1 by ALPN, no client certificates.
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("cannot set up TLS: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Re-reads the pair on every SIGHUP, for as long as the server runs.
    #[cfg(unix)]
    pub fn reload_on_sighup(self: &Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let certificates = self.clone();
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let certs = certificates.clone();
                match tokio::task::spawn_blocking(move || certs.reload()).await {
                    Ok(Ok(())) => tracing::info!(
                        cert = %certificates.files.cert.display(),
                        "SIGHUP received: TLS certificate and key re-read; new connections use them"
                    ),
                    Ok(Err(e)) => tracing::error!("SIGHUP received, but {e}; still serving the previous certificate"),
                    Err(e) => tracing::error!("SIGHUP received, but re-reading the certificate failed: {e}"),
                }
            }
        }))
    }
}
