//! # AgentChain reference inference server
//!
//! A small OpenAI-compatible HTTP server used by the end-to-end tests of AgentChain's off-chain
//! workers. The workers POST completion requests to it and hash the answers, so the answers must
//! be reproducible: the server runs a deterministic word-level n-gram model of its own, built at
//! start-up from a text corpus (by default the English corpus shipped in `corpus/en.txt`).
//! Any OpenAI-compatible server (vLLM, llama.cpp's `llama-server`, Ollama) can take its place.
//!
//! ## Endpoints
//!
//! - `GET /v1/models` lists the served model names (all of them are the same n-gram model).
//! - `POST /v1/chat/completions` continues the messages' contents joined by `"\n"`.
//! - `POST /v1/completions` continues a string prompt.
//! - `GET`/`PUT /admin/fault` read and change the fault mode, and the one prompt it may be limited
//!   to, only with `--admin`.
//! - `GET`/`PUT /documents/NAME` read and write a batch document (inputs or outputs), only with
//!   `--documents`.
//!
//! Errors have OpenAI's shape, `{"error":{"message","type","param","code"}}`. With an API key
//! configured every `/v1` request needs `Authorization: Bearer <key>`.
//!
//! ## Model
//!
//! See [`model`]: a trigram model with backoff to bigrams and unigrams; greedy decoding at
//! temperature 0 (ties to the lexicographically smallest token), otherwise sampling with
//! probability ∝ `count^(1/T)` from a SplitMix64 generator seeded by the request's `seed`.
//!
//! ## Fault modes
//!
//! See [`FaultMode`]: the completion endpoints can answer wrongly, slowly, with a 500, with
//! malformed JSON, with an oversized text, under another model's name, or hang up. They exist to
//! test how the chain copes with misbehaving inference providers. A `PUT /admin/fault` may limit
//! the mode to one prompt (`"only_prompt"`, compared exactly: see [`FaultState::mode_for`]),
//! every other prompt being answered honestly: an executor that lies on one item of a batch.
//!
//! ## Layout
//!
//! - [`model`]: tokenizer, n-gram tables, decoding.
//! - [`api`]: request and response types of the OpenAI wire format.
//! - [`fault`]: fault modes.
//! - [`server`]: the hyper server.
//! - [`Cli`] and [`run`]: the command line of the `agentchain-inference-server` binary.

pub mod api;
pub mod fault;
pub mod model;
pub mod server;

pub use fault::{FaultMode, FaultState};
pub use model::NgramModel;
pub use server::{serve, AppState, ServerConfig, MAX_DOCUMENT_BYTES};

use clap::Parser;
use std::{io::Write, path::PathBuf, sync::Arc};
use tokio::net::TcpListener;

/// The corpus shipped with the crate, used unless `--corpus` is given.
pub const DEFAULT_CORPUS: &str = include_str!("../corpus/en.txt");
/// The model name served unless `--model` is given.
pub const DEFAULT_MODEL: &str = "ngram-en";
/// Environment variable read for `--api-key`.
pub const API_KEY_ENV: &str = "AGENTCHAIN_INFERENCE_SERVER_API_KEY";

/// Command line of `agentchain-inference-server`.
#[derive(Clone, Parser)]
#[command(name = "agentchain-inference-server", version, about, long_about = None)]
pub struct Cli {
	/// Address to listen on; port 0 picks a free port. The bound address is printed to stdout
	/// as `listening on http://<addr>`.
	#[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
	pub listen: String,

	/// Model name to serve; repeat for several names (all answer with the same model).
	#[arg(long = "model", value_name = "NAME", default_value = DEFAULT_MODEL)]
	pub models: Vec<String>,

	/// Text corpus to build the model from [default: the shipped English corpus].
	#[arg(long, value_name = "PATH")]
	pub corpus: Option<PathBuf>,

	/// Misbehaviour of the completion endpoints.
	#[arg(long, value_name = "MODE", default_value = "honest")]
	pub fault: FaultMode,

	/// Delay of the `slow` fault mode, in milliseconds.
	#[arg(long, value_name = "MS", default_value_t = 30_000)]
	pub delay_ms: u64,

	/// Length in bytes of the text returned by the `oversized` fault mode.
	#[arg(long, value_name = "BYTES", default_value_t = server::DEFAULT_OVERSIZED_BYTES)]
	pub oversized_bytes: usize,

	/// Serve `GET`/`PUT /admin/fault` to change the fault mode at run time (no API key needed).
	///
	/// The body of a `PUT` is `{"mode": MODE}`, with optionally `"delay_ms"` (of `slow`;
	/// unchanged when absent) and `"only_prompt": TEXT`: the mode then applies only to completion
	/// requests whose prompt is exactly TEXT (a chat's prompt being its messages' contents joined
	/// by newlines), every other one being answered honestly. A `PUT` without `only_prompt`
	/// applies the mode to every request again. `GET` answers the same fields.
	#[arg(long)]
	pub admin: bool,

	/// Serve `GET`/`PUT /documents/NAME`: an in-memory store where requesters publish a batch's
	/// inputs and agent nodes its outputs (`--inference-outputs-url`). No API key needed; each
	/// name written once; at most 32 MiB a document and 256 MiB in all; lost when the server
	/// stops.
	#[arg(long)]
	pub documents: bool,

	/// Require `Authorization: Bearer <KEY>` on every /v1 request. Prefer the environment
	/// variable: command lines are visible to other users of the machine.
	#[arg(long, value_name = "KEY", env = API_KEY_ENV, hide_env_values = true)]
	pub api_key: Option<String>,
}

impl Cli {
	/// Reads the corpus, builds the model and the server state.
	pub fn build_state(&self) -> Result<AppState, String> {
		let corpus = match &self.corpus {
			Some(path) => std::fs::read_to_string(path)
				.map_err(|err| format!("cannot read the corpus {}: {err}", path.display()))?,
			None => DEFAULT_CORPUS.to_owned(),
		};
		let model = NgramModel::from_text(&corpus).map_err(|err| err.to_string())?;
		let mut models: Vec<String> = Vec::with_capacity(self.models.len());
		for name in &self.models {
			if name.trim().is_empty() {
				return Err("model names must not be empty".to_owned());
			}
			if !models.contains(name) {
				models.push(name.clone());
			}
		}
		if self.api_key.as_deref().is_some_and(|key| key.trim().is_empty()) {
			return Err(format!("the API key (--api-key or {API_KEY_ENV}) must not be empty"));
		}
		let config = ServerConfig {
			models,
			api_key: self.api_key.clone(),
			admin: self.admin,
			documents: self.documents,
			oversized_bytes: self.oversized_bytes,
		};
		Ok(AppState::new(model, config, FaultState { mode: self.fault, delay_ms: self.delay_ms }))
	}
}

/// Runs the server until SIGINT or SIGTERM: builds the model, binds, prints
/// `listening on http://<addr>` to stdout, and serves.
pub async fn run(cli: Cli) -> Result<(), String> {
	let state = cli.build_state()?;
	// Install the handlers before announcing the address, so that a signal sent as soon as the
	// line is read already means a graceful shutdown.
	let shutdown = ShutdownSignal::install()
		.map_err(|err| format!("cannot install the signal handlers: {err}"))?;
	let listener = TcpListener::bind(&cli.listen)
		.await
		.map_err(|err| format!("cannot listen on {}: {err}", cli.listen))?;
	let addr = listener
		.local_addr()
		.map_err(|err| format!("cannot read the bound address: {err}"))?;
	let mut stdout = std::io::stdout().lock();
	writeln!(stdout, "listening on http://{addr}")
		.and_then(|()| stdout.flush())
		.map_err(|err| format!("cannot write to stdout: {err}"))?;
	drop(stdout);
	let fault = state.fault();
	eprintln!(
		"serving {} from a corpus of {} tokens ({} distinct); fault mode {}{}{}",
		state.config().models.join(", "),
		state.model().corpus_tokens(),
		state.model().vocabulary().len(),
		fault.mode,
		if state.config().api_key.is_some() { "; API key required" } else { "" },
		if state.config().admin { "; admin endpoint enabled" } else { "" },
	);
	serve(listener, Arc::new(state), shutdown.wait())
		.await
		.map_err(|err| format!("server failed: {err}"))
}

/// SIGINT or SIGTERM (Ctrl-C elsewhere than Unix).
struct ShutdownSignal {
	#[cfg(unix)]
	interrupt: tokio::signal::unix::Signal,
	#[cfg(unix)]
	terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
	#[cfg(unix)]
	fn install() -> std::io::Result<Self> {
		use tokio::signal::unix::{signal, SignalKind};
		Ok(Self {
			interrupt: signal(SignalKind::interrupt())?,
			terminate: signal(SignalKind::terminate())?,
		})
	}

	#[cfg(not(unix))]
	fn install() -> std::io::Result<Self> {
		Ok(Self {})
	}

	#[cfg(unix)]
	async fn wait(mut self) {
		let name = tokio::select! {
			_ = self.interrupt.recv() => "SIGINT",
			_ = self.terminate.recv() => "SIGTERM",
		};
		eprintln!("{name} received, shutting down");
	}

	#[cfg(not(unix))]
	async fn wait(self) {
		if tokio::signal::ctrl_c().await.is_ok() {
			eprintln!("Ctrl-C received, shutting down");
		} else {
			std::future::pending::<()>().await;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn shipped_corpus_is_a_reasonable_size() {
		assert!((6_000..=10_240).contains(&DEFAULT_CORPUS.len()), "{} bytes", DEFAULT_CORPUS.len());
		let model = NgramModel::from_text(DEFAULT_CORPUS).unwrap();
		assert!(model.corpus_tokens() > 1_000);
		assert!(model.vocabulary().len() > 300);
	}

	#[test]
	fn command_line_defaults_and_validation() {
		let cli = Cli::try_parse_from(["agentchain-inference-server"]).unwrap();
		assert_eq!(cli.listen, "127.0.0.1:8080");
		assert_eq!(cli.models, [DEFAULT_MODEL]);
		assert_eq!(
			(cli.fault, cli.delay_ms, cli.oversized_bytes),
			(FaultMode::Honest, 30_000, 8_388_608)
		);
		assert!(!cli.admin);

		let cli = Cli::try_parse_from([
			"agentchain-inference-server",
			"--model",
			"a",
			"--model",
			"b",
			"--model",
			"a",
			"--fault",
			"wrong-model",
			"--api-key",
			"k",
		])
		.unwrap();
		assert_eq!(cli.fault, FaultMode::WrongModel);
		let state = cli.build_state().unwrap();
		assert_eq!(state.config().models, ["a", "b"]);

		assert!(Cli::try_parse_from(["x", "--fault", "flaky"]).is_err());
		let empty_key = Cli::try_parse_from(["x", "--api-key", " "]).unwrap();
		assert!(empty_key.build_state().is_err());
		let missing = Cli::try_parse_from(["x", "--corpus", "/nonexistent/corpus.txt"]).unwrap();
		assert!(missing.build_state().unwrap_err().contains("/nonexistent/corpus.txt"));
	}
}
