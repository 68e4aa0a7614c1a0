//! TLS as libpq's `sslmode` means it, with rustls (no OpenSSL to build against).
//!
//! | sslmode | encrypts | verifies |
//! |---|---|---|
//! | disable | never | - |
//! | allow | only if the plain attempt fails | as require |
//! | prefer (default) | if the server offers it | as require |
//! | require | always | nothing, or as verify-ca when a root certificate is given or `~/.postgresql/root.crt` exists |
//! | verify-ca | always | the chain up to the root certificate |
//! | verify-full | always | the chain, and that the certificate names the host |
//!
//! rustls and the tokio-postgres adapter do the handshake and SCRAM channel
//! binding; written here are only the two verifiers libpq has and rustls does
//! not (none, and chain-without-name), and the reading of libpq's file defaults.

use anyhow::{anyhow, bail, Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(text: &str) -> Result<SslMode> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => bail!("invalid sslmode value: \"{other}\"; use disable, allow, prefer, require, verify-ca or verify-full"),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// What the server's certificate is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    Nothing,
    /// The chain up to these roots, not the name.
    Chain(Roots),
    /// The chain and the host name.
    Full(Roots),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    File(PathBuf),
    /// The operating system's store (`sslrootcert=system`).
    System,
}

/// The TLS part of the parameters: the mode and the files libpq would use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub verify: Verify,
    /// `sslcert` and `sslkey`, when both are there.
    pub client_certificate: Option<(PathBuf, PathBuf)>,
}

impl TlsSettings {
    /// libpq's rules for `sslmode`, `sslrootcert`, `sslcert` and `sslkey`, with its
    /// defaults under `~/.postgresql/`.
    pub fn new(
        mode: Option<&str>,
        rootcert: Option<&str>,
        cert: Option<&str>,
        key: Option<&str>,
        home: Option<&Path>,
    ) -> Result<TlsSettings> {
        let default_file = |name: &str| home.map(|h| h.join(".postgresql").join(name));
        let system = rootcert == Some("system");
        let mode = match mode {
            Some(mode) => SslMode::parse(mode)?,
            // libpq: sslrootcert=system makes verify-full the default.
            None if system => SslMode::VerifyFull,
            None => SslMode::Prefer,
        };
        if system && mode != SslMode::VerifyFull {
            bail!("weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")", mode.as_str());
        }
        let roots = match rootcert {
            Some("system") => Some(Roots::System),
            Some(path) => Some(Roots::File(PathBuf::from(path))),
            None => default_file("root.crt").filter(|p| p.exists()).map(Roots::File),
        };
        let verify = match mode {
            SslMode::Disable => Verify::Nothing,
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = roots.ok_or_else(|| {
                    anyhow!(
                        "root certificate file \"{}\" does not exist; either provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification",
                        default_file("root.crt").unwrap_or_default().display()
                    )
                })?;
                if let Roots::File(path) = &roots {
                    if !path.exists() {
                        bail!("root certificate file \"{}\" does not exist", path.display());
                    }
                }
                if mode == SslMode::VerifyFull {
                    Verify::Full(roots)
                } else {
                    Verify::Chain(roots)
                }
            }
            // libpq: with a root certificate, require (and allow, prefer) verify like verify-ca.
            _ => roots.filter(|r| !matches!(r, Roots::File(p) if !p.exists())).map_or(Verify::Nothing, Verify::Chain),
        };
        let cert = cert.map(PathBuf::from).or_else(|| default_file("postgresql.crt"));
        let key = key.map(PathBuf::from).or_else(|| default_file("postgresql.key"));
        let client_certificate = match (cert, key) {
            (Some(cert), Some(key)) if cert.exists() => Some((cert, key)),
            _ => None,
        };
        Ok(TlsSettings { mode, verify, client_certificate })
    }

    /// The rustls configuration for an encrypted attempt.
    pub fn client_config(&self) -> Result<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS: no protocol version")?;
        let verifier: Arc<dyn ServerCertVerifier> = match &self.verify {
            Verify::Nothing => Arc::new(AcceptAnyCertificate(provider.clone())),
            Verify::Chain(roots) => Arc::new(ChainOnly(webpki_verifier(roots, &provider)?)),
            Verify::Full(roots) => webpki_verifier(roots, &provider)?,
        };
        let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
        let mut config = match &self.client_certificate {
            Some((cert, key)) => {
                let (certs, key) = client_identity(cert, key)?;
                builder.with_client_auth_cert(certs, key).context("TLS: the client certificate and key do not match")?
            }
            None => builder.with_no_client_auth(),
        };
        // sslnegotiation=direct needs ALPN "postgresql"; the server accepts it on the classic path too.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(config)
    }
}

fn webpki_verifier(roots: &Roots, provider: &Arc<CryptoProvider>) -> Result<Arc<WebPkiServerVerifier>> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let certificates = read_certificates(path, "root certificate")?;
            let (added, _) = store.add_parsable_certificates(certificates);
            if added == 0 {
                bail!("root certificate file \"{}\" holds no certificate rustls can use", path.display());
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                bail!("sslrootcert=system: the operating system's certificate store is empty or unreadable");
            }
        }
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| anyhow!("TLS: cannot use the root certificates: {e}"))
}

fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the {what} file \"{}\"", path.display()))?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| anyhow!("the {what} file \"{}\" is not PEM certificates: {e}", path.display()))?;
    if certificates.is_empty() {
        bail!("the {what} file \"{}\" holds no certificate", path.display());
    }
    Ok(certificates)
}

/// The client certificate and its key; libpq refuses a key others can read.
fn client_identity(cert: &Path, key: &Path) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let certificates = read_certificates(cert, "client certificate")?;
    let metadata =
        std::fs::metadata(key).with_context(|| format!("certificate present, but not private key file \"{}\"", key.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // libpq allows root-owned keys up to 0640; a key of one's own, 0600.
        let mode = metadata.permissions().mode();
        let limit = if metadata.uid() == 0 { 0o037 } else { 0o077 };
        if mode & limit != 0 {
            bail!(
                "private key file \"{}\" has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root",
                key.display()
            );
        }
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow!("cannot read the private key file \"{}\": {e}", key.display()))?;
    Ok((certificates, key))
}

/// sslmode=require without a root certificate: encrypt, trust any certificate
/// (libpq's meaning), but still check that the server holds its key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// sslmode=verify-ca: the chain must lead to a trusted root; the name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. })) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_root_certificates_follow_libpq() {
        let home = std::env::temp_dir().join(format!("pgadvise-tls-home-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let settings = |mode: Option<&str>, root: Option<&str>| TlsSettings::new(mode, root, None, None, Some(&home));
        assert_eq!(settings(None, None).unwrap().mode, SslMode::Prefer);
        assert_eq!(settings(Some("require"), None).unwrap().verify, Verify::Nothing);
        let missing = settings(Some("verify-full"), None).unwrap_err().to_string();
        assert!(missing.contains("root.crt\" does not exist") && missing.contains("sslrootcert=system"), "{missing}");
        assert_eq!(settings(None, Some("system")).unwrap().verify, Verify::Full(Roots::System));
        assert!(settings(Some("require"), Some("system")).unwrap_err().to_string().contains("weak sslmode \"require\""));
        assert!(SslMode::parse("verify_full").unwrap_err().to_string().contains("invalid sslmode value"));

        // A root certificate in ~/.postgresql makes require verify the chain, as libpq does.
        std::fs::create_dir_all(home.join(".postgresql")).unwrap();
        std::fs::write(home.join(".postgresql/root.crt"), "x").unwrap();
        let root = Roots::File(home.join(".postgresql/root.crt"));
        assert_eq!(settings(Some("require"), None).unwrap().verify, Verify::Chain(root.clone()));
        assert_eq!(settings(Some("verify-full"), None).unwrap().verify, Verify::Full(root));
        std::fs::remove_dir_all(&home).unwrap();
    }
}
