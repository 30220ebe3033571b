//! `agentchain-inference-server`: see the library documentation and the README.

use agentchain_inference_server::{run, Cli};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
	let cli = Cli::parse();
	let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
		Ok(runtime) => runtime,
		Err(err) => {
			eprintln!("error: cannot start the async runtime: {err}");
			return ExitCode::FAILURE;
		},
	};
	match runtime.block_on(run(cli)) {
		Ok(()) => ExitCode::SUCCESS,
		Err(err) => {
			eprintln!("error: {err}");
			ExitCode::FAILURE
		},
	}
}
