//! # The rules every AgentChain executor and juror follows
//!
//! An agent's work is done in two places: by the off-chain workers of an agent node
//! (`pallet-inference`'s executor, `pallet-challenges`' juror), and by the edge agent
//! (`agentchain agent run`), a standalone process on a device that runs no node. Both must do
//! exactly the same thing for the same task, or honest agents would disagree and be slashed. So
//! what decides the bytes they commit to lives here, once, in a crate small enough for both (no
//! runtime, no node: `no_std` with `alloc`, and hashing that needs no host):
//!
//! - the endpoint call: [`completion_request`] (the URL and JSON body of an OpenAI-compatible
//!   call) and [`completion_output`] (the output of its answer, [`REFUSED`] for a prompt the
//!   endpoint refused on its content policy), with the [`Fault`]s a call can
//!   end in, and which of them are the requester's rather than the executor's
//!   ([`Fault::is_input_fault`]);
//! - the output committed to: [`truncate_output`] (cut to what the chain keeps, on a character
//!   boundary), [`answer_hash`] (or [`INPUT_UNAVAILABLE`] when a referenced input cannot be
//!   obtained), and [`commitment_of`];
//! - a juror's vote: [`exact_match_vote`], [`jury_vote`] (with [`accepts`]), and
//!   [`vote_commitment`];
//! - time: [`call_budget_ms`] (how long an endpoint call may take so that the commitment still
//!   lands before its deadline) and [`RESUBMIT_AFTER`] (when a duty not on chain is sent again);
//! - what is kept about a duty so that nothing is ever committed or revealed twice, across
//!   restarts: [`WorkRecord`] and [`VoteRecord`], stored *before* the commitment is sent;
//! - a batch's commitment: the [`merkle`] tree of its items' output hashes, the proof of one
//!   item, and the bisection to the first item two executors disagree on.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod batch;
pub mod merkle;

use alloc::{collections::btree_set::BTreeSet, format, string::String, vec::Vec};
use codec::{Decode, Encode};
pub use primitive_types::H256;
use serde::{Deserialize, Serialize};

/// The output hash an executor reveals when it could not obtain a task's referenced input (the
/// URI did not answer in time, or served bytes that do not hash to the input's hash, or that are
/// not UTF-8 text), and the vote a juror reveals when it could not either: blake2-256 of
/// `b"agentchain/input-unavailable"`.
///
/// Only tasks whose input is a reference (kept off chain by the requester) accept it: an inline
/// input is on chain, always available. A task whose executors all reveal it is paid the price
/// of an attempt; a juror's vote for it counts as present but never decides a verdict.
pub const INPUT_UNAVAILABLE: H256 = H256([
	0xa6, 0x52, 0x1a, 0x53, 0x7a, 0x63, 0xe2, 0x3c, 0x77, 0x09, 0x2e, 0x6b, 0x9c, 0xd2, 0x15, 0xcc,
	0x23, 0xca, 0x36, 0xd2, 0x39, 0x35, 0x25, 0xfd, 0xb2, 0x35, 0x22, 0x8d, 0xb2, 0x6e, 0x27, 0x0a,
]);

/// The vote of a juror who finds a jury-mode result not acceptable.
pub const REJECT: H256 = H256::zero();

/// The output of a prompt the endpoint refused on its content policy: an HTTP 400 or 422 whose
/// error is a content-policy error ([`is_content_refusal`]), or an answer whose first choice
/// finished with `content_filter`. It is an output like any other: committed, revealed and
/// judged as one. A juror whose endpoint answers the prompt finds it wrong, as it would any
/// other wrong output, so answering everything refused saves no work at no risk. Its hash is
/// [`REFUSED_HASH`].
///
/// Text, as every output of a batch must be (its outputs document is JSON). A completion whose
/// text is exactly this (a prompt can ask a model to write it) is committed with a space after
/// it ([`parse_completion`]), so that no answer is ever taken for a refusal.
pub const REFUSED: &[u8] = b"agentchain:refused";

/// blake2-256 of [`REFUSED`]: the output hash of a refused prompt, and the vote of a juror
/// whose endpoint refused it. A verdict of [`REFUSED_HASH`] says the jury's endpoints refused
/// the prompt: an executor that answered it is not paid for that answer, and is not slashed
/// either (see `pallet-challenges`).
pub const REFUSED_HASH: H256 = H256([
	0x31, 0xb6, 0xbb, 0x03, 0x26, 0x37, 0xc2, 0x9a, 0xf5, 0xca, 0x8b, 0x61, 0xcb, 0x0c, 0x38, 0x16,
	0x4d, 0xdb, 0x3e, 0xa3, 0xd4, 0x71, 0xfb, 0x0b, 0x77, 0x55, 0xe2, 0x4a, 0x83, 0x6d, 0x51, 0x1f,
]);

/// The error codes by which an OpenAI-compatible endpoint refuses a prompt on its content
/// policy: `content_filter` (Azure OpenAI, and servers that follow it) and
/// `content_policy_violation` (OpenAI). Read from the error's `code` or `type`.
pub const CONTENT_REFUSAL_CODES: [&str; 2] = ["content_filter", "content_policy_violation"];

/// In jury mode, the least share of distinct words (in percent) the juror's output and the
/// revealed output must have in common for the juror to accept the result.
pub const JURY_ACCEPT_SIMILARITY_PERCENT: usize = 50;

/// Blocks after which a commit or reveal (of a result or a vote) that has not reached the chain
/// is submitted again, at the lowest nonce the chain has not used: a duty lands in the next block
/// unless it was lost (or refused by a pool whose view of the chain lagged behind), so a block
/// without it means it was. A resend of one still pending is refused, harmlessly.
pub const RESUBMIT_AFTER: u64 = 1;

/// Time kept free between the end of an endpoint call and the phase deadline, in milliseconds,
/// for the transaction to reach a block.
pub const SUBMISSION_MARGIN_MS: u64 = 1_000;

/// blake2-256 of some bytes: how outputs and referenced inputs are hashed.
pub fn hash_of(bytes: &[u8]) -> H256 {
	H256(sp_crypto_hashing::blake2_256(bytes))
}

/// The hash an answer commits to: its output's, or [`INPUT_UNAVAILABLE`] (`None`: the task's
/// referenced input could not be obtained).
pub fn answer_hash(output: &Option<Vec<u8>>) -> H256 {
	output.as_deref().map_or(INPUT_UNAVAILABLE, hash_of)
}

/// `blake2_256(output_hash ‖ salt ‖ executor)`: what an executor commits to.
pub fn commitment_of<AccountId: Encode>(
	output_hash: &H256,
	salt: &[u8; 32],
	executor: &AccountId,
) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(output_hash, salt, executor).encode()))
}

/// `blake2_256(task ‖ round ‖ vote ‖ salt ‖ juror)`: what a juror commits to. Binding the
/// commitment to the juror and the round stops one juror from replaying another's.
pub fn vote_commitment<AccountId: Encode>(
	task: u64,
	round: u32,
	vote: &H256,
	salt: &[u8; 32],
	juror: &AccountId,
) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(task, round, vote, salt, juror).encode()))
}

/// How long an endpoint call made at block `now` may take, in milliseconds, for work whose
/// transaction must be in a block before `phase_ends`: the earliest block it can be in is the
/// next one, so the blocks between, less [`SUBMISSION_MARGIN_MS`]. Zero: too late to start.
pub fn call_budget_ms(phase_ends: u64, now: u64, block_time_ms: u64) -> u64 {
	blocks_left(phase_ends, now)
		.saturating_mul(block_time_ms)
		.saturating_sub(SUBMISSION_MARGIN_MS)
}

/// Whether a batch item's call that timed out was cut short by the end of the worker's run
/// rather than hung: its deadline was the run's (`run_deadline_ms`, not its own timeout), and it
/// began in the run's last quarter of a block. Such a call says nothing of the endpoint: the
/// run was out of time, and the item is called first by the next run. A call that had most of
/// a run and still timed out is the endpoint's fault (an item it hangs on), and its batch goes
/// after the others for a run. Times are milliseconds of the same clock.
pub fn cut_by_run_end(
	started_ms: u64,
	deadline_ms: u64,
	run_deadline_ms: u64,
	block_time_ms: u64,
) -> bool {
	deadline_ms == run_deadline_ms
		&& started_ms.saturating_add(block_time_ms / 4) >= run_deadline_ms
}

/// Whole blocks between block `now` and the block before `phase_ends`: the blocks a call made
/// now may use.
pub fn blocks_left(phase_ends: u64, now: u64) -> u64 {
	phase_ends.saturating_sub(now).saturating_sub(1)
}

/// Blocks during which a locally tracked nonce is trusted beyond the chain's: by then the
/// transactions it counted are in a block, or lost.
pub const NONCE_MEMORY: u64 = 5;

/// The nonce of the next transaction an executor signs at block `now`, given the chain's next
/// nonce for its key and what it tracks itself (`tracked`: the next nonce it has not used, and
/// the block it last sent at); with what to track from now on.
///
/// An executor sends duties faster than blocks include them: without its own count it would
/// reuse the nonce of a transaction still in the pool, which the pool refuses.
pub fn reserve_nonce(tracked: Option<(u64, u64)>, chain_next: u64, now: u64) -> (u64, (u64, u64)) {
	let reserved = match tracked {
		Some((next, at)) if at.saturating_add(NONCE_MEMORY) > now => next.max(chain_next),
		_ => chain_next,
	};
	(reserved, (reserved.saturating_add(1), now))
}

/// Where the resends of a block stand: the block, the nonce the next resend of it takes, and the
/// top of the window of nonces handed out before its first resend (the tracked next nonce then).
pub type ResendCursor = (u64, u64, u64);

/// The nonce for sending again, at block `now`, a transaction that has not reached a block; with
/// what to track from now on, the new cursor of the block's resends, and whether the nonce is a
/// fresh one (then a transaction refused by the pool gives it back with [`release_nonce`], as a
/// first send's does).
///
/// The block's first resend takes the chain's next nonce, `chain_next`, the lowest one not yet
/// used; each further resend of the block the nonce after the last, while it is below the top of
/// the nonces handed out before (`tracked`): a transaction lost from the pool (dropped when it was
/// full, say) leaves a gap that every later nonce waits on, and a resend at the lowest unused
/// nonce fills it; several duties sent again together (their transactions lost together, or late
/// into a block together) go at consecutive nonces, so that all of them can land in the next
/// block, where at one nonce only one of them would land a block. Where a pending transaction
/// still holds a nonce, the pool keeps the one with the higher priority: a protocol duty replaces
/// an ordinary transaction, and an equal one is refused (the pending one lands, and the resend is
/// tried again later if still needed). Past that window a resend takes a fresh nonce, as a first
/// send does, so that it never takes one a first send of the same block took.
///
/// A worker of an earlier block still running continues the cursor of a later one rather than
/// starting it again (workers of consecutive blocks run at once).
pub fn resend_nonce(
	tracked: Option<(u64, u64)>,
	resent: Option<ResendCursor>,
	chain_next: u64,
	now: u64,
) -> (u64, (u64, u64), ResendCursor, bool) {
	let tracked_next = match tracked {
		Some((next, at)) if at.saturating_add(NONCE_MEMORY) > now => next,
		_ => 0,
	};
	let (block, next, top) = match resent {
		Some((block, next, top)) if block >= now => (block, next.max(chain_next), top),
		_ => (now, chain_next, tracked_next.max(chain_next)),
	};
	if next < top {
		(
			next,
			(tracked_next.max(next.saturating_add(1)), now),
			(block, next.saturating_add(1), top),
			false,
		)
	} else {
		let nonce = tracked_next.max(chain_next);
		(nonce, (nonce.saturating_add(1), now), (block, next, top), true)
	}
}

/// The on-chain id of a model known by a canonical name: `blake2_256(name)`.
pub fn model_id_of_name(name: &str) -> H256 {
	hash_of(name.as_bytes())
}

/// An on-chain model and the name an inference endpoint knows it by: what an agent node's
/// `--inference-model` and the edge agent's `--model` take.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelMapping {
	/// The model's on-chain id.
	pub id: H256,
	/// The name the endpoint knows it by.
	pub name: String,
}

/// Parses `NAME`, `NAME=ENDPOINT_NAME` or `0x<64 hex digits>=ENDPOINT_NAME`. A name stands for
/// the model id `blake2_256(name)` ([`model_id_of_name`]).
pub fn parse_model_mapping(value: &str) -> Result<ModelMapping, String> {
	let (model, name) = value.split_once('=').unwrap_or((value, value));
	if model.is_empty() || name.is_empty() {
		return Err(format!("`{value}`: expected NAME, NAME=ENDPOINT_NAME or 0xID=ENDPOINT_NAME"));
	}
	let id = match model.strip_prefix("0x") {
		Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
			let mut bytes = [0u8; 32];
			for (i, byte) in bytes.iter_mut().enumerate() {
				*byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
					.map_err(|_| format!("`{model}` is not a hex model id"))?;
			}
			H256(bytes)
		},
		Some(_) if value.contains('=') => {
			return Err(format!("`{model}`: a model id has 64 hex digits after 0x"))
		},
		_ => model_id_of_name(model),
	};
	Ok(ModelMapping { id, name: String::from(name) })
}

/// Gives back the nonce `reserved` (by [`reserve_nonce`]) whose transaction was not sent, if no
/// later one was reserved meanwhile: what to track from now on, or `None` to leave it as it is.
pub fn release_nonce(tracked: Option<(u64, u64)>, reserved: u64) -> Option<(u64, u64)> {
	match tracked {
		Some((next, at)) if next == reserved.saturating_add(1) => Some((reserved, at)),
		_ => None,
	}
}

/// Why an executor produced no result for a task.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Fault {
	/// This node was given no inference endpoint.
	NoEndpoint,
	/// No task has this id.
	UnknownTask,
	/// The executor serves no endpoint model for the task's model.
	UnknownModel,
	/// The task's input is not UTF-8 text.
	InputNotText,
	/// The task's input could not be fetched from its URI.
	InputUnavailable,
	/// The fetched input does not hash to the task's input hash.
	InputHashMismatch,
	/// An item of a batch's input is longer than the chain keeps of an input.
	InputTooLong,
	/// Too little time was left before the commit deadline to call the endpoint.
	TooLate,
	/// The endpoint could not be reached (connection refused or reset, bad URL, I/O error).
	Unreachable,
	/// The endpoint did not answer before the deadline.
	Timeout,
	/// The endpoint answered with a status other than 200.
	Status(u16),
	/// The response body was larger than allowed.
	Oversized,
	/// The response body is not the JSON of a completion.
	Malformed,
	/// The response names another model than the one asked for.
	WrongModel,
	/// The task is a batch, run item by item (see [`batch`]) and not by one call; this
	/// executor does not run batches.
	Batch,
}

impl Fault {
	/// Whether the fault is the referenced input's (the requester's), not the executor's: the
	/// task is then answered with [`INPUT_UNAVAILABLE`].
	pub fn is_input_fault(&self) -> bool {
		matches!(
			self,
			Fault::InputNotText
				| Fault::InputUnavailable
				| Fault::InputHashMismatch
				| Fault::InputTooLong
		)
	}

	/// Whether the same call may succeed if made again: the endpoint was unreachable, timed
	/// out, was overloaded (429) or failed on its side (5xx). A timeout also covers a clock
	/// stepped forward during the call (its deadline is a time of that clock), which says nothing
	/// about the endpoint. See [`calls_again`].
	pub fn is_transient(&self) -> bool {
		match self {
			Fault::Unreachable | Fault::Timeout => true,
			Fault::Status(code) => *code == 429 || (500..=599).contains(code),
			_ => false,
		}
	}
}

/// Whether work whose call, made by a worker at block `now`, failed with `fault` is called again
/// by a later block's worker rather than given up: only after a transient fault
/// ([`Fault::is_transient`]), and only for a call made at or before `first_block`, the block the
/// work's phase started in (`None`: never, e.g. a phase whose deadline was extended, whose start
/// is not known). So a piece of work gets one more call at most: work whose calls keep failing (a
/// prompt the endpoint always fails on, a model too slow for the node's timeout) cannot hold a
/// worker's calls for the rest of its phase and starve its other work, as a requester submitting
/// such tasks on purpose would have it.
pub fn calls_again(fault: &Fault, now: u64, first_block: Option<u64>) -> bool {
	fault.is_transient() && first_block.is_some_and(|first| now <= first)
}

impl core::fmt::Display for Fault {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Fault::NoEndpoint => write!(f, "this node has no inference endpoint"),
			Fault::UnknownTask => write!(f, "no such task"),
			Fault::UnknownModel => write!(f, "no endpoint model is mapped to the task's model"),
			Fault::InputNotText => write!(f, "the input is not UTF-8 text"),
			Fault::InputUnavailable => write!(f, "the input could not be fetched"),
			Fault::InputHashMismatch => write!(f, "the fetched input does not match its hash"),
			Fault::InputTooLong => write!(f, "an item of the input is longer than the chain keeps"),
			Fault::TooLate => write!(f, "too little time left before the commit deadline"),
			Fault::Unreachable => write!(f, "endpoint unreachable"),
			Fault::Timeout => write!(f, "endpoint timed out"),
			Fault::Status(code) => write!(f, "endpoint answered with status {code}"),
			Fault::Oversized => write!(f, "response body over the size limit"),
			Fault::Malformed => write!(f, "malformed response"),
			Fault::WrongModel => write!(f, "response for another model"),
			Fault::Batch => {
				write!(f, "a batch is not run by one call, and this executor runs no batch")
			},
		}
	}
}

/// The longest prefix of `output` of at most `max_len` bytes that ends on a character boundary
/// (`output` is UTF-8): what an executor commits to when the model wrote more than the chain
/// keeps. Every honest executor cuts the same way, so their outputs still match.
pub fn truncate_output(mut output: Vec<u8>, max_len: usize) -> Vec<u8> {
	if output.len() > max_len {
		let mut end = max_len;
		// A UTF-8 continuation byte is 0b10xx_xxxx: step back to the start of its character.
		while end > 0 && output.get(end).is_some_and(|byte| byte & 0xC0 == 0x80) {
			end -= 1;
		}
		output.truncate(end);
	}
	output
}

/// Which OpenAI-compatible API the endpoint is called through.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
pub enum EndpointApi {
	/// `POST {base_url}/chat/completions`, the prompt as one user message.
	Chat,
	/// `POST {base_url}/completions`, the prompt as it is.
	Completions,
}

/// How a task asks its model to sample: the task parameters the endpoint call carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sampling {
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// Sampling temperature in thousandths.
	pub temperature_milli: u32,
	/// Seed of the sampler.
	pub seed: u64,
}

/// A chat-completion request (`POST /chat/completions`).
#[derive(Serialize)]
struct ChatRequest<'a> {
	model: &'a str,
	messages: [ChatMessage<'a>; 1],
	max_tokens: u32,
	temperature: f64,
	seed: u64,
	stream: bool,
}

/// One message of a chat-completion request.
#[derive(Serialize)]
struct ChatMessage<'a> {
	role: &'a str,
	content: &'a str,
}

/// A completion request (`POST /completions`).
#[derive(Serialize)]
struct CompletionRequest<'a> {
	model: &'a str,
	prompt: &'a str,
	max_tokens: u32,
	temperature: f64,
	seed: u64,
	stream: bool,
}

/// The parts of a (chat) completion response an executor reads; other fields are ignored.
#[derive(Deserialize)]
struct CompletionResponse {
	model: Option<String>,
	choices: Vec<Choice>,
}

/// One choice of a response: `message.content` (chat) or `text` (completions), and why it
/// finished (`content_filter`: the endpoint's content policy cut or withheld it).
#[derive(Deserialize)]
struct Choice {
	message: Option<ChoiceMessage>,
	text: Option<String>,
	finish_reason: Option<serde_json::Value>,
}

/// The error an endpoint answers a refused request with: `{"error": {"code": …, "type": …}}`.
#[derive(Deserialize)]
struct ErrorResponse {
	error: ErrorDetail,
}

/// The fields of an error that say why the request was refused.
#[derive(Deserialize)]
struct ErrorDetail {
	code: Option<serde_json::Value>,
	#[serde(rename = "type")]
	kind: Option<serde_json::Value>,
}

/// The message of a chat choice.
#[derive(Deserialize)]
struct ChoiceMessage {
	content: Option<String>,
}

/// The URL and JSON body of the endpoint call for `prompt` to the endpoint's `model`, at the
/// API base URL `base_url` (such as `http://127.0.0.1:8080/v1`).
pub fn completion_request(
	base_url: &str,
	api: EndpointApi,
	model: &str,
	prompt: &str,
	sampling: &Sampling,
) -> (String, Vec<u8>) {
	let base = base_url.trim_end_matches('/');
	let temperature = f64::from(sampling.temperature_milli) / 1000.0;
	let (path, body) = match api {
		EndpointApi::Chat => (
			"chat/completions",
			serde_json::to_vec(&ChatRequest {
				model,
				messages: [ChatMessage { role: "user", content: prompt }],
				max_tokens: sampling.max_tokens,
				temperature,
				seed: sampling.seed,
				stream: false,
			}),
		),
		EndpointApi::Completions => (
			"completions",
			serde_json::to_vec(&CompletionRequest {
				model,
				prompt,
				max_tokens: sampling.max_tokens,
				temperature,
				seed: sampling.seed,
				stream: false,
			}),
		),
	};
	// Serialising these structs cannot fail: they hold only strings and numbers.
	(format!("{base}/{path}"), body.unwrap_or_default())
}

/// The output of a completion response: the first choice's message content (chat) or text
/// (completions), as UTF-8 bytes ([`REFUSED`] when it finished with `content_filter`; a text
/// that is exactly [`REFUSED`] with a space after it). The response must name `model` when it
/// names one.
pub fn parse_completion(body: &[u8], model: &str) -> Result<Vec<u8>, Fault> {
	let response: CompletionResponse =
		serde_json::from_slice(body).map_err(|_| Fault::Malformed)?;
	if response.model.as_deref().is_some_and(|named| !names_model(named, model)) {
		return Err(Fault::WrongModel);
	}
	let choice = response.choices.into_iter().next().ok_or(Fault::Malformed)?;
	if choice.finish_reason.as_ref().and_then(|reason| reason.as_str()) == Some("content_filter") {
		return Ok(REFUSED.to_vec());
	}
	let output = match (choice.message.and_then(|m| m.content), choice.text) {
		(Some(content), _) => content,
		(None, Some(text)) => text,
		(None, None) => return Err(Fault::Malformed),
	};
	let mut output = output.into_bytes();
	if output == REFUSED {
		// The model wrote the refusal's name: an answer, never the refusal.
		output.push(b' ');
	}
	Ok(output)
}

/// Whether an endpoint's answer of status `status` with body `body` refuses the prompt on its
/// content policy: a 400 or 422 whose JSON error has a `code` or `type` of
/// [`CONTENT_REFUSAL_CODES`]. Any other refusal (401, 403, 404, 413, a 400 for another reason)
/// is the node's own setup or request at fault, not the prompt's: it is a [`Fault::Status`].
pub fn is_content_refusal(status: u16, body: &[u8]) -> bool {
	if status != 400 && status != 422 {
		return false;
	}
	let Ok(ErrorResponse { error }) = serde_json::from_slice::<ErrorResponse>(body) else {
		return false;
	};
	[error.code, error.kind]
		.iter()
		.flatten()
		.any(|value| value.as_str().is_some_and(|value| CONTENT_REFUSAL_CODES.contains(&value)))
}

/// The output of an endpoint's answer to a completion request for `model`: the completion's
/// ([`parse_completion`]) when `status` is 200, [`REFUSED`] when the endpoint refused the
/// prompt on its content policy ([`is_content_refusal`]), else the [`Fault::Status`].
pub fn completion_output(status: u16, body: &[u8], model: &str) -> Result<Vec<u8>, Fault> {
	match status {
		200 => parse_completion(body, model),
		_ if is_content_refusal(status, body) => Ok(REFUSED.to_vec()),
		_ => Err(Fault::Status(status)),
	}
}

/// Whether a response's `model` names the model asked for: the same name, or the name of one of
/// its dated snapshots (hosted APIs answer `gpt-4o` with `gpt-4o-2024-08-06`).
fn names_model(named: &str, asked: &str) -> bool {
	named == asked
		|| named
			.strip_prefix(asked)
			.and_then(|rest| rest.strip_prefix('-'))
			.is_some_and(|date| {
				!date.is_empty() && date.chars().all(|c| c.is_ascii_digit() || c == '-')
			})
}

/// Whether a fetched referenced input is the task's: it hashes to `hash` and is UTF-8 text.
/// What the prompt is, or the input fault to answer with.
pub fn checked_input(bytes: Vec<u8>, hash: &H256) -> Result<String, Fault> {
	if hash_of(&bytes) != *hash {
		return Err(Fault::InputHashMismatch);
	}
	String::from_utf8(bytes).map_err(|_| Fault::InputNotText)
}

/// Whether a referenced input's URI is one an executor fetches (`http://` or `https://`).
pub fn fetchable_uri(uri: &[u8]) -> Option<&str> {
	core::str::from_utf8(uri)
		.ok()
		.filter(|uri| uri.starts_with("http://") || uri.starts_with("https://"))
}

/// The jury-mode verdict of a juror whose output is `own`, on the revealed output `revealed`.
pub fn accepts(own: &[u8], revealed: &[u8]) -> bool {
	if own == revealed {
		return true;
	}
	let words = |bytes: &[u8]| -> BTreeSet<Vec<u8>> {
		bytes
			.split(|b| b.is_ascii_whitespace())
			.filter(|word| !word.is_empty())
			.map(|word| word.to_ascii_lowercase())
			.collect()
	};
	let (own, revealed) = (words(own), words(revealed));
	let union = own.union(&revealed).count();
	let common = own.intersection(&revealed).count();
	union > 0 && common.saturating_mul(100) >= union.saturating_mul(JURY_ACCEPT_SIMILARITY_PERCENT)
}

/// An exact-match juror's vote: the hash of the output it got itself (`None`: it could not
/// obtain the task's referenced input either, [`INPUT_UNAVAILABLE`]).
pub fn exact_match_vote(own: &Option<Vec<u8>>) -> H256 {
	answer_hash(own)
}

/// A jury-mode juror's vote on the disputed result `result`, from the output it got itself
/// (`None`: input unavailable) and, read only when needed, the revealed output (`None` when it is
/// not on chain): `result` when its own output is the same or close enough ([`accepts`]),
/// [`REFUSED_HASH`] when its endpoint refused the prompt and the result is an answer (a
/// juror cannot judge an answer its endpoint would not give), otherwise [`REJECT`].
pub fn jury_vote(
	own: &Option<Vec<u8>>,
	result: H256,
	revealed: impl FnOnce() -> Option<Vec<u8>>,
) -> H256 {
	let Some(own) = own else { return INPUT_UNAVAILABLE };
	if hash_of(own) == result {
		result
	} else if own.as_slice() == REFUSED {
		REFUSED_HASH
	} else if revealed().is_some_and(|revealed| accepts(own, &revealed)) {
		result
	} else {
		REJECT
	}
}

/// What an executor did for one assignment: kept (by the node in offchain local storage, by the
/// edge agent in its state file) so that a result is committed once and revealed as committed,
/// across restarts.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub enum WorkRecord {
	/// The executor gave up on the task (the fault was logged when it happened).
	Failed,
	/// The reveal is on chain: nothing more to do. Kept until the task is no longer assigned,
	/// so that a late run on older state does not start over.
	Done,
	/// The executor has a result and submitted its commitment.
	Working {
		/// The model's output, or `None` when the referenced input could not be obtained
		/// (committed as [`INPUT_UNAVAILABLE`]).
		output: Option<Vec<u8>>,
		/// The salt of the commitment.
		salt: [u8; 32],
		/// Block at which `commit` was last submitted.
		commit_sent_at: u64,
		/// Block at which `reveal` was last submitted, if it was.
		reveal_sent_at: Option<u64>,
	},
	/// The executor ran every item of a batch, published its outputs document and submitted
	/// the commitment to their root.
	BatchWorking {
		/// The Merkle root of the batch's outputs ([`batch::outputs_root`]).
		root: H256,
		/// Where the outputs document is published.
		uri: Vec<u8>,
		/// The salt of the commitment.
		salt: [u8; 32],
		/// Block at which `commit` was last submitted.
		commit_sent_at: u64,
		/// Block at which `reveal` was last submitted, if it was.
		reveal_sent_at: Option<u64>,
	},
}

/// What a work record holding an answer commits to and reveals.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Answer {
	/// The hash committed to: the output's ([`answer_hash`]) or a batch's outputs root.
	pub hash: H256,
	/// The salt of the commitment.
	pub salt: [u8; 32],
	/// The output revealed inline (none for a batch or an unavailable input).
	pub output: Option<Vec<u8>>,
	/// The URI revealed with it (a batch's outputs document).
	pub uri: Option<Vec<u8>>,
	/// Block at which `commit` was last submitted.
	pub commit_sent_at: u64,
	/// Block at which `reveal` was last submitted, if it was.
	pub reveal_sent_at: Option<u64>,
}

impl WorkRecord {
	/// The answer the record holds: `None` unless it is `Working` or `BatchWorking`.
	pub fn answer(&self) -> Option<Answer> {
		match self {
			WorkRecord::Working { output, salt, commit_sent_at, reveal_sent_at } => Some(Answer {
				hash: answer_hash(output),
				salt: *salt,
				output: output.clone(),
				uri: None,
				commit_sent_at: *commit_sent_at,
				reveal_sent_at: *reveal_sent_at,
			}),
			WorkRecord::BatchWorking { root, uri, salt, commit_sent_at, reveal_sent_at } => {
				Some(Answer {
					hash: *root,
					salt: *salt,
					output: None,
					uri: Some(uri.clone()),
					commit_sent_at: *commit_sent_at,
					reveal_sent_at: *reveal_sent_at,
				})
			},
			WorkRecord::Failed | WorkRecord::Done => None,
		}
	}

	/// The record with the blocks its commitment and its reveal were last sent at set.
	pub fn sent(self, commit_at: u64, reveal_at: Option<u64>) -> Self {
		match self {
			WorkRecord::Working { output, salt, .. } => WorkRecord::Working {
				output,
				salt,
				commit_sent_at: commit_at,
				reveal_sent_at: reveal_at,
			},
			WorkRecord::BatchWorking { root, uri, salt, .. } => WorkRecord::BatchWorking {
				root,
				uri,
				salt,
				commit_sent_at: commit_at,
				reveal_sent_at: reveal_at,
			},
			other => other,
		}
	}
}

/// What a juror did for one seat, kept like a [`WorkRecord`].
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub enum VoteRecord {
	/// The juror could not form a vote (the reason was logged when it happened).
	Failed,
	/// The juror voted and submitted its commitment.
	Voted {
		/// The vote.
		vote: H256,
		/// The salt of the commitment.
		salt: [u8; 32],
		/// Block at which `commit_vote` was last submitted.
		commit_sent_at: u64,
		/// Block at which `reveal_vote` was last submitted, if it was.
		reveal_sent_at: Option<u64>,
	},
}

/// Whether a duty sent at block `sent_at` (if ever) is due to be sent (again) at block `now`.
pub fn due(sent_at: Option<u64>, now: u64) -> bool {
	sent_at.is_none_or(|sent| now >= sent.saturating_add(RESUBMIT_AFTER))
}

/// Blocks after which a heartbeat that has not reached the chain is sent again: a quarter of the
/// liveness period.
pub fn heartbeat_resend_after(liveness_period: u64) -> u64 {
	liveness_period / 4
}

/// `pallet-agents`' heartbeat rule, which the node's off-chain worker and the edge agent both
/// follow: whether an operator key sends its agent's heartbeat at block `now`.
///
/// The agent was last seen at `last_seen` (and is `leaving` or not); the key last sent a
/// heartbeat at `sent_at`, if ever. A heartbeat is due once half the liveness period has passed
/// since the agent was last seen, never for an agent that is leaving; one sent and not on chain
/// yet (sent after the agent was last seen) waits [`heartbeat_resend_after`] blocks before it is
/// sent again. `None`: send nothing; `Some(resend)`: send, `resend` when it is such a repeat (it
/// then goes at the lowest nonce the chain has not used).
pub fn heartbeat_due(
	leaving: bool,
	last_seen: u64,
	sent_at: Option<u64>,
	now: u64,
	liveness_period: u64,
) -> Option<bool> {
	if leaving || now.saturating_sub(last_seen) < liveness_period / 2 {
		return None;
	}
	match sent_at {
		Some(sent)
			if sent > last_seen
				&& now < sent.saturating_add(heartbeat_resend_after(liveness_period)) =>
		{
			None
		},
		Some(sent) => Some(sent > last_seen),
		None => Some(false),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	#[test]
	fn heartbeats_go_at_half_the_period_and_again_a_quarter_later() {
		let period = 200;
		// Seen at 100: nothing until block 200, then a first heartbeat.
		assert_eq!(heartbeat_due(false, 100, None, 199, period), None);
		assert_eq!(heartbeat_due(false, 100, None, 200, period), Some(false));
		// Never for an agent that is leaving.
		assert_eq!(heartbeat_due(true, 100, None, 10_000, period), None);
		// Sent at 200 and not on chain: not again before 250, then again as a resend.
		assert_eq!(heartbeat_due(false, 100, Some(200), 249, period), None);
		assert_eq!(heartbeat_due(false, 100, Some(200), 250, period), Some(true));
		// On chain (the agent was seen at 201, after the send): a new period starts.
		assert_eq!(heartbeat_due(false, 201, Some(200), 300, period), None);
		assert_eq!(heartbeat_due(false, 201, Some(200), 301, period), Some(false));
		// A record of a send before the agent was last seen is an old one: not a resend.
		assert_eq!(heartbeat_due(false, 150, Some(120), 250, period), Some(false));
		assert_eq!(heartbeat_resend_after(period), 50);
	}

	#[test]
	fn only_faults_a_second_call_may_not_have_are_transient() {
		for fault in [Fault::Unreachable, Fault::Timeout, Fault::Status(429), Fault::Status(503)] {
			assert!(fault.is_transient(), "{fault}");
		}
		for fault in [
			Fault::TooLate,
			Fault::Status(400),
			Fault::Status(404),
			Fault::Malformed,
			Fault::WrongModel,
			Fault::Oversized,
			Fault::UnknownModel,
			Fault::InputUnavailable,
		] {
			assert!(!fault.is_transient(), "{fault}");
		}
	}

	#[test]
	fn a_transient_fault_gets_one_more_call_only_in_the_first_block_of_a_phase() {
		assert!(calls_again(&Fault::Timeout, 10, Some(10)));
		assert!(calls_again(&Fault::Status(503), 9, Some(10)));
		// The call made again (at a later block) is the last one.
		assert!(!calls_again(&Fault::Timeout, 11, Some(10)));
		assert!(!calls_again(&Fault::Timeout, 10, None));
		assert!(!calls_again(&Fault::Malformed, 10, Some(10)));
	}

	#[test]
	fn a_call_the_runs_end_cut_short_is_told_from_one_that_hung() {
		let (block, run_end) = (6_000, 106_000);
		// Begun a few milliseconds before the run's end, which was its deadline: cut short.
		assert!(cut_by_run_end(run_end - 3, run_end, run_end, block));
		assert!(cut_by_run_end(run_end - block / 4, run_end, run_end, block));
		// Begun with more than a quarter of a block left, and still not answered: it hung.
		assert!(!cut_by_run_end(run_end - block / 4 - 1, run_end, run_end, block));
		assert!(!cut_by_run_end(run_end - block, run_end, run_end, block));
		// Its own timeout came first: the endpoint's fault, however late it began.
		assert!(!cut_by_run_end(run_end - 3, run_end - 1, run_end, block));
	}

	#[test]
	fn model_mappings_accept_names_aliases_and_ids() {
		let named = parse_model_mapping("ngram-en").unwrap();
		assert_eq!(
			named,
			ModelMapping { id: model_id_of_name("ngram-en"), name: "ngram-en".into() }
		);
		let aliased = parse_model_mapping("llama-3.1-8b=llama3.1:8b").unwrap();
		assert_eq!(aliased.id, model_id_of_name("llama-3.1-8b"));
		assert_eq!(aliased.name, "llama3.1:8b");
		let id = format!("0x{}", "ab".repeat(32));
		let by_id = parse_model_mapping(&format!("{id}=served")).unwrap();
		assert_eq!(by_id.id, H256::repeat_byte(0xab));
		assert!(parse_model_mapping("=x").is_err());
		assert!(parse_model_mapping("x=").is_err());
		assert!(parse_model_mapping("0x1234=short").is_err());
		assert!(parse_model_mapping(&format!("0x{}=bad", "zz".repeat(32))).is_err());
		assert!(parse_model_mapping(&format!("0x{}=bad", "é".repeat(32))).is_err());
		assert!(parse_model_mapping(&format!("0x+{}=bad", "a".repeat(63))).is_err());
	}

	#[test]
	fn input_unavailable_is_the_hash_of_its_name() {
		assert_eq!(INPUT_UNAVAILABLE, hash_of(b"agentchain/input-unavailable"));
	}

	#[test]
	fn outputs_are_cut_on_a_character_boundary() {
		assert_eq!(truncate_output(b"hello".to_vec(), 10), b"hello".to_vec());
		assert_eq!(truncate_output(b"hello".to_vec(), 3), b"hel".to_vec());
		// "é" is two bytes: a cut in its middle steps back before it.
		assert_eq!(truncate_output("aé".as_bytes().to_vec(), 2), b"a".to_vec());
		assert_eq!(truncate_output("aé".as_bytes().to_vec(), 3), "aé".as_bytes().to_vec());
	}

	#[test]
	fn requests_and_responses_follow_the_openai_api() {
		let sampling = Sampling { max_tokens: 16, temperature_milli: 500, seed: 7 };
		let (url, body) =
			completion_request("http://h/v1/", EndpointApi::Chat, "m", "hi", &sampling);
		assert_eq!(url, "http://h/v1/chat/completions");
		let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
		assert_eq!(body["messages"][0]["content"], "hi");
		assert_eq!(body["temperature"], 0.5);
		assert_eq!(body["seed"], 7);
		let (url, _) =
			completion_request("http://h/v1", EndpointApi::Completions, "m", "hi", &sampling);
		assert_eq!(url, "http://h/v1/completions");
		let chat = br#"{"model":"m-2024-08-06","choices":[{"message":{"content":"yes"}}]}"#;
		assert_eq!(parse_completion(chat, "m"), Ok(b"yes".to_vec()));
		let text = br#"{"choices":[{"text":"no"}]}"#;
		assert_eq!(parse_completion(text, "m"), Ok(b"no".to_vec()));
		assert_eq!(
			parse_completion(br#"{"model":"other","choices":[]}"#, "m"),
			Err(Fault::WrongModel)
		);
		assert_eq!(parse_completion(b"{", "m"), Err(Fault::Malformed));
		assert_eq!(parse_completion(br#"{"choices":[]}"#, "m"), Err(Fault::Malformed));
	}

	#[test]
	fn refused_is_the_hash_of_its_name() {
		assert_eq!(hash_of(REFUSED), REFUSED_HASH);
	}

	#[test]
	fn only_a_content_policy_refusal_is_answered_refused() {
		let refused = REFUSED.to_vec();
		// Azure OpenAI's content filter, OpenAI's content policy, by `code` or by `type`.
		let azure = br#"{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400}}"#;
		assert_eq!(completion_output(400, azure, "m"), Ok(refused.clone()));
		let openai = br#"{"error":{"message":"no","type":"invalid_request_error","code":"content_policy_violation"}}"#;
		assert_eq!(completion_output(400, openai, "m"), Ok(refused.clone()));
		let by_type = br#"{"error":{"type":"content_filter"}}"#;
		assert_eq!(completion_output(422, by_type, "m"), Ok(refused.clone()));
		// A completion the filter cut or withheld.
		let finished =
			br#"{"choices":[{"message":{"content":"partial"},"finish_reason":"content_filter"}]}"#;
		assert_eq!(completion_output(200, finished, "m"), Ok(refused.clone()));
		let withheld = br#"{"choices":[{"text":null,"finish_reason":"content_filter"}]}"#;
		assert_eq!(parse_completion(withheld, "m"), Ok(refused));
		let stopped = br#"{"choices":[{"text":"ok","finish_reason":"stop"}]}"#;
		assert_eq!(completion_output(200, stopped, "m"), Ok(b"ok".to_vec()));
		let odd_reason = br#"{"choices":[{"text":"ok","finish_reason":7}]}"#;
		assert_eq!(completion_output(200, odd_reason, "m"), Ok(b"ok".to_vec()));
		// A model told to write the refusal's name answers, and is never taken for a refusal.
		let mimic = br#"{"choices":[{"text":"agentchain:refused"}]}"#;
		assert_eq!(completion_output(200, mimic, "m"), Ok(b"agentchain:refused ".to_vec()));
		// The node's own setup at fault: retried or left unanswered, never answered refused.
		for status in [401, 403, 404, 413, 429, 500] {
			assert_eq!(completion_output(status, azure, "m"), Err(Fault::Status(status)));
		}
		// A 400 for another reason, or whose body is not an error naming the policy.
		let other = br#"{"error":{"message":"max_tokens too large","type":"invalid_request_error","code":"invalid_value"}}"#;
		assert_eq!(completion_output(400, other, "m"), Err(Fault::Status(400)));
		let says_it_in_words = br#"{"error":{"message":"content_filter","code":null}}"#;
		assert_eq!(completion_output(400, says_it_in_words, "m"), Err(Fault::Status(400)));
		assert_eq!(completion_output(400, b"content_filter", "m"), Err(Fault::Status(400)));
		assert_eq!(completion_output(422, b"", "m"), Err(Fault::Status(422)));
	}

	#[test]
	fn referenced_inputs_are_checked() {
		let input = b"prompt".to_vec();
		assert_eq!(checked_input(input.clone(), &hash_of(&input)), Ok("prompt".into()));
		assert_eq!(checked_input(input, &H256::zero()), Err(Fault::InputHashMismatch));
		let bad = vec![0xff, 0xfe];
		assert_eq!(checked_input(bad.clone(), &hash_of(&bad)), Err(Fault::InputNotText));
		assert_eq!(fetchable_uri(b"https://x/y"), Some("https://x/y"));
		assert_eq!(fetchable_uri(b"file:///etc/passwd"), None);
	}

	#[test]
	fn votes_follow_the_mode() {
		let own = Some(b"the cat sat on the mat".to_vec());
		assert_eq!(exact_match_vote(&own), hash_of(b"the cat sat on the mat"));
		assert_eq!(exact_match_vote(&None), INPUT_UNAVAILABLE);
		let result = H256::repeat_byte(1);
		let close = || Some(b"The cat sat on a mat".to_vec());
		let far = || Some(b"buy tokens now at discount".to_vec());
		assert_eq!(jury_vote(&own, result, close), result);
		assert_eq!(jury_vote(&own, result, far), REJECT);
		assert_eq!(jury_vote(&own, result, || None), REJECT);
		assert_eq!(jury_vote(&None, result, close), INPUT_UNAVAILABLE);
		// The same output as the result's: accepted without reading the revealed output.
		let same = hash_of(b"the cat sat on the mat");
		assert_eq!(jury_vote(&own, same, || unreachable!()), same);
		// A juror whose endpoint refused: a refused result is its own; an answer it cannot
		// judge, and says so. A juror that answered finds a refusal as wrong as any output.
		let refused = Some(REFUSED.to_vec());
		assert_eq!(jury_vote(&refused, REFUSED_HASH, || unreachable!()), REFUSED_HASH);
		assert_eq!(jury_vote(&refused, result, || unreachable!()), REFUSED_HASH);
		assert_eq!(jury_vote(&own, REFUSED_HASH, || Some(REFUSED.to_vec())), REJECT);
		assert_eq!(exact_match_vote(&refused), REFUSED_HASH);
	}

	#[test]
	fn jurors_accept_close_outputs_and_reject_unrelated_ones() {
		assert!(accepts(b"the cat sat on the mat", b"the cat sat on the mat"));
		assert!(accepts(b"The cat sat on the mat", b"the cat sat on a mat"));
		assert!(!accepts(b"the cat sat on the mat", b"buy tokens now at discount"));
		assert!(!accepts(b"", b"anything"));
		assert!(accepts(b"", b""));
	}

	#[test]
	fn budgets_leave_the_next_block_and_a_margin() {
		// Phase ends at 10, now 7: blocks 8 and 9 are left, minus the margin.
		assert_eq!(call_budget_ms(10, 7, 3_000), 6_000 - SUBMISSION_MARGIN_MS);
		assert_eq!(call_budget_ms(10, 9, 3_000), 0);
		assert_eq!(call_budget_ms(10, 12, 3_000), 0);
		assert!(due(None, 5));
		assert!(!due(Some(5), 5));
		assert!(due(Some(5), 5 + RESUBMIT_AFTER));
	}

	#[test]
	fn nonces_are_reserved_resent_and_given_back() {
		// Two sends at block 10 while the chain's next nonce is 3; the chain catches up.
		let (first, tracked) = reserve_nonce(None, 3, 10);
		let (second, tracked) = reserve_nonce(Some(tracked), 3, 10);
		assert_eq!((first, second), (3, 4));
		assert_eq!(reserve_nonce(Some(tracked), 7, 11).0, 7);
		// Forgotten after NONCE_MEMORY blocks.
		assert_eq!(reserve_nonce(Some(tracked), 3, 10 + NONCE_MEMORY).0, 3);
		// A resend takes the lowest unused nonce; later reservations go above what was tracked.
		let (resent, after, _, _) = resend_nonce(Some(tracked), None, 3, 12);
		assert_eq!((resent, reserve_nonce(Some(after), 3, 12).0), (3, 5));
		// A nonce not used is given back only if it was the last one reserved.
		assert_eq!(release_nonce(Some(tracked), 4), Some((4, 10)));
		assert_eq!(release_nonce(Some(tracked), 3), None);
	}

	#[test]
	fn resends_at_one_block_take_consecutive_nonces_from_the_chains_next() {
		// Eight duties sent at nonces 15..=22 at block 33 did not reach block 34 (the chain's
		// next nonce is still 15): block 34's worker sends all eight again.
		let mut tracked = Some((23, 33));
		let mut resent = None;
		let mut nonces = Vec::new();
		for _ in 0..8 {
			let (nonce, track, cursor, fresh) = resend_nonce(tracked, resent, 15, 34);
			assert!(!fresh);
			nonces.push(nonce);
			(tracked, resent) = (Some(track), Some(cursor));
		}
		// At one nonce, only one of the eight could land a block.
		assert_eq!(nonces, (15..23).collect::<Vec<_>>());
		// A first send goes above them; a ninth resend is fresh, above that.
		let (first, track) = reserve_nonce(tracked, 15, 34);
		assert_eq!(first, 23);
		let (ninth, track, _, fresh) = resend_nonce(Some(track), resent, 15, 34);
		assert_eq!((ninth, fresh), (24, true));
		// The next block starts again at the chain's next nonce, whatever was resent before.
		assert_eq!(resend_nonce(Some(track), resent, 19, 35).0, 19);
		// The chain moved past the resends of this block: its next nonce wins.
		assert_eq!(resend_nonce(Some(track), Some((34, 16, 23)), 20, 34).0, 20);
	}

	#[test]
	fn a_resend_never_takes_a_nonce_a_first_send_of_its_block_took() {
		// Nothing outstanding: the chain's next nonce is the tracked one.
		let tracked = Some((15, 33));
		let (a, tracked, resent, fresh) = resend_nonce(tracked, None, 15, 34);
		assert_eq!((a, fresh), (15, true));
		let (b, tracked) = reserve_nonce(Some(tracked), 15, 34);
		let (c, tracked, resent, fresh) = resend_nonce(Some(tracked), Some(resent), 15, 34);
		assert_eq!((b, c, fresh), (16, 17, true));
		let (d, _) = reserve_nonce(Some(tracked), 15, 34);
		assert_eq!(d, 18);
		// A worker of block 33 still running continues block 34's cursor instead of starting
		// again at the chain's next nonce (a nonce block 34's worker already resent).
		let (e, _, _, _) = resend_nonce(Some(tracked), Some((34, 16, 20)), 15, 33);
		assert_eq!(e, 16);
		assert_eq!(resent.0, 34);
	}

	#[test]
	fn commitments_bind_the_account() {
		let salt = [3u8; 32];
		let a = commitment_of(&H256::repeat_byte(1), &salt, &[1u8; 32]);
		assert_ne!(a, commitment_of(&H256::repeat_byte(1), &salt, &[2u8; 32]));
		assert_ne!(
			vote_commitment(1, 0, &REJECT, &salt, &[1u8; 32]),
			vote_commitment(1, 1, &REJECT, &salt, &[1u8; 32])
		);
	}
}
