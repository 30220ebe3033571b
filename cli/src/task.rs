//! `agentchain task`: submit inference tasks, follow them to their result, read them back.

use crate::{
	chain::{
		runtime::{
			self,
			inference::events::TaskSubmitted,
			runtime_types::{
				agentchain_primitives::{
					api::{TaskInputView, TaskView},
					inference::{TaskStatus, VerificationMode},
				},
				pallet_inference::types::{TaskInput, TaskParams},
			},
		},
		Chain,
	},
	keys::keypair,
	output::{Progress, Report},
	units::{format_amount, hex32, model_id},
	CliError,
};
use serde_json::{json, Value};
use subxt::utils::{AccountId32, H256};

/// How a task's result is verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
	/// Deterministic decoding: executors must reveal the same output hash.
	Exact,
	/// Sampled decoding: a jury of verifiers judges a challenged result.
	Jury,
}

/// How long `task submit --wait` follows a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WaitFor {
	/// Until the output is revealed (it can still be challenged).
	Revealed,
	/// Until the challenge window closed and the executors were paid.
	Finalised,
}

/// What `task submit` needs.
#[derive(clap::Args, Debug)]
pub struct Submission {
	/// The model, by name or 0x id.
	#[arg(long)]
	pub model: String,
	/// The input text, carried on chain.
	#[arg(long, conflicts_with = "input_uri")]
	pub input: Option<String>,
	/// The input by reference: where executors fetch it.
	#[arg(long, requires = "input_hash")]
	pub input_uri: Option<String>,
	/// blake2-256 of the referenced input's bytes (0x…).
	#[arg(long, requires = "input_uri")]
	pub input_hash: Option<String>,
	/// Most tokens the model may generate.
	#[arg(long, default_value_t = 16)]
	pub max_tokens: u32,
	/// Sampling temperature in thousandths (0 for greedy decoding).
	#[arg(long, default_value_t = 0)]
	pub temperature_milli: u32,
	/// The sampling seed.
	#[arg(long, default_value_t = 0)]
	pub seed: u64,
	/// How the result is verified.
	#[arg(long, value_enum, default_value = "exact")]
	pub mode: ModeArg,
	/// The fee for all executors together, in AGC.
	#[arg(long, value_parser = crate::units::parse_amount)]
	pub fee: u128,
	/// How many executors run it.
	#[arg(long, default_value_t = 1)]
	pub redundancy: u32,
	/// Blocks the executors have to commit.
	#[arg(long, default_value_t = 10)]
	pub commit_period: u32,
}

pub fn status_name(status: &TaskStatus) -> &'static str {
	match status {
		TaskStatus::Submitted => "submitted",
		TaskStatus::Assigned => "assigned",
		TaskStatus::Committed => "committed",
		TaskStatus::Revealed => "revealed",
		TaskStatus::Disputed => "disputed",
		TaskStatus::Finalised => "finalised",
		TaskStatus::Expired => "expired",
	}
}

fn output_text(view: &TaskView<AccountId32>) -> Option<String> {
	let result = view.result.as_ref()?;
	view.outputs
		.iter()
		.find(|output| &output.hash == result)
		.and_then(|output| output.text.clone().or_else(|| output.uri.clone()))
}

pub fn task_json(view: &TaskView<AccountId32>) -> Value {
	let input = match &view.input {
		TaskInputView::Inline(text) => json!({ "inline": text }),
		TaskInputView::Reference { hash, uri } => json!({ "uri": uri, "hash": hex32(hash) }),
	};
	json!({
		"id": view.id,
		"requester": view.requester.to_string(),
		"model": hex32(&view.model),
		"input": input,
		"maxTokens": view.max_tokens,
		"temperatureMilli": view.temperature_milli,
		"seed": view.seed,
		"mode": match view.mode { VerificationMode::ExactMatch => "exact", VerificationMode::Jury => "jury" },
		"fee": view.fee.to_string(),
		"escrow": view.escrow.to_string(),
		"redundancy": view.redundancy,
		"status": status_name(&view.status),
		"phaseEnds": view.phase_ends,
		"submittedAt": view.submitted_at,
		"reassignments": view.reassignments,
		"executors": view.assignments.iter().map(|a| json!({
			"executor": a.executor.to_string(),
			"committed": a.committed,
			"output": a.output.as_ref().map(hex32),
		})).collect::<Vec<_>>(),
		"result": view.result.as_ref().map(hex32),
		"output": output_text(view),
	})
}

fn task_text(view: &TaskView<AccountId32>) -> String {
	let input = match &view.input {
		TaskInputView::Inline(text) => format!("{text:?}"),
		TaskInputView::Reference { hash, uri } => format!("{uri} (hash {})", hex32(hash)),
	};
	let executors: Vec<_> = view
		.assignments
		.iter()
		.map(|a| {
			let state = match (&a.output, a.committed) {
				(Some(_), _) => "revealed",
				(None, true) => "committed",
				(None, false) => "assigned",
			};
			format!("{} ({state})", a.executor)
		})
		.collect();
	let phase = match view.status {
		TaskStatus::Finalised | TaskStatus::Expired => String::new(),
		_ => format!(" (phase ends at block #{})", view.phase_ends),
	};
	let mut text = format!(
		"task {} — {}{phase}\n  requester:   {}\n  model:       {}\n  input:       {input}\n  fee:         {} for {} executor(s), escrow {}\n  executors:   {}\n",
		view.id,
		status_name(&view.status),
		view.requester,
		hex32(&view.model),
		format_amount(view.fee),
		view.redundancy,
		format_amount(view.escrow),
		if executors.is_empty() { "none yet".to_string() } else { executors.join(", ") },
	);
	if let Some(result) = &view.result {
		text.push_str(&format!("  result:      {}\n", hex32(result)));
	}
	if let Some(output) = output_text(view) {
		text.push_str(&format!("  output:      {output}\n"));
	}
	text
}

pub async fn fetch(chain: &Chain, id: u64) -> Result<Option<TaskView<AccountId32>>, CliError> {
	chain.query(runtime::runtime_apis().inference_api().task(id)).await
}

pub async fn show(chain: &Chain, id: u64) -> Result<Report, CliError> {
	let view = fetch(chain, id).await?.ok_or_else(|| {
		CliError::NotFound(format!(
			"there is no task {id} (never submitted, or pruned after it ended)"
		))
	})?;
	Ok(report(&view))
}

pub fn report(view: &TaskView<AccountId32>) -> Report {
	Report::new(task_text(view), task_json(view))
}

/// The tasks assigned to `executor`, oldest first.
pub async fn list(chain: &Chain, executor: AccountId32) -> Result<Report, CliError> {
	let mut tasks = Vec::new();
	let mut start_after = None;
	loop {
		let page = chain
			.query(runtime::runtime_apis().inference_api().tasks_for(
				executor.clone(),
				start_after,
				64,
			))
			.await?;
		tasks.extend(page.tasks);
		match page.next {
			Some(next) => start_after = Some(next),
			None => break,
		}
	}
	let mut text = format!("{} open task(s) assigned to {executor}\n", tasks.len());
	for view in &tasks {
		text.push_str(&format!(
			"  task {}  {}  fee {}\n",
			view.id,
			status_name(&view.status),
			format_amount(view.fee)
		));
	}
	Ok(Report::new(
		text,
		json!({ "executor": executor.to_string(), "tasks": tasks.iter().map(task_json).collect::<Vec<_>>() }),
	))
}

fn input_of(submission: &Submission) -> Result<TaskInput<Vec<u8>>, CliError> {
	match (&submission.input, &submission.input_uri, &submission.input_hash) {
		(Some(text), None, None) => Ok(TaskInput::Inline(text.clone().into_bytes())),
		(None, Some(uri), Some(hash)) => {
			let bytes = hash
				.strip_prefix("0x")
				.and_then(|h| hex::decode(h).ok())
				.and_then(|b| <[u8; 32]>::try_from(b).ok())
				.ok_or_else(|| CliError::Invalid(format!("--input-hash must be 0x and 32 bytes of hex; `{hash}` is not")))?;
			Ok(TaskInput::Reference { hash: H256(bytes), uri: uri.clone().into_bytes() })
		},
		(None, Some(_), None) => Err(CliError::Invalid("--input-uri needs --input-hash (blake2-256 of the input's bytes)".into())),
		_ => Err(CliError::Invalid("give the input inline (--input TEXT) or by reference (--input-uri URI --input-hash HASH), not both".into())),
	}
}

pub async fn submit(
	chain: &Chain,
	suri: &str,
	submission: Submission,
	wait: Option<WaitFor>,
	timeout: std::time::Duration,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let model = model_id(&submission.model)?;
	let input = input_of(&submission)?;
	let params = TaskParams {
		max_tokens: submission.max_tokens,
		temperature_milli: submission.temperature_milli,
		seed: submission.seed,
		mode: match submission.mode {
			ModeArg::Exact => VerificationMode::ExactMatch,
			ModeArg::Jury => VerificationMode::Jury,
		},
	};
	let call = runtime::tx().inference().submit_task(
		model,
		input,
		params,
		submission.fee,
		submission.redundancy,
		submission.commit_period,
	);
	let included = chain.submit(&call, &signer, false, progress).await?;
	let submitted =
		included
			.events
			.find_first::<TaskSubmitted>()
			.and_then(Result::ok)
			.ok_or_else(|| {
				CliError::Rpc(
					"the task was submitted but its TaskSubmitted event is missing".into(),
				)
			})?;
	let id = submitted.task;
	progress.step(&format!("task {id} submitted in block #{}", included.block_number));
	let submitted_block =
		json!({ "number": included.block_number, "hash": format!("{:?}", included.block_hash) });
	let view = match wait {
		None => fetch(chain, id).await?,
		Some(until) => Some(follow(chain, id, until, timeout, progress).await?),
	};
	let Some(view) = view else {
		return Err(CliError::NotFound(format!("task {id} is gone")));
	};
	let mut json = task_json(&view);
	json["submittedIn"] = submitted_block;
	Ok(Report::new(task_text(&view), json))
}

/// Follows task `id` block by block from the best block on, reporting each change of its status,
/// until it reaches `until`. A task that expires, or that `timeout` passes on, is an error.
pub async fn follow(
	chain: &Chain,
	id: u64,
	until: WaitFor,
	timeout: std::time::Duration,
	progress: &Progress,
) -> Result<TaskView<AccountId32>, CliError> {
	let deadline = tokio::time::Instant::now() + timeout;
	let mut blocks = chain.best_blocks().await?;
	// The stream may begin with blocks older than the best one, where the task can be missing
	// or behind: they are skipped.
	let since = chain.best_number().await?;
	let mut last: Option<(String, usize, usize)> = None;
	loop {
		let block = tokio::time::timeout_at(deadline, blocks.next())
			.await
			.map_err(|_| {
				CliError::Timeout(format!(
					"task {id} did not reach `{until:?}` within {} s",
					timeout.as_secs()
				))
			})?
			.ok_or_else(|| CliError::Rpc("the node stopped sending blocks".into()))?
			.map_err(CliError::rpc)?;
		if block.number() < since {
			continue;
		}
		let at = chain.api.at_block(block.hash()).await.map_err(CliError::rpc)?;
		let view = at
			.runtime_apis()
			.call(runtime::runtime_apis().inference_api().task(id))
			.await
			.map_err(CliError::rpc)?
			.ok_or_else(|| CliError::NotFound(format!("task {id} is gone")))?;
		let committed = view.assignments.iter().filter(|a| a.committed).count();
		let revealed = view.assignments.iter().filter(|a| a.output.is_some()).count();
		let now = (status_name(&view.status).to_string(), committed, revealed);
		if last.as_ref() != Some(&now) {
			let detail = match view.status {
				TaskStatus::Assigned | TaskStatus::Committed => format!(
					" ({committed}/{} committed, {revealed} revealed; phase ends at #{})",
					view.assignments.len(),
					view.phase_ends
				),
				TaskStatus::Revealed => format!(" (challenge window ends at #{})", view.phase_ends),
				_ => String::new(),
			};
			progress.step(&format!("block #{}: task {id} {}{detail}", block.number(), now.0));
			last = Some(now);
		}
		match (&view.status, until) {
			(TaskStatus::Expired, _) => {
				return Err(CliError::Refused(format!(
					"task {id} expired: no executor delivered a result; its fee was refunded"
				)))
			},
			(TaskStatus::Finalised, _) => return Ok(view),
			(TaskStatus::Revealed | TaskStatus::Disputed, WaitFor::Revealed)
				if view.result.is_some() =>
			{
				return Ok(view)
			},
			_ => {},
		}
	}
}
