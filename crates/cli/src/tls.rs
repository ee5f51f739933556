//! `accord tls init`: a node's TLS key and self-signed certificate, and the
//! pin its peers put in their configuration.

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Cmd {
    /// Make DIR/tls.key (mode 0600, never overwritten), DIR/tls.crt and
    /// DIR/tls.pin, and print the pin: the `tls_pin` peers and witnesses
    /// put in their configuration, and what `--pin` takes.
    Init {
        /// The directory (created 0700); a node's default is DATA_DIR/tls.
        #[arg(long)]
        dir: PathBuf,
        /// Names (DNS or IP) for the certificate (pins ignore names; these
        /// are for browsers and other tools).
        #[arg(long = "name", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        names: Vec<String>,
    },
}

pub(crate) fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Init { dir, names } => {
            let opts = accord_net::IdentityOptions {
                names,
                ..Default::default()
            };
            let (files, pin) = accord_net::tls_init(&dir, &opts)?;
            println!("{pin}");
            eprintln!(
                "TLS key {} (mode 0600, keep it secret), certificate {}, pin {}",
                files.key.display(),
                files.cert.display(),
                files.pin.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
