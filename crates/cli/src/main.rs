//! `accord`: make arms-control agreements verifiable.
//!
//! Exit codes are a contract: 0 all is well, 1 a finding (non-compliance,
//! failed verification), 2 bad usage or bad input (nothing was changed).
#![forbid(unsafe_code)]

mod client;
mod draw;
mod freeze;
mod history;
mod inspect;
mod log;
mod registry;
mod scenario;
mod serve;
mod tls;
mod treaty;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// accord — the treaty as data, declared holdings as an item-level registry,
/// and compliance at any date.
///
/// Start with `accord demo`: both parties generated at the published
/// 1 Sep 2020 numbers, a year of notifications, every data exchange checked
/// against New START's limits, and an HTML report.
///
/// Exit codes: 0 ok, 1 a finding, 2 bad usage or input.
#[derive(Parser)]
#[command(name = "accord", version, about, long_about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole treaty cycle on an embedded store and write a report.
    Demo(accord_demo::Args),
    /// Show a treaty, or where it stands on a date.
    #[command(subcommand)]
    Treaty(treaty::Cmd),
    /// Generate a SYNTHETIC item-level registry reproducing aggregate numbers.
    Generate(registry::GenerateArgs),
    /// Check a registry's compliance on a date (exit 1 on any finding).
    Check(registry::CheckArgs),
    /// Add, rebuild or export a registry's notifications.
    #[command(subcommand)]
    Registry(registry::Cmd),
    /// Check every published aggregate data exchange against the limits.
    History(history::Args),
    /// The verified freeze: declare, prove caps, disclose, challenge.
    #[command(subcommand)]
    Freeze(freeze::Cmd),
    /// Draws neither party controls: verify a draw's transcript.
    #[command(subcommand)]
    Draw(draw::Cmd),
    /// Inspections: exact odds, sample sizes, optimal plans, simulation, records.
    #[command(subcommand)]
    Inspect(inspect::Cmd),
    /// Run a party's node over HTTP (see the README: `accord serve`).
    Serve(serve::Args),
    /// Post notifications to a node (exit 2 if refused: nothing stored).
    Notify(client::NotifyArgs),
    /// A node's tree size, checkpoint and compliance (exit 1 on findings).
    Status(client::StatusArgs),
    /// Make a signer key (mode 0600) and its verifier key.
    Keygen(log::KeygenArgs),
    /// A node's TLS identity: `accord tls init --dir DATA_DIR/tls`.
    #[command(subcommand)]
    Tls(tls::Cmd),
    /// The tamper-evident log: append, checkpoint, prove, verify, audit.
    #[command(subcommand)]
    Log(log::LogCmd),
    /// A witness: cosign consistent checkpoints, keep evidence of split views.
    #[command(subcommand)]
    Witness(log::WitnessCmd),
    /// Measure speed against the raw primitive in the same run.
    #[command(subcommand)]
    Bench(accord_bench::Cmd),
    /// Compare the proposals (extend, freeze, expire, keep the limits, trilateral).
    #[command(subcommand)]
    Scenario(scenario::Cmd),
    /// Print a shell completion script (e.g. `accord completions bash > /etc/bash_completion.d/accord`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; `accord man | man -l -`), or write one
    /// page per command into a directory.
    Man {
        /// Write accord.1, accord-check.1, … here instead.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    // `accord … | head`: a closed pipe ends the output quietly (exit 0),
    // whichever command was printing, instead of a panic.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map_or("", |m| m.as_str());
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
    let cli = Cli::parse();
    // Structured logs on standard error (ACCORD_LOG=debug for more; the
    // nodes log every request and every failed pull and push).
    // A node logs every request at info; other commands only warnings.
    let default = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ACCORD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let result = match cli.command {
        Command::Demo(a) => accord_demo::run(a),
        Command::Treaty(c) => treaty::run(c),
        Command::Generate(a) => registry::generate(a),
        Command::Check(a) => registry::check(a),
        Command::Registry(c) => registry::run(c),
        Command::History(a) => history::run(a),
        Command::Freeze(c) => freeze::run(c),
        Command::Draw(c) => draw::run(c),
        Command::Inspect(c) => inspect::run(c),
        Command::Serve(a) => serve::run(a),
        Command::Notify(a) => client::notify(a),
        Command::Status(a) => client::status(a),
        Command::Keygen(a) => log::keygen(a),
        Command::Tls(c) => tls::run(c),
        Command::Log(c) => log::run(c),
        Command::Witness(c) => log::witness(c),
        Command::Bench(c) => accord_bench::run(c),
        Command::Scenario(c) => scenario::run(c),
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            use std::io::Write as _;
            // Into a buffer first: the generator panics on a closed pipe.
            let mut buf = vec![];
            clap_complete::generate(shell, &mut Cli::command(), "accord", &mut buf);
            std::io::stdout()
                .write_all(&buf)
                .map(|()| ExitCode::SUCCESS)
                .map_err(anyhow::Error::from)
        }
        Command::Man { out } => man(out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            // The chain, each cause once (most messages already quote theirs).
            let mut msg = e.to_string();
            for cause in e.chain().skip(1).map(|c| c.to_string()) {
                if !msg.contains(&cause) {
                    msg = format!("{msg}: {cause}");
                }
            }
            eprintln!("accord: error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The manual: one page to standard output, or every command's page in `out`.
fn man(out: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory as _;
    let cmd = Cli::command();
    match out {
        None => {
            use std::io::Write as _;
            let mut buf = vec![];
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            std::io::stdout().write_all(&buf)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(cmd, &dir)?;
            eprintln!("manual pages written to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Exit code for a report: 1 when anything was found.
pub(crate) fn finding_code(found: bool) -> ExitCode {
    if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints JSON (pretty) to stdout.
pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    Ok(accord_report::print_json(v)?)
}

/// The report as JSON with `--json`, else its text rendering.
pub(crate) fn emit<T: serde::Serialize>(
    json: bool,
    v: &T,
    text: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        print_json(v)
    } else {
        print!("{}", text(v));
        Ok(())
    }
}
