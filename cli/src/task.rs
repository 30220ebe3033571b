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
		stored, Chain,
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
#[command(group(clap::ArgGroup::new("task_input").required(true).args(["input", "input_uri", "batch"])))]
pub struct Submission {
	/// The model, by name or 0x id.
	#[arg(long, value_parser = crate::units::valid_model)]
	pub model: String,
	/// The input text, carried on chain.
	#[arg(long, conflicts_with = "input_uri")]
	pub input: Option<String>,
	/// The input by reference: where executors fetch it.
	#[arg(long, requires = "input_hash")]
	pub input_uri: Option<String>,
	/// blake2-256 of the referenced input's bytes (0x…).
	#[arg(long, requires = "input_uri", value_parser = crate::units::parse_hash)]
	pub input_hash: Option<H256>,
	/// A batch: the file of its inputs document, a JSON array of the items as strings. Each
	/// executor runs every item and commits to the root of its outputs (docs/batches.md).
	#[arg(long, value_name = "FILE", requires = "batch_uri")]
	pub batch: Option<std::path::PathBuf>,
	/// Where executors fetch the batch's inputs document (http:// or https://).
	#[arg(long, value_name = "URL", requires = "batch")]
	pub batch_uri: Option<String>,
	/// Publish the inputs document at --batch-uri first, with PUT (a store that accepts it, as the
	/// reference server's --documents).
	#[arg(long, requires = "batch")]
	pub publish: bool,
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
		TaskInputView::Batch { root, uri, items } => {
			json!({ "uri": uri, "root": hex32(root), "items": items })
		},
	};
	json!({
		"id": view.id,
		"requester": view.requester.to_string(),
		"model": hex32(&view.model),
		"input": input,
		"maxTokens": view.max_tokens,
		"temperatureMilli": view.temperature_milli,
		"seed": view.seed.to_string(),
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
			"outputsUri": a.outputs_uri,
		})).collect::<Vec<_>>(),
		"result": view.result.as_ref().map(hex32),
		"output": output_text(view),
	})
}

fn task_text(view: &TaskView<AccountId32>) -> String {
	let input = match &view.input {
		TaskInputView::Inline(text) => format!("{text:?}"),
		TaskInputView::Reference { hash, uri } => format!("{uri} (hash {})", hex32(hash)),
		TaskInputView::Batch { root, uri, items } => {
			format!("batch of {items} items at {uri} (root {})", hex32(root))
		},
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
	let view = fetch(chain, id).await?.ok_or_else(|| no_such_task(id))?;
	Ok(report(&view))
}

pub fn report(view: &TaskView<AccountId32>) -> Report {
	Report::new(task_text(view), task_json(view))
}

/// Every open task assigned to `executor` at block `at` (all pages, read at that one block), in
/// the chain's storage order.
pub async fn assigned_to(
	chain: &Chain,
	at: H256,
	executor: &AccountId32,
) -> Result<Vec<TaskView<AccountId32>>, CliError> {
	let mut tasks = Vec::new();
	let mut start_after = None;
	loop {
		let page = chain
			.query_at(
				at,
				runtime::runtime_apis().inference_api().tasks_for(
					executor.clone(),
					start_after,
					64,
				),
			)
			.await?;
		tasks.extend(page.tasks);
		match page.next {
			Some(next) => start_after = Some(next),
			None => return Ok(tasks),
		}
	}
}

/// Every task on chain (not yet pruned) that `requester` submitted, at block `at`, by id. The
/// chain keeps no index by requester: this reads every task record, which is fine for a command
/// line, not for a hot path.
pub async fn submitted_by(
	chain: &Chain,
	at: H256,
	requester: &AccountId32,
) -> Result<Vec<TaskView<AccountId32>>, CliError> {
	let client = chain.at(at).await?;
	let mut entries = client
		.storage()
		.entry(runtime::storage().inference().tasks())
		.map_err(CliError::rpc)?
		.iter(())
		.await
		.map_err(CliError::rpc)?;
	let mut ids = Vec::new();
	while let Some(entry) = entries.next().await {
		let entry = entry.map_err(CliError::rpc)?;
		let info = entry.value().decode().map_err(CliError::rpc)?;
		if &info.requester == requester {
			ids.push(entry.key().map_err(CliError::rpc)?.decode().map_err(CliError::rpc)?.0);
		}
	}
	ids.sort_unstable();
	let mut tasks = Vec::with_capacity(ids.len());
	for id in ids {
		if let Some(view) =
			chain.query_at(at, runtime::runtime_apis().inference_api().task(id)).await?
		{
			tasks.push(view);
		}
	}
	Ok(tasks)
}

/// Whose tasks `task list` shows.
pub enum Whose {
	Executor(AccountId32),
	Requester(AccountId32),
}

/// The open tasks assigned to an executor, or the tasks a requester submitted.
pub async fn list(chain: &Chain, whose: Whose) -> Result<Report, CliError> {
	let best = chain.best().await?;
	let (tasks, title, key, who) = match whose {
		Whose::Executor(executor) => (
			assigned_to(chain, best, &executor).await?,
			"open task(s) assigned to",
			"executor",
			executor,
		),
		Whose::Requester(requester) => (
			submitted_by(chain, best, &requester).await?,
			"task(s) on chain submitted by",
			"requester",
			requester,
		),
	};
	let mut text = format!("{} {title} {who}\n", tasks.len());
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
		json!({ key: who.to_string(), "tasks": tasks.iter().map(task_json).collect::<Vec<_>>() }),
	))
}

/// The error for a task id the chain does not know.
pub fn no_such_task(id: u64) -> CliError {
	CliError::NotFound(format!("there is no task {id} (never submitted, or pruned after it ended)"))
}

fn input_of(submission: &Submission) -> Result<TaskInput<Vec<u8>>, CliError> {
	// clap has checked that exactly one of the forms is given, whole.
	match (&submission.input, &submission.input_uri, &submission.input_hash) {
		(Some(text), None, None) => Ok(TaskInput::Inline(text.clone().into_bytes())),
		(None, Some(uri), Some(hash)) => {
			Ok(TaskInput::Reference { hash: *hash, uri: uri.clone().into_bytes() })
		},
		_ => Err(CliError::Invalid(
			"give the input inline (--input TEXT), by reference (--input-uri URI --input-hash \
			 HASH), or a batch (--batch FILE --batch-uri URL)"
				.into(),
		)),
	}
}

/// A batch's input, from `--batch` and `--batch-uri`: the items read from the file and checked
/// against the chain's bounds (what executors refuse is refused here, before anything is signed),
/// their root, and the commitment to a fresh audit secret, returned to be kept. With
/// `--publish`, the file is first written at the URI with `PUT`.
async fn batch_input(
	chain: &Chain,
	submission: &Submission,
	progress: &Progress,
) -> Result<(TaskInput<Vec<u8>>, [u8; 32]), CliError> {
	use agentchain_execution::{batch, fetchable_uri, hash_of};
	let (Some(path), Some(uri)) = (&submission.batch, &submission.batch_uri) else {
		return Err(CliError::Invalid("a batch needs --batch FILE and --batch-uri URL".into()));
	};
	if fetchable_uri(uri.as_bytes()).is_none() {
		return Err(CliError::Invalid(format!(
			"--batch-uri `{uri}`: executors fetch only http:// and https:// URLs"
		)));
	}
	let best = chain.at_best().await?;
	let constants = best.constants();
	let bound = |entry: Result<u32, _>| entry.map_err(CliError::rpc);
	let max_items = bound(constants.entry(runtime::constants().inference().max_batch_items()))?;
	let max_item = bound(constants.entry(runtime::constants().inference().max_input_len()))?;
	let max_uri = bound(constants.entry(runtime::constants().inference().max_uri_len()))?;
	// What executors read of an inputs document at most: a longer one is answered
	// INPUT_UNAVAILABLE, and the requester pays the attempt.
	let max_document = batch::max_document_bytes(max_items, max_item) as u64;
	let too_long = |len: u64| {
		CliError::Invalid(format!(
			"the inputs document would be {len} bytes; executors read at most {max_document} \
			 ({max_items} items of {max_item} bytes, written compactly)"
		))
	};
	let file_len = std::fs::metadata(path)
		.map_err(|e| CliError::Invalid(format!("cannot read {}: {e}", path.display())))?
		.len();
	// Read whole only if it can be the document, or (to be published) written compactly.
	if file_len > max_document.saturating_mul(4) {
		return Err(too_long(file_len));
	}
	let bytes = std::fs::read(path)
		.map_err(|e| CliError::Invalid(format!("cannot read {}: {e}", path.display())))?;
	let items: Vec<String> = serde_json::from_slice(&bytes).map_err(|e| {
		CliError::Invalid(format!("{} is not a JSON array of strings: {e}", path.display()))
	})?;
	if items.is_empty() || items.len() > max_items as usize {
		return Err(CliError::Invalid(format!(
			"{} holds {} items; a batch has 1 to {max_items}",
			path.display(),
			items.len()
		)));
	}
	if let Some((index, item)) = items.iter().enumerate().find(|(_, i)| i.len() > max_item as usize)
	{
		return Err(CliError::Invalid(format!(
			"item {index} of {} is {} bytes; the chain shows an item of at most {max_item} bytes",
			path.display(),
			item.len()
		)));
	}
	if uri.len() > max_uri as usize {
		return Err(CliError::Invalid(format!(
			"--batch-uri is {} bytes; the chain keeps at most {max_uri}",
			uri.len()
		)));
	}
	let root = batch::root(&items)
		.ok_or_else(|| CliError::Invalid("a batch has at least one item".into()))?;
	// Published, the document is written compactly; otherwise the file is what executors read.
	let document = if submission.publish { batch::document(&items) } else { bytes };
	if document.len() as u64 > max_document {
		return Err(too_long(document.len() as u64));
	}
	if submission.publish {
		progress.step(&format!("publishing the inputs document at {uri}"));
		crate::edge::put_document(uri, document, std::time::Duration::from_secs(30))
			.await
			.map_err(|e| {
				CliError::Rpc(format!("publishing the inputs document at {uri} failed: {e}"))
			})?;
	}
	let mut secret = [0u8; 32];
	getrandom::getrandom(&mut secret)
		.map_err(|e| CliError::Rpc(format!("no randomness for the audit secret: {e}")))?;
	// Said before anything is sent: a batch on chain whose submission then failed to be
	// followed still has its secret with its requester.
	progress.step(&format!(
		"the batch's audit secret: 0x{} (keep it, and show it to nobody before the challenge \
		 window ends; then reveal it with `agentchain task reveal-audit-secret`, which waits \
		 for that end)",
		hex::encode(secret)
	));
	let input = TaskInput::Batch {
		root,
		uri: uri.clone().into_bytes(),
		items: items.len() as u32,
		audit_commitment: hash_of(&secret),
	};
	Ok((input, secret))
}

/// The `inference.submit_task` call for `submission`.
pub fn submit_call(submission: &Submission) -> Result<impl subxt::tx::Payload, CliError> {
	submit_call_of(submission, input_of(submission)?)
}

/// The `inference.submit_task` call for `submission`, with the task input `input`.
fn submit_call_of(
	submission: &Submission,
	input: TaskInput<Vec<u8>>,
) -> Result<impl subxt::tx::Payload, CliError> {
	let model = model_id(&submission.model)?;
	let params = TaskParams {
		max_tokens: submission.max_tokens,
		temperature_milli: submission.temperature_milli,
		seed: submission.seed,
		mode: match submission.mode {
			ModeArg::Exact => VerificationMode::ExactMatch,
			ModeArg::Jury => VerificationMode::Jury,
		},
	};
	Ok(runtime::tx().inference().submit_task(
		model,
		input,
		params,
		submission.fee,
		submission.redundancy,
		submission.commit_period,
	))
}

/// `task prepay`, or `task withdraw-prepaid` when `withdraw`: moves `amount` into, or out of,
/// the signer's prepaid funds and reports what they hold after.
pub async fn prepaid(
	chain: &Chain,
	suri: &str,
	amount: u128,
	withdraw: bool,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let tx = runtime::tx().inference();
	let (what, included) = if withdraw {
		progress.step(&format!("withdrawing {} of prepaid funds", format_amount(amount)));
		("withdrawn", chain.submit(&tx.withdraw_prepaid(amount), &signer, progress).await?)
	} else {
		progress.step(&format!("prepaying {}", format_amount(amount)));
		("prepaid", chain.submit(&tx.prepay(amount), &signer, progress).await?)
	};
	let at = chain.at(included.block_hash).await?;
	let requester = signer.public_key().to_account_id();
	let left = stored(&at, runtime::storage().inference().prepaid(), (requester,))
		.await?
		.unwrap_or_default();
	let mut json = included.json(what);
	json["amount"] = json!(amount.to_string());
	json["prepaid"] = json!(left.to_string());
	let text = format!(
		"{} {what} in block #{}; prepaid funds now {}",
		format_amount(amount),
		included.block_number,
		format_amount(left)
	);
	Ok(Report::new(text, json))
}

/// The chain's best blocks from now on, for `timeout`.
struct BestBlocks {
	blocks: subxt::client::Blocks<crate::chain::Config>,
	since: u64,
	deadline: tokio::time::Instant,
}

impl BestBlocks {
	async fn follow(chain: &Chain, timeout: std::time::Duration) -> Result<Self, CliError> {
		let blocks = chain.best_blocks().await?;
		// The stream may begin with blocks older than the best one, where a task can be missing
		// or behind: they are skipped.
		let since = chain.best_number().await?;
		Ok(Self { blocks, since, deadline: tokio::time::Instant::now() + timeout })
	}

	/// The next best block; past the deadline, a timeout saying `what` did not happen.
	async fn next(
		&mut self,
		what: impl Fn() -> String,
	) -> Result<subxt::client::Block<crate::chain::Config>, CliError> {
		let deadline = self.deadline;
		loop {
			let block = tokio::time::timeout_at(deadline, self.blocks.next())
				.await
				.map_err(|_| CliError::Timeout(what()))?
				.ok_or_else(|| CliError::Rpc("the node stopped sending blocks".into()))?
				.map_err(CliError::rpc)?;
			if block.number() >= self.since {
				return Ok(block);
			}
		}
	}
}

/// Reveals the audit secret of batch `id` (`secret`, printed by `task submit --batch`) once
/// its challenge window has ended: the chain awaits it then, for `AuditSecretPeriod` blocks,
/// and refuses it before (a secret known before the window's end would let an executor and a
/// block author steer the audit). Checks the secret against the batch's commitment before
/// signing, then follows the best blocks until the chain awaits it, and sends it. A batch not
/// revealed in time is audited whatever the draw, at the requester's cost.
pub async fn reveal_audit_secret(
	chain: &Chain,
	suri: &str,
	id: u64,
	secret: H256,
	timeout: std::time::Duration,
	progress: &Progress,
) -> Result<Report, CliError> {
	let signer = keypair(suri)?;
	let inference = runtime::storage().inference();
	let at = chain.at_best().await?;
	let task = stored(&at, inference.tasks(), (id,)).await?.ok_or_else(|| no_such_task(id))?;
	let TaskInput::Batch { audit_commitment, .. } = task.input else {
		return Err(CliError::Invalid(format!("task {id} is not a batch: it has no audit secret")));
	};
	if agentchain_execution::hash_of(&secret.0).0 != audit_commitment.0 {
		return Err(CliError::Invalid(format!(
			"this secret is not the one batch {id} committed to (its commitment is {})",
			hex32(&audit_commitment)
		)));
	}
	let mut blocks = BestBlocks::follow(chain, timeout).await?;
	let (mut told, mut told_final) = (false, false);
	let mut seen_awaited_at = None;
	loop {
		let block = blocks
			.next(|| format!("the window of batch {id} did not end within {} s", timeout.as_secs()))
			.await?;
		let at = chain.at(block.hash()).await?;
		if stored(&at, inference.audit_secrets(), (id,)).await?.is_some() {
			return Err(CliError::Refused(format!("the audit secret of batch {id} is revealed")));
		}
		let task = stored(&at, inference.tasks(), (id,))
			.await?
			.ok_or_else(|| CliError::TaskEnded(format!("batch {id} is no longer on chain")))?;
		let awaited = stored(&at, inference.awaited_audit_secrets(), (id,)).await?.is_some();
		match task.status {
			// Sent once the block before the window's end is final: revealed while a fork could
			// still replace that block, its author would choose it knowing the secret.
			TaskStatus::Revealed if awaited => {
				let first = *seen_awaited_at.get_or_insert(block.number());
				if chain.finalized_number().await? >= first {
					break;
				}
				if !told_final {
					progress.step(&format!(
						"block #{}: the window of batch {id} has ended; waiting for its end to be \
						 final",
						block.number()
					));
					told_final = true;
				}
			},
			_ if awaited => {
				return Err(CliError::TaskEnded(format!(
					"batch {id} went on without its audit secret: it was not revealed in time"
				)))
			},
			TaskStatus::Finalised | TaskStatus::Expired => {
				return Err(CliError::TaskEnded(format!(
					"batch {id} ended without its audit secret awaited"
				)))
			},
			_ if !told => {
				progress.step(&format!(
					"block #{}: waiting for the challenge window of batch {id} to end",
					block.number()
				));
				told = true;
			},
			_ => {},
		}
	}
	progress.step(&format!("revealing the audit secret of batch {id}"));
	let call = runtime::tx().inference().reveal_audit_secret(id, secret);
	// Sent again after a transient failure while the chain still awaits it; anyone may send
	// the same secret, so a transaction of ours that was replaced may have revealed it anyway.
	let mut attempts = 0;
	let included = loop {
		match chain.submit(&call, &signer, progress).await {
			Ok(included) => break included,
			Err(error) => {
				let at = chain.at_best().await?;
				if stored(&at, inference.audit_secrets(), (id,)).await?.is_some() {
					let text =
						format!("audit secret of batch {id} revealed (by another transaction)");
					return Ok(Report::new(text, json!({ "result": "revealed", "task": id })));
				}
				let awaited = stored(&at, inference.awaited_audit_secrets(), (id,)).await?;
				attempts += 1;
				if awaited.is_none() || attempts >= 3 {
					return Err(error);
				}
				progress.step(&format!("revealing failed ({error}); sending it again"));
			},
		}
	};
	let decided = included
		.events
		.find_first::<runtime::inference::events::AuditSecretRevealed>()
		.and_then(Result::ok)
		.ok_or_else(|| {
			CliError::Rpc(
				"the secret was revealed but its AuditSecretRevealed event is missing".into(),
			)
		})?;
	let mut json = included.json("revealed");
	json["task"] = json!(id);
	json["auditDecidedAt"] = json!(decided.audit_decided_at);
	let text = format!(
		"audit secret of batch {id} revealed in block #{}; its audit is decided at #{}",
		included.block_number, decided.audit_decided_at
	);
	Ok(Report::new(text, json))
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
	let (input, audit_secret) = match &submission.batch {
		Some(_) => {
			let (input, secret) = batch_input(chain, &submission, progress).await?;
			(input, Some(secret))
		},
		None => (input_of(&submission)?, None),
	};
	let call = submit_call_of(&submission, input)?;
	let included = chain.submit(&call, &signer, progress).await?;
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
	let submitted_block = included.block_json();
	let mut seen = Vec::new();
	let mut revealed_in = None;
	let view = match wait {
		None => chain
			.query_at(included.block_hash, runtime::runtime_apis().inference_api().task(id))
			.await?
			.ok_or_else(|| CliError::Rpc(format!("task {id} is missing from its own block")))?,
		// The task was submitted and paid for: an error while following it says so, with its
		// id, so that nobody submits it again thinking it was not.
		Some(until) => {
			// Followed to its finalisation, a batch needs its audit secret revealed once its
			// window has ended: sent meanwhile, as `task reveal-audit-secret` sends it.
			let following = follow_recording(chain, id, until, timeout, progress, &mut seen);
			let revealing = async {
				match (audit_secret, until) {
					(Some(secret), WaitFor::Finalised) => Some(
						reveal_audit_secret(chain, suri, id, H256(secret), timeout, progress).await,
					),
					_ => None,
				}
			};
			let (followed, revealed) = tokio::join!(following, revealing);
			// A batch whose secret is not revealed by its wait's end is audited whatever the
			// draw, at its requester's cost: whatever went wrong says how to reveal it.
			let still_owed = |secret: [u8; 32]| {
				format!(
					"; its audit secret is 0x{0}: reveal it with `agentchain task \
					 reveal-audit-secret {id} --secret 0x{0}`, which waits for the window's end",
					hex::encode(secret)
				)
			};
			let mut not_revealed = None;
			match revealed {
				Some(Ok(report)) => revealed_in = Some(report.json["block"].clone()),
				Some(Err(e)) => not_revealed = Some(e),
				None => {},
			}
			let owed = match (&not_revealed, audit_secret) {
				(Some(_), Some(secret)) => still_owed(secret),
				_ => String::new(),
			};
			let view = followed.map_err(|e| {
				let context =
					format!("task {id} was submitted in block #{}{owed}", included.block_number);
				match e {
					CliError::TaskEnded(m) => CliError::TaskEnded(format!("{context}; {m}")),
					CliError::Timeout(m) => CliError::Timeout(format!("{context}; {m}")),
					other => CliError::Rpc(format!("{context}, then following it failed: {other}")),
				}
			})?;
			if let Some(e) = not_revealed {
				return Err(CliError::Refused(format!(
					"task {id} was finalised, but its audit secret was not revealed ({e}): it was \
					 audited whatever the draw, and its jury paid from its deposit"
				)));
			}
			view
		},
	};
	let mut json = task_json(&view);
	json["submittedIn"] = submitted_block;
	let mut text = task_text(&view);
	// The secret behind the batch's audit commitment: the requester's, to keep, and to show
	// nobody before the batch's challenge window ends (docs/batches.md, the audit's seed).
	if let Some(secret) = audit_secret {
		json["auditSecret"] = json!(format!("0x{}", hex::encode(secret)));
		let hint = match &revealed_in {
			Some(block) => format!("revealed in #{}", block["number"]),
			None => format!(
				"keep it, show it to nobody before the challenge window ends, then reveal it \
				 with `agentchain task reveal-audit-secret {id} --secret 0x{}`",
				hex::encode(secret)
			),
		};
		text.push_str(&format!("  audit secret: 0x{} ({hint})\n", hex::encode(secret)));
	}
	if let Some(block) = revealed_in {
		json["auditSecretRevealedIn"] = block;
	}
	if wait.is_some() {
		json["seenIn"] = json!(seen
			.iter()
			.map(|(status, number, hash)| json!({
				"status": status,
				"number": number,
				"hash": format!("{hash:?}"),
			}))
			.collect::<Vec<_>>());
	}
	Ok(Report::new(text, json))
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
	follow_recording(chain, id, until, timeout, progress, &mut Vec::new()).await
}

/// [`follow`], recording in `seen` the first block (number and hash) in which the task was seen
/// in each status: the blocks of its assignment, commitments, reveal and end.
pub async fn follow_recording(
	chain: &Chain,
	id: u64,
	until: WaitFor,
	timeout: std::time::Duration,
	progress: &Progress,
	seen: &mut Vec<(&'static str, u64, H256)>,
) -> Result<TaskView<AccountId32>, CliError> {
	let mut blocks = BestBlocks::follow(chain, timeout).await?;
	let mut last: Option<(String, usize, usize, bool)> = None;
	loop {
		let block = blocks
			.next(|| format!("task {id} did not reach `{until:?}` within {} s", timeout.as_secs()))
			.await?;
		let view = chain
			.query_at(block.hash(), runtime::runtime_apis().inference_api().task(id))
			.await?
			.ok_or_else(|| CliError::TaskEnded(format!("task {id} is no longer on chain")))?;
		let committed = view.assignments.iter().filter(|a| a.committed).count();
		let revealed = view.assignments.iter().filter(|a| a.output.is_some()).count();
		let status = status_name(&view.status);
		if !seen.iter().any(|(s, ..)| *s == status) {
			seen.push((status, block.number(), block.hash()));
		}
		let awaited = matches!(view.status, TaskStatus::Revealed)
			&& matches!(view.input, TaskInputView::Batch { .. })
			&& stored(
				&chain.at(block.hash()).await?,
				runtime::storage().inference().awaited_audit_secrets(),
				(id,),
			)
			.await?
			.is_some();
		let now = (status.to_string(), committed, revealed, awaited);
		if last.as_ref() != Some(&now) {
			let detail = match view.status {
				// Every executor revealed: the next block compares their results.
				TaskStatus::Committed if revealed == view.assignments.len() => {
					format!(" (all {revealed} revealed; results compared at #{})", view.phase_ends)
				},
				TaskStatus::Assigned | TaskStatus::Committed => format!(
					" ({committed}/{} committed, {revealed} revealed; phase ends at #{})",
					view.assignments.len(),
					view.phase_ends
				),
				// A batch whose window has ended waits for its requester's audit secret.
				TaskStatus::Revealed if awaited => {
					format!(
						" (challenge window over; its audit secret awaited until #{})",
						view.phase_ends
					)
				},
				TaskStatus::Revealed => format!(" (challenge window ends at #{})", view.phase_ends),
				_ => String::new(),
			};
			progress.step(&format!("block #{}: task {id} {}{detail}", block.number(), now.0));
			last = Some(now);
		}
		match (&view.status, until) {
			(TaskStatus::Expired, _) => {
				return Err(CliError::TaskEnded(format!(
					"task {id} expired without a finalised result (see `agentchain task show {id}` \
					 and the TaskExpired event for what was refunded)"
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
