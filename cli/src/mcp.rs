//! `agentchain mcp`: AgentChain as a tool for AI agents, over the Model Context Protocol.
//!
//! The server speaks MCP on stdio (newline-delimited JSON-RPC), or over streamable HTTP with a
//! bearer token (`--http`), with the tools an agent needs to buy inference it can check — list
//! what runs, run it and get the output with its proof, read tasks and disputes, challenge a wrong
//! result — and resources with the chain's rules. It signs with a key the operator gives (never
//! one from the model), and no tool that spends signs anything beyond the operator's per-call and
//! per-period limits. See `docs/mcp.md`.

use crate::{
	agent,
	chain::{runtime, runtime::runtime_types::agentchain_primitives::agents::Role, Chain},
	challenge,
	keys::keypair,
	output::Progress,
	status, task,
	units::{format_amount, hex32, model_id},
	CliError,
};
use rmcp::{
	handler::server::{router::tool::ToolRouter, wrapper::Parameters},
	model::{
		CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
		ProgressNotificationParam, ReadResourceRequestParams, ReadResourceResponse,
		ReadResourceResult, RequestMetaObject, Resource, ResourceContents, ServerCapabilities,
		ServerConfig,
	},
	schemars,
	service::RequestContext,
	tool, tool_handler, tool_router, ErrorData, Peer, RoleServer, ServerHandler, ServiceExt,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::{
	collections::VecDeque,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use subxt::utils::AccountId32;

/// What `agentchain mcp` is started with.
#[derive(clap::Args, Debug)]
pub struct Options {
	/// A file holding the signer's secret URI (a phrase, a 0x seed or //Name, with derivations),
	/// read once at start; the model never sees or chooses the key. Without it (nor --suri), the
	/// server only reads.
	#[arg(long, conflicts_with = "suri")]
	pub suri_file: Option<std::path::PathBuf>,
	/// The signer's secret URI, if not from --suri-file.
	#[arg(long, env = "AGENTCHAIN_SURI", hide_env_values = true, value_parser = crate::valid_suri)]
	pub suri: Option<String>,
	/// The most one tool call may spend, in AGC: a task's fee or a challenge's bond, with the
	/// transaction's fee.
	#[arg(long, value_parser = crate::units::parse_amount)]
	pub max_per_call: u128,
	/// The most all tool calls together may spend within --period, in AGC.
	#[arg(long, value_parser = crate::units::parse_amount)]
	pub max_per_period: u128,
	/// The spending period, in seconds (a day by default).
	#[arg(long, default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
	pub period: u64,
	/// Sign nothing: tools that would spend say what they would spend and send nothing.
	#[arg(long)]
	pub dry_run: bool,
	/// Model names to show by name (the chain knows a model by the blake2-256 hash of its name);
	/// repeat for more.
	#[arg(long = "model")]
	pub models: Vec<String>,
	/// The longest a `run_inference` call waits for its result, in seconds.
	#[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
	pub timeout: u64,
	/// Serve MCP over streamable HTTP at this address (e.g. 127.0.0.1:8808, port 0 for any), at
	/// the path /mcp, instead of on stdio. Every session shares the same signer and limits.
	#[arg(long, value_name = "ADDRESS", requires = "token_file")]
	pub http: Option<std::net::SocketAddr>,
	/// With --http: a file holding the bearer token (at least 32 characters) that every HTTP
	/// request must carry as `Authorization: Bearer TOKEN`.
	#[arg(long, requires = "http")]
	pub token_file: Option<std::path::PathBuf>,
	/// With --http: a host name (or host:port) clients may use in their Host header besides
	/// localhost, 127.0.0.1 and ::1, e.g. the machine's name when it listens beyond loopback;
	/// repeat for more. Other Host headers are refused (a defence against DNS rebinding).
	#[arg(long = "allowed-host", value_name = "HOST", requires = "http")]
	pub allowed_hosts: Vec<String>,
}

/// The shortest bearer token `--token-file` may hold.
const MIN_TOKEN_LEN: usize = 32;

/// The spending limits and what was spent under them (in this server's life).
struct Limits {
	per_call: u128,
	per_period: u128,
	period: Duration,
	spent: Mutex<VecDeque<(Instant, u128)>>,
}

/// An amount counted against the limits until what was spent is known.
struct Reservation<'a> {
	limits: &'a Limits,
	at: Instant,
	amount: u128,
}

impl Reservation<'_> {
	/// Counts `spent` (at most what was reserved) instead of the reserved amount.
	fn settle(self, spent: u128) {
		let mut ledger = self.limits.spent.lock().unwrap_or_else(|e| e.into_inner());
		if let Some(entry) = ledger.iter_mut().find(|(t, a)| *t == self.at && *a == self.amount) {
			entry.1 = spent.min(self.amount);
		}
	}
}

impl Limits {
	fn spent_in_period(spent: &mut VecDeque<(Instant, u128)>, period: Duration) -> u128 {
		let now = Instant::now();
		while spent.front().is_some_and(|(at, _)| now.duration_since(*at) >= period) {
			spent.pop_front();
		}
		spent.iter().fold(0u128, |sum, (_, amount)| sum.saturating_add(*amount))
	}

	/// Why spending `amount` now is refused, naming the limit, if it is.
	/// `what` says what `amount` is made of, for the refusal.
	fn check_locked(
		&self,
		spent: &mut VecDeque<(Instant, u128)>,
		amount: u128,
		what: &str,
	) -> Result<(), String> {
		if amount > self.per_call {
			return Err(format!(
				"refused by the per-call limit: this call would spend {} ({what}), more than the \
				 {} one call may spend (--max-per-call)",
				format_amount(amount),
				format_amount(self.per_call)
			));
		}
		let so_far = Self::spent_in_period(spent, self.period);
		if so_far.saturating_add(amount) > self.per_period {
			return Err(format!(
				"refused by the per-period limit: {} spent in the last {} s, and this call's {} \
				 ({what}) would pass the {} allowed (--max-per-period)",
				format_amount(so_far),
				self.period.as_secs(),
				format_amount(amount),
				format_amount(self.per_period)
			));
		}
		Ok(())
	}

	fn check(&self, amount: u128, what: &str) -> Result<(), String> {
		let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
		self.check_locked(&mut spent, amount, what)
	}

	/// Checks and counts `amount` at once, so that two calls at the same time cannot both pass.
	fn reserve(&self, amount: u128, what: &str) -> Result<Reservation<'_>, String> {
		let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
		self.check_locked(&mut spent, amount, what)?;
		let at = Instant::now();
		spent.push_back((at, amount));
		Ok(Reservation { limits: self, at, amount })
	}

	fn json(&self) -> Value {
		let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
		let so_far = Self::spent_in_period(&mut spent, self.period);
		json!({
			"maxPerCall": self.per_call.to_string(),
			"maxPerPeriod": self.per_period.to_string(),
			"periodSeconds": self.period.as_secs(),
			"spentInPeriod": so_far.to_string(),
			"leftInPeriod": self.per_period.saturating_sub(so_far).to_string(),
		})
	}
}

/// What a call that ended in `error` spent of `amount` (escrow or bond) and `transaction_fee`:
/// nothing if it never got into a block; its transaction fee only if it failed there (the
/// escrow or bond stays with the signer); both otherwise (a task submitted and then lost track
/// of counts whole, whatever is refunded later).
fn spent_after(error: &CliError, amount: u128, transaction_fee: u128) -> u128 {
	match error {
		CliError::Invalid(_)
		| CliError::Connection(_)
		| CliError::Refused(_)
		| CliError::Incompatible(_) => 0,
		CliError::Dispatch { .. } => transaction_fee,
		_ => amount.saturating_add(transaction_fee),
	}
}

/// What `task_terms` found a task needs.
struct TaskTerms {
	commit_period: u32,
	deposit: u128,
}

#[derive(Clone)]
pub struct Server {
	chain: Arc<Chain>,
	suri: Option<Arc<str>>,
	limits: Arc<Limits>,
	dry_run: bool,
	models: Arc<Vec<(String, subxt::utils::H256)>>,
	timeout: Duration,
	#[expect(dead_code, reason = "read by the code #[tool_handler] generates")]
	tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ModelArgs {
	/// The model: a name (e.g. "ngram-en") or its 0x-prefixed 32-byte id.
	model: String,
	/// "executor" (runs tasks; the default) or "verifier" (sits on juries).
	#[serde(default)]
	role: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct InferenceArgs {
	/// The model: a name (e.g. "ngram-en") or its 0x-prefixed 32-byte id.
	model: String,
	/// The prompt: the input text the executors run the model on.
	prompt: String,
	/// The fee for all executors together, in AGC (a decimal string such as "1" or "0.5").
	fee: String,
	/// How many independent executors run it (1 by default): more executors, more assurance.
	#[serde(default)]
	redundancy: Option<u32>,
	/// The most tokens the model may generate (16 by default). Decoding is greedy
	/// (deterministic), so that independent executors agree and a wrong output can be proven.
	#[serde(default)]
	max_tokens: Option<u32>,
	/// The sampling seed (0 by default).
	#[serde(default)]
	seed: Option<u64>,
	/// "revealed" (the default: as soon as the output is on chain, still challengeable) or
	/// "finalised" (after the challenge window closed and the executors were paid).
	#[serde(default)]
	wait_for: Option<String>,
	/// Say what it would spend, and send nothing.
	#[serde(default)]
	dry_run: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TaskArgs {
	/// The task's id (a number).
	task: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ChallengeArgs {
	/// The task whose revealed result is believed wrong.
	task: u64,
	/// The bond, in AGC; by default the smallest the chain accepts. Lost if the jury upholds the
	/// result, returned with a reward if it finds it wrong.
	#[serde(default)]
	bond: Option<String>,
	/// Say what bond it would hold, and send nothing.
	#[serde(default)]
	dry_run: bool,
}

fn error_result(message: impl Into<String>) -> CallToolResult {
	CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// A tool's answer: the words for the model and the same facts as structured JSON.
fn answer(text: impl Into<String>, json: Value) -> CallToolResult {
	let mut result = CallToolResult::structured(json);
	result.content.insert(0, ContentBlock::text(text.into()));
	result
}

fn cli_error(error: CliError) -> CallToolResult {
	error_result(error.to_string())
}

fn parse_agc(text: &str, what: &str) -> Result<u128, CallToolResult> {
	crate::units::parse_amount(text).map_err(|e| error_result(format!("{what}: {e}")))
}

#[tool_router]
impl Server {
	fn name_of(&self, id: &subxt::utils::H256) -> Option<&str> {
		self.models.iter().find(|(_, m)| m == id).map(|(name, _)| name.as_str())
	}

	fn signer(&self) -> Result<&str, CallToolResult> {
		self.suri.as_deref().ok_or_else(|| {
			error_result(
				"this server has no signer: its operator started it without --suri or \
				 --suri-file, so it only reads",
			)
		})
	}

	/// The transaction fee `call` would pay; a call that cannot be built is refused here, before
	/// anything is counted, signed or sent.
	async fn transaction_fee<C: subxt::tx::Payload>(
		&self,
		call: Result<C, CliError>,
	) -> Result<u128, CallToolResult> {
		let call = call.map_err(cli_error)?;
		self.chain.fee_estimate(&call).await.map_err(cli_error)
	}

	/// Spends under the limits: counts `held` (what the call holds: its JSON name, amount and
	/// description) and `call`'s transaction fee, refuses with the limit named if they pass it,
	/// says what would be spent on a dry run (which needs no signer), and otherwise runs `send`
	/// with the signer's secret URI (it signs and sends `call`), then counts what was really
	/// spent.
	async fn spend<C, F, Fut>(
		&self,
		call: Result<C, CliError>,
		(name, amount, description): (&str, u128, String),
		dry_run: bool,
		send: F,
	) -> CallToolResult
	where
		C: subxt::tx::Payload,
		F: FnOnce(String) -> Fut,
		Fut: std::future::Future<Output = Result<crate::output::Report, CliError>>,
	{
		let transaction_fee = match self.transaction_fee(call).await {
			Ok(fee) => fee,
			Err(refusal) => return refusal,
		};
		let total = amount.saturating_add(transaction_fee);
		let what = format!(
			"{description} and a transaction fee of about {}",
			format_amount(transaction_fee)
		);
		if self.dry_run || dry_run {
			return match self.limits.check(total, &what) {
				Ok(()) => {
					let mut json = json!({
						"dryRun": true,
						"wouldSpend": total.to_string(),
						"transactionFee": transaction_fee.to_string(),
						"limits": self.limits.json(),
					});
					json[name] = json!(amount.to_string());
					answer(
						format!(
							"dry run: this call would spend {} ({what}); nothing was sent",
							format_amount(total)
						),
						json,
					)
				},
				Err(refusal) => error_result(refusal),
			};
		}
		let suri = match self.signer() {
			Ok(suri) => suri.to_string(),
			Err(refusal) => return refusal,
		};
		let reservation = match self.limits.reserve(total, &what) {
			Ok(reservation) => reservation,
			Err(refusal) => return error_result(refusal),
		};
		// A call that outlives the server's timeout (a transaction the pool never includes) ends
		// the tool call; what it holds stays counted.
		let limit = self.timeout.saturating_mul(2);
		let outcome = tokio::time::timeout(limit, send(suri)).await.unwrap_or_else(|_| {
			Err(CliError::Timeout(format!(
				"no result within {} s; the transaction may still be included: read the account \
				 before trying again",
				limit.as_secs()
			)))
		});
		match outcome {
			Ok(report) => {
				let mut json = report.json;
				json["spent"] = json!(total.to_string());
				json["limits"] = self.limits.json();
				answer(report.text, json)
			},
			Err(e) => {
				reservation.settle(spent_after(&e, amount, transaction_fee));
				cli_error(e)
			},
		}
	}

	/// What a task of these terms needs, from the constants of the runtime the node runs: the
	/// commit period that leaves time for `max_tokens`, and the storage deposit it holds. Terms
	/// the chain would refuse in its block (where the call would still pay its transaction fee)
	/// are refused here, before anything is counted or sent.
	async fn task_terms(
		&self,
		max_tokens: u32,
		redundancy: u32,
		fee: u128,
		input_len: usize,
	) -> Result<TaskTerms, CallToolResult> {
		let at = self.chain.at_best().await.map_err(cli_error)?;
		let constants = at.constants();
		let inference = runtime::constants().inference();
		macro_rules! constant {
			($name:ident) => {
				constants.entry(inference.$name()).map_err(|e| cli_error(CliError::rpc(e)))?
			};
		}
		let max_tokens_allowed = constant!(max_tokens);
		let tokens_per_block = constant!(tokens_per_block).max(1);
		let (min_period, max_period) = (constant!(min_commit_period), constant!(max_commit_period));
		let max_redundancy = constant!(max_redundancy);
		let min_fee = constant!(min_fee_per_executor);
		let max_input = constant!(max_input_len);
		if max_tokens == 0 || max_tokens > max_tokens_allowed {
			return Err(error_result(format!(
				"max_tokens {max_tokens}: this chain allows 1 to {max_tokens_allowed}"
			)));
		}
		if redundancy == 0 || redundancy > max_redundancy {
			return Err(error_result(format!(
				"redundancy {redundancy}: this chain allows 1 to {max_redundancy}"
			)));
		}
		let least = min_fee.saturating_mul(u128::from(redundancy));
		if fee < least {
			return Err(error_result(format!(
				"fee {}: at least {} ({} per executor) for {redundancy} executor(s)",
				format_amount(fee),
				format_amount(least),
				format_amount(min_fee)
			)));
		}
		if input_len > max_input as usize {
			return Err(error_result(format!(
				"the prompt is {input_len} bytes; this chain takes at most {max_input}"
			)));
		}
		let commit_period =
			max_tokens.div_ceil(tokens_per_block).max(10).clamp(min_period, max_period);
		let outputs = constant!(max_output_len)
			.saturating_add(constant!(max_uri_len))
			.saturating_mul(redundancy);
		let bytes = u128::from((input_len as u32).saturating_add(outputs));
		let deposit = constant!(task_deposit_base)
			.saturating_add(constant!(task_deposit_per_byte).saturating_mul(bytes));
		Ok(TaskTerms { commit_period, deposit })
	}

	/// The models agents serve, with how many executors and verifiers each has.
	async fn models_json(&self) -> Result<Value, CliError> {
		let at = self.chain.at_best().await?;
		let mut models: Vec<(subxt::utils::H256, usize, usize)> = Vec::new();
		for (role, verifier) in [(Role::Executor, false), (Role::Verifier, true)] {
			let mut entries = at
				.storage()
				.iter(runtime::storage().agents().candidates(), (role,))
				.await
				.map_err(CliError::rpc)?;
			while let Some(entry) = entries.next().await {
				let entry = entry.map_err(CliError::rpc)?;
				let model = entry.key().map_err(CliError::rpc)?.decode().map_err(CliError::rpc)?.1;
				let count = entry.value().decode().map_err(CliError::rpc)?.0.len();
				match models.iter_mut().find(|(m, ..)| *m == model) {
					Some(found) if verifier => found.2 = count,
					Some(found) => found.1 = count,
					None if verifier => models.push((model, 0, count)),
					None => models.push((model, count, 0)),
				}
			}
		}
		let min_fee = at
			.constants()
			.entry(runtime::constants().inference().min_fee_per_executor())
			.map_err(CliError::rpc)?;
		Ok(json!({
			"minFeePerExecutor": min_fee.to_string(),
			"minFeePerExecutorAgc": format_amount(min_fee),
			"models": models.iter().filter(|(_, e, v)| e + v > 0).map(|(id, executors, verifiers)| json!({
				"id": hex32(id),
				"name": self.name_of(id),
				"executors": executors,
				"verifiers": verifiers,
			})).collect::<Vec<_>>(),
		}))
	}

	#[tool(description = "List the models that agents on AgentChain serve: each model's id, its \
		name where known, and how many executors (run tasks) and verifiers (judge disputes) serve \
		it, with the smallest fee per executor. Use it to choose a model for run_inference.")]
	async fn list_models(&self) -> CallToolResult {
		match self.models_json().await {
			Ok(json) => {
				let mut text = format!(
					"models served (smallest fee per executor {}):\n",
					json["minFeePerExecutorAgc"].as_str().unwrap_or("?")
				);
				for model in json["models"].as_array().into_iter().flatten() {
					text.push_str(&format!(
						"  {} ({}): {} executor(s), {} verifier(s)\n",
						model["name"].as_str().unwrap_or("unnamed"),
						model["id"].as_str().unwrap_or(""),
						model["executors"],
						model["verifiers"],
					));
				}
				answer(text, json)
			},
			Err(e) => cli_error(e),
		}
	}

	#[tool(description = "List the agents selectable for a model in a role (executor by \
		default, or verifier): owner account, name, stake in planck (10^-12 AGC), reputation \
		(tasks completed, results challenged and lost, deadlines missed) and endpoint.")]
	async fn list_agents(&self, Parameters(args): Parameters<ModelArgs>) -> CallToolResult {
		let role = match args.role.as_deref() {
			None | Some("executor") => crate::agent::RoleArg::Executor,
			Some("verifier") => crate::agent::RoleArg::Verifier,
			Some(other) => {
				return error_result(format!("role {other:?}: use \"executor\" or \"verifier\""))
			},
		};
		match agent::list(&self.chain, &args.model, role).await {
			Ok(report) => answer(report.text, report.json),
			Err(e) => cli_error(e),
		}
	}

	#[tool(description = "Run an inference on AgentChain and return its output with its proof. \
		Submits a task (the fee, in AGC, is held in escrow and paid to the executors only for a \
		correct result), waits until the executors have revealed the output (or until it is \
		final), and returns the output with what proves it: the task id, the block (number \
		and hash) it was submitted in, the first blocks in which it was seen assigned, \
		committed and revealed, the executors, the output's hash, and whether the challenge \
		window has closed. Counted against this server's spending limits: the fee, the task's \
		storage deposit (returned when the task is pruned) and the transaction fee; refused, \
		with nothing signed or sent, if they pass them; dry_run says what it would spend.")]
	async fn run_inference(
		&self,
		Parameters(args): Parameters<InferenceArgs>,
		meta: RequestMetaObject,
		peer: Peer<RoleServer>,
	) -> CallToolResult {
		let fee = match parse_agc(&args.fee, "fee") {
			Ok(fee) => fee,
			Err(refusal) => return refusal,
		};
		let until = match args.wait_for.as_deref() {
			None | Some("revealed") => task::WaitFor::Revealed,
			Some("finalised") | Some("finalized") => task::WaitFor::Finalised,
			Some(other) => {
				return error_result(format!(
					"wait_for {other:?}: use \"revealed\" or \"finalised\""
				))
			},
		};
		let max_tokens = args.max_tokens.unwrap_or(16);
		let redundancy = args.redundancy.unwrap_or(1);
		let terms = match self.task_terms(max_tokens, redundancy, fee, args.prompt.len()).await {
			Ok(terms) => terms,
			Err(refusal) => return refusal,
		};
		let submission = task::Submission {
			model: args.model,
			input: Some(args.prompt),
			input_uri: None,
			input_hash: None,
			batch: None,
			batch_uri: None,
			publish: false,
			max_tokens,
			temperature_milli: 0,
			seed: args.seed.unwrap_or(0),
			mode: task::ModeArg::Exact,
			fee,
			redundancy,
			commit_period: terms.commit_period,
		};
		let held = (
			"held",
			fee.saturating_add(terms.deposit),
			format!(
				"a fee of {} held in escrow and a storage deposit of {} held until the task is \
				 pruned",
				format_amount(fee),
				format_amount(terms.deposit)
			),
		);
		let call = task::submit_call(&submission);
		let dry_run = args.dry_run;
		self.spend(call, held, dry_run, |suri| async move {
			let (sender, mut steps) = tokio::sync::mpsc::unbounded_channel();
			let progress = Progress::to(sender);
			let token = meta.get_progress_token();
			let notifier = tokio::spawn(async move {
				let mut step = 0u32;
				while let Some(message) = steps.recv().await {
					step += 1;
					if let Some(token) = &token {
						let _ = peer
							.notify_progress(
								ProgressNotificationParam::new(token.clone(), f64::from(step))
									.with_message(message),
							)
							.await;
					}
				}
			});
			let outcome =
				task::submit(&self.chain, &suri, submission, Some(until), self.timeout, &progress)
					.await;
			drop(progress);
			let _ = notifier.await;
			outcome.map(|mut report| {
				report.json["challengeWindowClosed"] = json!(report.json["status"] == "finalised");
				report
			})
		})
		.await
	}

	#[tool(description = "Read a task: its status (submitted, assigned, committed, revealed, \
		disputed, finalised, expired), requester, model, input, fee, executors and whether each \
		committed and revealed, the result hash and output text, and the block its current \
		phase ends at.")]
	async fn get_task(&self, Parameters(args): Parameters<TaskArgs>) -> CallToolResult {
		match task::fetch(&self.chain, args.task).await {
			Ok(Some(view)) => {
				let report = task::report(&view);
				answer(report.text, report.json)
			},
			Ok(None) => cli_error(task::no_such_task(args.task)),
			Err(e) => cli_error(e),
		}
	}

	#[tool(description = "Read the dispute of a task: who challenged it (or the protocol's \
		audit), the round, the phase and when it ends, the jury and its votes, the bonds, and \
		the verdict once there is one.")]
	async fn get_dispute(&self, Parameters(args): Parameters<TaskArgs>) -> CallToolResult {
		match challenge::show(&self.chain, args.task).await {
			Ok(report) => answer(report.text, report.json),
			Err(e) => cli_error(e),
		}
	}

	#[tool(description = "Dispute a task's revealed result believed wrong: holds a bond (by \
		default the smallest the chain accepts: the larger of 10 AGC and twice the fee) and \
		opens a dispute that a jury of verifiers decides by re-executing the task. A wrong \
		result slashes its executor and rewards the challenger; an upheld one costs the bond. \
		Use dry_run first to see the bond; refused, with nothing sent, if it passes this \
		server's spending limits.")]
	async fn challenge_result(
		&self,
		Parameters(args): Parameters<ChallengeArgs>,
	) -> CallToolResult {
		let view = match task::fetch(&self.chain, args.task).await {
			Ok(Some(view)) => view,
			Ok(None) => return cli_error(task::no_such_task(args.task)),
			Err(e) => return cli_error(e),
		};
		let bond = match &args.bond {
			Some(text) => match parse_agc(text, "bond") {
				Ok(bond) => bond,
				Err(refusal) => return refusal,
			},
			None => match challenge::minimum_bond(&self.chain, view.fee, 0).await {
				Ok(bond) => bond,
				Err(e) => return cli_error(e),
			},
		};
		let held = ("bond", bond, format!("a bond of {}", format_amount(bond)));
		let call = Ok::<_, CliError>(runtime::tx().challenges().challenge(args.task, bond));
		self.spend(call, held, args.dry_run, |suri| async move {
			let quiet = Progress::new(true);
			challenge::open(&self.chain, &suri, args.task, Some(bond), false, &quiet).await
		})
		.await
	}

	#[tool(description = "The signer's account: free and reserved balance, each hold, its \
		agent and tasks, and this server's spending limits with what was spent in the current \
		period.")]
	async fn account(&self) -> CallToolResult {
		let Some(suri) = &self.suri else {
			return answer(
				"no signer: this server only reads",
				json!({ "account": null, "limits": self.limits.json() }),
			);
		};
		let who: AccountId32 = match keypair(suri) {
			Ok(pair) => pair.public_key().to_account_id(),
			Err(e) => return cli_error(e),
		};
		match status::status(&self.chain, Some(who)).await {
			Ok(report) => {
				let limits = self.limits.json();
				let text = format!(
					"{}\nspending limits: {} a call, {} every {} s; spent in this period: {}",
					report.text.trim_end(),
					format_amount(self.limits.per_call),
					format_amount(self.limits.per_period),
					self.limits.period.as_secs(),
					format_amount(
						limits["spentInPeriod"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
					),
				);
				let mut json = report.json;
				json["limits"] = limits;
				answer(text, json)
			},
			Err(e) => cli_error(e),
		}
	}
}

const RULES_URI: &str = "agentchain://rules";
const MODELS_URI: &str = "agentchain://models";

impl Server {
	/// The fee and dispute rules with the constants of the runtime the node runs.
	async fn rules(&self) -> Result<String, CliError> {
		let at = self.chain.at_best().await?;
		let constants = at.constants();
		let min_fee = constants
			.entry(runtime::constants().inference().min_fee_per_executor())
			.map_err(CliError::rpc)?;
		let min_bond = constants
			.entry(runtime::constants().challenges().min_challenge_bond())
			.map_err(CliError::rpc)?;
		let deposit_base = constants
			.entry(runtime::constants().inference().task_deposit_base())
			.map_err(CliError::rpc)?;
		let deposit_per_byte = constants
			.entry(runtime::constants().inference().task_deposit_per_byte())
			.map_err(CliError::rpc)?;
		let multiple = constants
			.entry(runtime::constants().challenges().challenge_bond_fee_multiple())
			.map_err(CliError::rpc)?;
		Ok(format!(
			"# AgentChain: fees and disputes\n\n\
			 - A task's fee is for all its executors together, at least {min_fee} per executor; it \
			   is held in escrow when the task is submitted and paid to the executors whose result \
			   stands once the challenge window closes. A task no executor completes expires and \
			   its fee is refunded. A task also holds a storage deposit ({deposit_base} plus \
			   {deposit_per_byte} a byte of input and of room for its outputs), returned when it \
			   is pruned after it ends.\n\
			 - Executors commit to a hash of their output, then reveal it; with several \
			   executors, the result is the output they agree on.\n\
			 - A revealed result can be challenged until its challenge window closes. The bond \
			   is at least the larger of {min_bond} and {multiple} × the task's fee, doubled for \
			   each appeal round. A jury of verifiers, drawn at random among agents serving the \
			   model, re-executes the task and votes in commit–reveal.\n\
			 - A result the jury finds wrong slashes its executor's stake; the challenger gets \
			   the bond back with a share of the slash, and the requester is refunded. A result \
			   upheld costs the challenger the bond.\n\
			 - Full rules: docs/inference.md and docs/challenges.md in the AgentChain repository.\n",
			min_fee = format_amount(min_fee),
			min_bond = format_amount(min_bond),
			deposit_base = format_amount(deposit_base),
			deposit_per_byte = format_amount(deposit_per_byte),
		))
	}
}

#[tool_handler]
impl ServerHandler for Server {
	fn get_info(&self) -> ServerConfig {
		ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
			.with_server_info(Implementation::new("agentchain", env!("CARGO_PKG_VERSION")))
			.with_instructions(
				"AgentChain runs inference on models hosted by staked agents and verifies it on \
				 chain. list_models, then run_inference to get an output with its proof; \
				 get_task and get_dispute read state; challenge_result disputes a wrong result \
				 (with a bond). Spending is limited by this server's operator: see account. \
				 Amounts in JSON are strings of planck (10^-12 AGC); tool arguments take AGC.",
			)
	}

	async fn list_resources(
		&self,
		_request: Option<PaginatedRequestParams>,
		_context: RequestContext<RoleServer>,
	) -> Result<ListResourcesResult, ErrorData> {
		Ok(ListResourcesResult::with_all_items(vec![
			Resource::new(MODELS_URI, "models")
				.with_description(
					"The models agents serve, with their executors and verifiers (JSON).",
				)
				.with_mime_type("application/json"),
			Resource::new(RULES_URI, "rules")
				.with_description(
					"How fees, results and disputes work, with this chain's constants.",
				)
				.with_mime_type("text/markdown"),
		]))
	}

	async fn read_resource(
		&self,
		request: ReadResourceRequestParams,
		_context: RequestContext<RoleServer>,
	) -> Result<ReadResourceResponse, ErrorData> {
		let internal = |e: CliError| ErrorData::internal_error(e.to_string(), None);
		let contents = match request.uri.as_str() {
			MODELS_URI => {
				let json = self.models_json().await.map_err(internal)?;
				ResourceContents::text(json.to_string(), MODELS_URI)
					.with_mime_type("application/json")
			},
			RULES_URI => ResourceContents::text(self.rules().await.map_err(internal)?, RULES_URI)
				.with_mime_type("text/markdown"),
			other => {
				return Err(ErrorData::resource_not_found(
					format!("no resource {other}: there are {MODELS_URI} and {RULES_URI}"),
					None,
				))
			},
		};
		Ok(ReadResourceResult::new(vec![contents]).into())
	}
}

/// Serves MCP on stdio until the client closes it, or over HTTP (`--http`) until stopped.
pub async fn serve(url: &str, options: Options) -> Result<(), CliError> {
	let suri = match (&options.suri_file, options.suri) {
		(Some(path), _) => {
			let text = std::fs::read_to_string(path).map_err(|e| {
				CliError::Invalid(format!(
					"cannot read the secret URI from {}: {e}",
					path.display()
				))
			})?;
			let suri = text.trim().to_string();
			keypair(&suri).map_err(|e| {
				CliError::Invalid(format!("{} holds no valid secret URI: {e}", path.display()))
			})?;
			Some(suri)
		},
		(None, suri) => suri,
	};
	let token = options.token_file.as_deref().map(read_token).transpose()?;
	let models = options
		.models
		.iter()
		.map(|name| model_id(name).map(|id| (name.clone(), id)))
		.collect::<Result<Vec<_>, _>>()?;
	let chain = Chain::connect(url, false).await?;
	let server = Server {
		chain: Arc::new(chain),
		suri: suri.map(Arc::from),
		limits: Arc::new(Limits {
			per_call: options.max_per_call,
			per_period: options.max_per_period,
			period: Duration::from_secs(options.period),
			spent: Mutex::new(VecDeque::new()),
		}),
		dry_run: options.dry_run,
		models: Arc::new(models),
		timeout: Duration::from_secs(options.timeout),
		tool_router: Server::tool_router(),
	};
	match (options.http, token) {
		(Some(address), Some(token)) => {
			serve_http(server, address, token, options.allowed_hosts).await
		},
		(Some(_), None) => Err(CliError::Invalid("--http needs --token-file".into())),
		(None, _) => {
			let running = server
				.serve(rmcp::transport::stdio())
				.await
				.map_err(|e| CliError::Rpc(format!("the MCP client did not initialise: {e}")))?;
			running
				.waiting()
				.await
				.map_err(|e| CliError::Rpc(format!("the MCP session failed: {e}")))?;
			Ok(())
		},
	}
}

/// The bearer token in `path`, refused when too short to resist guessing.
fn read_token(path: &std::path::Path) -> Result<String, CliError> {
	let text = std::fs::read_to_string(path).map_err(|e| {
		CliError::Invalid(format!("cannot read the bearer token from {}: {e}", path.display()))
	})?;
	let token = text.trim();
	if token.len() < MIN_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
		return Err(CliError::Invalid(format!(
			"{} must hold a bearer token of at least {MIN_TOKEN_LEN} printable characters without \
			 spaces (e.g. from `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'`)",
			path.display()
		)));
	}
	Ok(token.to_string())
}

/// The path MCP is served at over HTTP.
const HTTP_PATH: &str = "/mcp";

/// How long an HTTP client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Most HTTP connections served at once.
const MAX_HTTP_CONNECTIONS: usize = 256;

/// Serves MCP over streamable HTTP at `address` to requests that carry `token`, one MCP session
/// per client, every session under the same signer and spending limits; until stopped.
async fn serve_http(
	server: Server,
	address: std::net::SocketAddr,
	token: String,
	hosts: Vec<String>,
) -> Result<(), CliError> {
	use rmcp::transport::streamable_http_server::{
		session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
	};
	// Host headers other than loopback's (and the operator's --allowed-host) are refused, and so
	// are browsers' cross-origin requests: a web page the operator visits must not spend.
	let mut config = StreamableHttpServerConfig::default().enforce_origin_validation();
	config.allowed_hosts.extend(hosts);
	let service = Arc::new(StreamableHttpService::new(
		move || Ok(server.clone()),
		Arc::new(LocalSessionManager::default()),
		config,
	));
	let listener = tokio::net::TcpListener::bind(address)
		.await
		.map_err(|e| CliError::Connection(format!("cannot listen on {address}: {e}")))?;
	let bound = listener.local_addr().map_err(|e| CliError::Connection(e.to_string()))?;
	if !bound.ip().is_loopback() {
		eprintln!(
			"warning: {bound} is reachable from other machines, and HTTP is not encrypted: put \
			 a TLS proxy in front of it, or the token and every prompt travel in the clear"
		);
	}
	eprintln!("serving MCP over streamable HTTP at http://{bound}{HTTP_PATH}");
	let expected: Arc<[u8]> = Arc::from(format!("Bearer {token}").into_bytes());
	// A bounded number of connections at once, so that clients without the token cannot take
	// every file descriptor: past it, new connections wait in the listen queue.
	let connections = Arc::new(tokio::sync::Semaphore::new(MAX_HTTP_CONNECTIONS));
	loop {
		let Ok(permit) = connections.clone().acquire_owned().await else { return Ok(()) };
		let stream = match listener.accept().await {
			Ok((stream, _)) => stream,
			// A connection that failed before it was accepted (a reset, too many open files)
			// costs that client only; a short pause keeps a persistent failure from spinning.
			Err(e) => {
				eprintln!("an HTTP connection failed: {e}");
				tokio::time::sleep(Duration::from_millis(100)).await;
				continue;
			},
		};
		let service = service.clone();
		let expected = expected.clone();
		tokio::spawn(async move {
			let handler = hyper::service::service_fn(move |request| {
				let service = service.clone();
				let refusal = refuse_http(&request, &expected);
				async move {
					Ok::<_, std::convert::Infallible>(match refusal {
						Some(response) => response,
						None => service.handle(request).await,
					})
				}
			});
			let _ = hyper::server::conn::http1::Builder::new()
				.timer(hyper_util::rt::TokioTimer::new())
				.header_read_timeout(HEADER_READ_TIMEOUT)
				.serve_connection(hyper_util::rt::TokioIo::new(stream), handler)
				.await;
			drop(permit);
		});
	}
}

type HttpResponse = hyper::Response<
	http_body_util::combinators::BoxBody<hyper::body::Bytes, std::convert::Infallible>,
>;

/// The response refusing `request` before MCP sees it, if it is not for MCP's path or does not
/// carry the bearer token (`expected` is the whole `Bearer TOKEN` header value).
fn refuse_http<B>(request: &hyper::Request<B>, expected: &[u8]) -> Option<HttpResponse> {
	use http_body_util::{BodyExt, Full};
	use hyper::{body::Bytes, header, StatusCode};
	let respond = |status: StatusCode, text: &'static str| {
		let mut response =
			hyper::Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
		*response.status_mut() = status;
		response
	};
	if request.uri().path() != HTTP_PATH {
		return Some(respond(StatusCode::NOT_FOUND, "not found: MCP is served at /mcp\n"));
	}
	let authorised = request
		.headers()
		.get(header::AUTHORIZATION)
		.is_some_and(|given| same_secret(given.as_bytes(), expected));
	if !authorised {
		let mut response = respond(
			StatusCode::UNAUTHORIZED,
			"a bearer token is required: Authorization: Bearer TOKEN, the token in the server's \
			 --token-file\n",
		);
		response
			.headers_mut()
			.insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
		return Some(response);
	}
	None
}

/// Whether two secrets are equal, in time that does not depend on where they differ (a length
/// difference shows, which tells an attacker nothing about a fixed-length token).
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
	given.len() == expected.len()
		&& given.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn http_requests_need_the_path_and_the_token() {
		let expected = b"Bearer 0123456789abcdef0123456789abcdef";
		let request = |path: &str, authorization: Option<&str>| {
			let mut builder = hyper::Request::builder().uri(path);
			if let Some(value) = authorization {
				builder = builder.header("authorization", value);
			}
			builder.body(()).unwrap()
		};
		let status = |path, authorization| {
			refuse_http(&request(path, authorization), expected).map(|r| r.status().as_u16())
		};
		assert_eq!(status("/mcp", Some("Bearer 0123456789abcdef0123456789abcdef")), None);
		assert_eq!(status("/mcp", None), Some(401));
		assert_eq!(status("/mcp", Some("Bearer 0123456789abcdef0123456789abcdee")), Some(401));
		assert_eq!(status("/mcp", Some("Bearer 0123456789abcdef0123456789abcdef0")), Some(401));
		assert_eq!(status("/mcp", Some("bearer")), Some(401));
		assert_eq!(status("/", Some("Bearer 0123456789abcdef0123456789abcdef")), Some(404));
		assert_eq!(status("/mcp/x", None), Some(404));
	}

	#[test]
	fn tokens_too_short_to_resist_guessing_are_refused() {
		let dir = std::env::temp_dir().join(format!("agentchain-token-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let file = dir.join("token");
		std::fs::write(&file, "short\n").unwrap();
		assert!(read_token(&file).is_err());
		std::fs::write(&file, "0123456789abcdef 0123456789abcdef\n").unwrap();
		assert!(read_token(&file).is_err(), "no spaces");
		std::fs::write(&file, "0123456789abcdef0123456789abcdef\n").unwrap();
		assert_eq!(read_token(&file).unwrap(), "0123456789abcdef0123456789abcdef");
		assert!(read_token(&dir.join("missing")).is_err());
		std::fs::remove_dir_all(&dir).unwrap();
	}

	fn limits(per_call: u128, per_period: u128) -> Limits {
		Limits {
			per_call,
			per_period,
			period: Duration::from_secs(60),
			spent: Mutex::new(VecDeque::new()),
		}
	}

	#[test]
	fn a_call_over_either_limit_is_refused_and_names_it() {
		let limits = limits(10, 25);
		assert!(limits.reserve(11, "x").err().expect("refused").contains("--max-per-call"));
		let first = limits.reserve(10, "x").unwrap();
		let _second = limits.reserve(10, "x").unwrap();
		assert!(limits.reserve(10, "x").err().expect("refused").contains("--max-per-period"));
		assert!(limits.check(5, "x").is_ok());
		// What turned out not to be spent no longer counts.
		first.settle(0);
		assert!(limits.reserve(10, "x").is_ok());
		assert!(limits.reserve(6, "x").err().expect("refused").contains("--max-per-period"));
	}

	#[test]
	fn a_failed_call_counts_what_it_paid() {
		let limits = limits(10, 10);
		limits.reserve(10, "x").unwrap().settle(3);
		assert!(limits.reserve(7, "x").is_ok());
		assert!(limits.reserve(1, "x").is_err());
		let dispatch =
			CliError::Dispatch { call: "c".into(), error: "e".into(), docs: String::new() };
		assert_eq!(spent_after(&dispatch, 100, 1), 1);
		assert_eq!(spent_after(&CliError::Refused("r".into()), 100, 1), 0);
		assert_eq!(spent_after(&CliError::Timeout("t".into()), 100, 1), 101);
		assert_eq!(spent_after(&CliError::Rpc("lost track".into()), 100, 1), 101);
	}

	#[test]
	fn spending_leaves_the_period() {
		let limits = Limits { period: Duration::from_millis(50), ..limits(10, 10) };
		let _spent = limits.reserve(10, "x").unwrap();
		assert!(limits.reserve(1, "x").is_err());
		std::thread::sleep(Duration::from_millis(60));
		assert!(limits.reserve(10, "x").is_ok());
	}
}
