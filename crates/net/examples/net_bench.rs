//! Prints the transport benchmark: `cargo run --release -p accord-net
//! --example net_bench [-- --read-loops N]`.

fn main() -> std::process::ExitCode {
    let mut options = accord_net::bench::BenchOptions::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--read-loops") {
        match args.get(i + 1).and_then(|n| n.parse().ok()) {
            Some(n) => options.public_read_loops = n,
            None => {
                eprintln!("--read-loops takes a number");
                return std::process::ExitCode::from(2);
            }
        }
    }
    match accord_net::bench::run(&options) {
        Ok(report) => {
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
