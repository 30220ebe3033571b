//! What a command prints: a human text on stdout, or with `--json` one JSON document on stdout;
//! progress on anything that waits for blocks goes to stderr either way.

use crate::CliError;
use serde_json::Value;
use std::io::IsTerminal;

/// What a command reports: the same facts as text for a person and as JSON for a script.
pub struct Report {
	pub text: String,
	pub json: Value,
}

impl Report {
	pub fn new(text: impl Into<String>, json: Value) -> Self {
		Self { text: text.into(), json }
	}

	pub fn print(&self, json: bool) {
		if json {
			print_out(&serde_json::to_string_pretty(&self.json).expect("a JSON value prints"));
		} else {
			print_out(self.text.trim_end());
		}
	}
}

/// Progress of a command that waits for blocks, one line a step on stderr (prefixed with the
/// seconds since the command started), so a person sees it move and a script's stdout stays
/// clean.
pub struct Progress {
	started: std::time::Instant,
	quiet: bool,
	/// Where the steps go instead of stderr (the MCP server's progress notifications).
	sink: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

impl Progress {
	pub fn new(quiet: bool) -> Self {
		Self { started: std::time::Instant::now(), quiet, sink: None }
	}

	/// Progress sent, one message a step, to `sink` rather than printed.
	pub fn to(sink: tokio::sync::mpsc::UnboundedSender<String>) -> Self {
		Self { started: std::time::Instant::now(), quiet: false, sink: Some(sink) }
	}

	pub fn step(&self, message: &str) {
		if let Some(sink) = &self.sink {
			// A receiver that went away (the request was answered or cancelled) wants no more.
			let _ = sink.send(message.to_string());
			return;
		}
		if self.quiet {
			return;
		}
		let elapsed = self.started.elapsed().as_secs_f32();
		if std::io::stderr().is_terminal() {
			eprintln!("\x1b[2m[{elapsed:5.1}s]\x1b[0m {message}");
		} else {
			eprintln!("[{elapsed:5.1}s] {message}");
		}
	}
}

/// Prints a line on stdout; a reader that went away (`agentchain … | head`) is not an error.
fn print_out(text: &str) {
	use std::io::Write;
	let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Prints an error on stderr (and as JSON on stdout with `--json`) and gives the exit code.
pub fn print_error(error: &CliError, json: bool) -> i32 {
	if json {
		print_out(&serde_json::to_string_pretty(&error.to_json()).expect("a JSON value prints"));
	}
	eprintln!("error: {error}");
	error.exit_code()
}
