//! `accord serve --config FILE`: run a party's node, or a neutral witness.

use accord_node::config::{Built, Config};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The node's configuration (TOML; see the README).
    #[arg(long)]
    config: PathBuf,
}

pub(crate) fn run(a: Args) -> Result<ExitCode> {
    let (cfg, base) = Config::load(&a.config)?;
    let built = cfg.build(&a.config, &base)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match built {
        Built::Party {
            node,
            listen,
            caught_up,
        } => {
            if caught_up > 0 {
                eprintln!("applied {caught_up} logged entries the registry lacked");
            }
            rt.block_on(accord_node::serve(node, &listen))
                .with_context(|| format!("serving on {listen}"))?;
            eprintln!("accord node stopped");
        }
        Built::Witness { node, listen } => {
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(&listen).await?;
                let scheme = if node.pin().is_some() {
                    "https"
                } else {
                    "http"
                };
                eprintln!(
                    "accord witness listening on {scheme}://{}",
                    listener.local_addr()?
                );
                if let Some(pin) = node.pin() {
                    eprintln!("its TLS key pin: {pin}");
                }
                accord_node::witness_node::serve_until(node, listener, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
            })
            .with_context(|| format!("serving on {listen}"))?;
            eprintln!("accord witness stopped");
        }
    }
    Ok(ExitCode::SUCCESS)
}
